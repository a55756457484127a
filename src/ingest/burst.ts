// Whether this process's spool is taking a burst of mail: the parse runner defers parsing while it
// does (ADR 0015).

/** A burst: the last BURST_MESSAGES commits within BURST_SPAN_MS, the latest within BURST_GAP_MS. */
const BURST_MESSAGES = 64;
const BURST_SPAN_MS = 120;
export const BURST_GAP_MS = 10;

/**
 * Tells whether the spool is taking a burst (about 530 messages a second or more, still going).
 * Parsing a message costs about as much CPU as accepting it, partly on the threads that accept
 * (saving it, and the main thread's share); on a small machine parsing in step with a burst
 * halves the rate the door can take it at, and slows a client that sends one message per
 * connection by a quarter. Deferred, the parses run right after the burst, and the messages are
 * listed meanwhile (ADR 0015).
 */
export class Burst {
  /** Commit times, a ring of the last BURST_MESSAGES. */
  private readonly times = new Float64Array(BURST_MESSAGES);
  private count = 0;

  committed(now: number): void {
    this.times[this.count % BURST_MESSAGES] = now;
    this.count++;
  }

  active(now: number): boolean {
    if (this.count < BURST_MESSAGES) return false;
    const latest = this.times[(this.count - 1) % BURST_MESSAGES]!;
    const oldest = this.times[this.count % BURST_MESSAGES]!;
    return now - latest < BURST_GAP_MS && latest - oldest < BURST_SPAN_MS;
  }
}
