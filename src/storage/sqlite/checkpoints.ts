// When the writer copies the write-ahead log back into the database file (a WAL checkpoint).
//
// A checkpoint copies every page written since the last one from the WAL into the database file
// and fsyncs it: about as much kernel work as writing the WAL in the first place. SQLite runs one
// inside a commit whenever the WAL passes `wal_autocheckpoint` pages, so under a burst of large
// messages every few dozen spool commits carried a copy of the burst's last 16 MB, and the 250s of
// the clients waiting on that commit waited with it. While spool commits keep coming, the writer
// lets the WAL grow (up to a bound) and checkpoints once they pause. Readers are unaffected either
// way (they read a page from the WAL while it is there); durability does not depend on when the
// copy happens (ADR 0016).
import type { DatabaseSync } from 'node:sqlite';

/** The automatic checkpoint between bursts, in pages (open.ts sets it for every connection). */
export const CHECKPOINT_PAGES = 4000;
/**
 * The most a burst leaves in the WAL before SQLite checkpoints anyway: 65,536 pages of 4 KiB,
 * 256 MiB of disk. Past it, the automatic checkpoint runs inside commits again, as between bursts.
 */
export const BURST_CHECKPOINT_PAGES = 65_536;
/** Spool commits this far apart end a burst; the deferred checkpoint runs then. */
export const CHECKPOINT_IDLE_MS = 100;
/** The WAL file is cut back to this size when it restarts after a checkpoint (it is reused, not deleted). */
export const WAL_KEEP_BYTES = 64 * 1024 * 1024;

export class Checkpoints {
  private readonly db: DatabaseSync;
  private readonly idleMs: number;
  private deferring = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(db: DatabaseSync, idleMs = CHECKPOINT_IDLE_MS) {
    this.db = db;
    this.idleMs = idleMs;
    db.exec(`PRAGMA journal_size_limit = ${WAL_KEEP_BYTES}`);
  }

  /** After a commit that appended to the spool: the checkpoint waits until such commits pause. */
  spoolCommitted(): void {
    if (!this.deferring) {
      this.db.exec(`PRAGMA wal_autocheckpoint = ${BURST_CHECKPOINT_PAGES}`);
      this.deferring = true;
    }
    if (this.timer) this.timer.refresh();
    else {
      this.timer = setTimeout(() => this.checkpoint(), this.idleMs);
      this.timer.unref();
    }
  }

  /** Copies what the WAL holds into the database now (PASSIVE: readers and later commits go on). */
  checkpoint(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.deferring) return;
    this.deferring = false;
    this.db.exec('PRAGMA wal_checkpoint(PASSIVE)');
    this.db.exec(`PRAGMA wal_autocheckpoint = ${CHECKPOINT_PAGES}`);
  }

  /** Stops the timer (the writer is closing: closing the connection checkpoints). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
