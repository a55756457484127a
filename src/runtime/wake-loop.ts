// One pass of work at a time, started on demand: wake() during a pass asks for one more pass
// after it, however many times it is called. The delivery worker, the route runner and the
// action runner look at their queues this way, on events and on a timer.

export class WakeLoop {
  private readonly pass: () => Promise<unknown>;
  private readonly onError: (err: unknown) => void;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(pass: () => Promise<unknown>, onError: (err: unknown) => void) {
    this.pass = pass;
    this.onError = onError;
  }

  /** Runs a pass now, or once more after the one under way. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .then(() => undefined)
      .catch(this.onError)
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Asks for one more pass after the one under way (same as wake() during a pass). */
  requestAnother(): void {
    this.again = true;
  }

  /** No pass starts after this; resolves when the one under way has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}
