// The client-side window onto a (possibly huge) message list: only the pages the user has looked
// at are held, keyed by position counted from the OLDEST message. That key does not change when
// new mail arrives on top, so live inserts cost O(1) and cached pages stay valid; deletions shift
// the keys above them. Pure TypeScript (no DOM), so node:test covers it.

/** What the model needs of a list row. */
export interface Keyed {
  ID: string;
}

interface Entry<T> {
  item: T;
  /** The model's epoch when this row was fetched; rows of an older epoch are shown but refetched. */
  epoch: number;
}

/** A sparse, observable list of `total` rows, newest first, of which some are loaded. */
export class ListModel<T extends Keyed> {
  /** How many rows the list has (the server's count, adjusted by live events). */
  total = 0;
  /** True once a first page (and so the real total) has arrived. */
  loaded = false;
  /** Bumped by invalidate(): every row held is then stale until fetched again. */
  epoch = 0;
  /** Bumped on every change; components compare it to know when to render. */
  version = 0;

  private readonly byKey = new Map<number, Entry<T>>();
  private readonly keyOf = new Map<string, number>();
  private readonly listeners = new Set<() => void>();

  /** Calls `fn` after every change; returns the unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    this.version++;
    for (const fn of this.listeners) fn();
  }

  private keyAt(index: number): number {
    return this.total - 1 - index;
  }

  /** Rows currently held (for eviction decisions and tests). */
  get size(): number {
    return this.byKey.size;
  }

  /** The row at `index` (0 = newest), or undefined when not loaded. */
  itemAt(index: number): T | undefined {
    if (index < 0 || index >= this.total) return undefined;
    return this.byKey.get(this.keyAt(index))?.item;
  }

  /** True when the row at `index` is loaded and was fetched in the current epoch. */
  isFresh(index: number): boolean {
    const e = this.byKey.get(this.keyAt(index));
    return e !== undefined && e.epoch === this.epoch;
  }

  /** The index of a loaded row, or -1. */
  indexOf(id: string): number {
    const key = this.keyOf.get(id);
    return key === undefined ? -1 : this.total - 1 - key;
  }

  get(id: string): T | undefined {
    const key = this.keyOf.get(id);
    return key === undefined ? undefined : this.byKey.get(key)?.item;
  }

  private place(key: number, item: T, epoch: number): void {
    const old = this.keyOf.get(item.ID);
    if (old !== undefined && old !== key) this.byKey.delete(old);
    const prev = this.byKey.get(key);
    if (prev && prev.item.ID !== item.ID) this.keyOf.delete(prev.item.ID);
    this.byKey.set(key, { item, epoch });
    this.keyOf.set(item.ID, key);
  }

  private dropFrom(total: number): void {
    for (const [key, e] of this.byKey) {
      if (key >= total || key < 0) {
        this.byKey.delete(key);
        if (this.keyOf.get(e.item.ID) === key) this.keyOf.delete(e.item.ID);
      }
    }
  }

  /**
   * Stores one page fetched from `start` while the server held `total` matching rows. The page's
   * total becomes the list's: it is the newest count the server has given.
   */
  applyPage(start: number, total: number, items: readonly T[], epoch = this.epoch): void {
    this.total = Math.max(total, 0);
    this.loaded = true;
    for (let j = 0; j < items.length; j++) {
      const item = items[j];
      if (item) this.place(total - 1 - (start + j), item, epoch);
    }
    this.dropFrom(this.total);
    this.changed();
  }

  /** A new row on top (live mail). False, and no change, when the row is already held. */
  prepend(item: T): boolean {
    if (this.keyOf.has(item.ID)) return false;
    this.place(this.total, item, this.epoch);
    this.total++;
    this.changed();
    return true;
  }

  /** Changes fields of a held row; returns the row as it was, or undefined when not held. */
  update(id: string, patch: Partial<T>): T | undefined {
    const key = this.keyOf.get(id);
    if (key === undefined) return undefined;
    const entry = this.byKey.get(key);
    if (!entry) return undefined;
    this.byKey.set(key, { item: { ...entry.item, ...patch }, epoch: entry.epoch });
    this.changed();
    return entry.item;
  }

  /**
   * Removes rows by id; rows above each removed one move down a place. Ids that are not held
   * cannot be placed: they are counted in `unknown` and, when `countUnknown` (the list shows
   * every message, so they were in it), still shrink the total (held rows keep their index) and
   * make every held row stale.
   */
  remove(ids: readonly string[], countUnknown: boolean): { known: number; unknown: number } {
    const removed: number[] = [];
    let unknown = 0;
    for (const id of ids) {
      const key = this.keyOf.get(id);
      if (key === undefined) unknown++;
      else removed.push(key);
    }
    if (removed.length) {
      removed.sort((a, b) => a - b);
      const entries = [...this.byKey.entries()].sort((a, b) => a[0] - b[0]);
      this.byKey.clear();
      this.keyOf.clear();
      let r = 0;
      for (const [key, entry] of entries) {
        while (r < removed.length && (removed[r] as number) < key) r++;
        if (removed[r] === key) continue;
        this.byKey.set(key - r, entry);
        this.keyOf.set(entry.item.ID, key - r);
      }
    }
    if (countUnknown && unknown) {
      // Where an unknown row was is not known; most likely below the rows held (they are usually
      // the newest), so the held rows keep their index. A refetch (the epoch moves) settles it.
      const entries = [...this.byKey.entries()];
      this.byKey.clear();
      this.keyOf.clear();
      for (const [key, entry] of entries) {
        if (key - unknown < 0) continue;
        this.byKey.set(key - unknown, entry);
        this.keyOf.set(entry.item.ID, key - unknown);
      }
      this.epoch++;
    }
    this.total = Math.max(0, this.total - removed.length - (countUnknown ? unknown : 0));
    if (removed.length || (countUnknown && unknown)) this.changed();
    return { known: removed.length, unknown };
  }

  /** Marks every held row stale; they stay visible until fresh pages replace them. */
  invalidate(): void {
    this.epoch++;
    this.changed();
  }

  /** Forgets everything (mailbox emptied, or a different list). */
  clear(total = 0): void {
    this.byKey.clear();
    this.keyOf.clear();
    this.total = total;
    this.epoch++;
    this.changed();
  }

  /** Drops held rows outside [first, last) to bound memory; no notification (nothing visible changes). */
  evictOutside(first: number, last: number): void {
    for (const [key, e] of this.byKey) {
      const index = this.total - 1 - key;
      if (index < first || index >= last) {
        this.byKey.delete(key);
        if (this.keyOf.get(e.item.ID) === key) this.keyOf.delete(e.item.ID);
      }
    }
  }
}
