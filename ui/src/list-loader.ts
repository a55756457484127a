// Fetches the pages of a ListModel that the virtual list shows: only pages with missing or stale
// rows in the visible range, one request per page at a time, requests for pages scrolled far
// away aborted. Scrolling fast through 100,000 rows therefore asks only for where it stops.
import type { Keyed, ListModel } from './list-model.ts';

/** One page as the server answered it. */
export interface PageResult<T> {
  total: number;
  items: T[];
}

export type FetchPage<T> = (start: number, limit: number, signal: AbortSignal) => Promise<PageResult<T>>;

/** Rows kept around the visible range; farther rows are dropped to bound memory. */
const KEEP_AROUND = 3000;

export class ListLoader<T extends Keyed> {
  private readonly inflight = new Map<number, { ctrl: AbortController; epoch: number }>();
  private first = 0;
  private last = 0;
  private closed = false;

  /** Called with each failure (not with aborts). */
  onError: (err: Error) => void = () => {};

  readonly model: ListModel<T>;
  readonly pageSize: number;
  private readonly fetchPage: FetchPage<T>;

  constructor(model: ListModel<T>, fetchPage: FetchPage<T>, pageSize = 100) {
    this.model = model;
    this.fetchPage = fetchPage;
    this.pageSize = pageSize;
  }

  /** Requests whatever the index range [first, last) lacks. */
  ensure(first: number, last: number): void {
    if (this.closed) return;
    this.first = Math.max(0, first);
    this.last = Math.max(this.first, last);
    const ps = this.pageSize;
    const total = this.model.loaded ? this.model.total : Math.max(this.last, ps);
    const end = Math.min(this.last, total);
    const wantFrom = Math.floor(this.first / ps);
    const wantTo = end > this.first ? Math.floor((end - 1) / ps) : wantFrom;

    // Pages far from the visible range are not worth finishing.
    for (const [start, req] of this.inflight) {
      const page = start / ps;
      if (page < wantFrom - 1 || page > wantTo + 1) {
        req.ctrl.abort();
        this.inflight.delete(start);
      }
    }
    if (!this.model.loaded) {
      this.request(wantFrom * ps);
      return;
    }
    for (let p = wantFrom; p <= wantTo; p++) {
      const start = p * ps;
      const stop = Math.min(start + ps, total);
      let need = false;
      for (let i = Math.max(start, this.first); i < stop && i < end; i++) {
        if (!this.model.isFresh(i)) {
          need = true;
          break;
        }
      }
      if (need) this.request(start);
    }
  }

  private request(start: number): void {
    const running = this.inflight.get(start);
    if (running && running.epoch === this.model.epoch) return;
    running?.ctrl.abort();
    const ctrl = new AbortController();
    const epoch = this.model.epoch;
    this.inflight.set(start, { ctrl, epoch });
    this.fetchPage(start, this.pageSize, ctrl.signal).then(
      (page) => {
        if (this.inflight.get(start)?.ctrl === ctrl) this.inflight.delete(start);
        if (this.closed || ctrl.signal.aborted) return;
        this.model.applyPage(start, page.total, page.items, epoch);
        if (this.model.size > KEEP_AROUND * 2) {
          this.model.evictOutside(this.first - KEEP_AROUND, this.last + KEEP_AROUND);
        }
        // The list may have moved on (or gone stale) while this page was on its way.
        if (epoch !== this.model.epoch) this.ensure(this.first, this.last);
      },
      (err: Error) => {
        if (this.inflight.get(start)?.ctrl === ctrl) this.inflight.delete(start);
        if (this.closed || err.name === 'AbortError') return;
        this.onError(err);
      },
    );
  }

  /** Marks everything stale and refetches the visible range (rows stay on screen meanwhile). */
  refresh(): void {
    this.model.invalidate();
    this.ensure(this.first, this.last);
  }

  /** True while any page request is running. */
  get busy(): boolean {
    return this.inflight.size > 0;
  }

  /** Aborts everything; the loader ignores later calls. */
  close(): void {
    this.closed = true;
    for (const req of this.inflight.values()) req.ctrl.abort();
    this.inflight.clear();
  }
}
