// Whether this process's spool is taking a burst of mail: the parse runner defers parsing while it
// does (ADR 0015).

/**
 * A burst: the last BURST_MESSAGES commits within BURST_SPAN_MS (or, before there were that many,
 * at least BURST_MIN commits at the same rate), and the latest one more recent than twice the time
 * those took (at least BURST_GAP_MS). Seen after 16 commits, a burst of 100 KB messages is
 * deferred from its first group commits on; after 64, the first batches of 64 had already started.
 * Messages committed together (one group commit) reach the runner one right after the other, so
 * the gaps between commits grow with the time a group commit takes: 50 clients' 100 KB messages make group commits of 10–30 ms, and the
 * writer now and then stalls for longer (an fsync); a burst of them must not look over between
 * two of them.
 */
const BURST_MESSAGES = 64;
const BURST_MIN = 16;
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
    const n = Math.min(this.count, BURST_MESSAGES);
    if (n < BURST_MIN) return false;
    const latest = this.times[(this.count - 1) % BURST_MESSAGES]!;
    const span = latest - this.times[(this.count - n) % BURST_MESSAGES]!;
    const within = (BURST_SPAN_MS * (n - 1)) / (BURST_MESSAGES - 1);
    return span < within && now - latest < Math.max(BURST_GAP_MS, 2 * span);
  }
}
