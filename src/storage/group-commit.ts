// Group commit: callers that arrive while a flush is in flight wait for the next flush, which
// carries all of them in one transaction. Under load one fsync covers many messages; an idle
// server flushes a lone message at once (no timer, so no added latency).
export class GroupCommitter<T> {
  private pending: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private flushing = false;
  private readonly flush: (items: T[]) => Promise<void>;
  private readonly maxBatch: number;
  /** Sizes of the batches flushed, for metrics. */
  onBatch: ((size: number, ms: number) => void) | null = null;

  constructor(flush: (items: T[]) => Promise<void>, maxBatch = 512) {
    this.flush = flush;
    this.maxBatch = maxBatch;
  }

  submit(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.flushing) void this.run();
    });
  }

  private async run(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
        const started = performance.now();
        try {
          await this.flush(batch.map((b) => b.item));
          for (const b of batch) b.resolve();
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
        try {
          this.onBatch?.(batch.length, performance.now() - started);
        } catch {
          // A metrics callback must never stall the committer.
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
