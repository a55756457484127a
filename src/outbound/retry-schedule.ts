// When a deferred delivery is tried again, and when it gives up. The default follows Postfix:
// minimal_backoff_time 300 s, doubling per attempt up to maximal_backoff_time 4000 s (about 67
// minutes), and maximal_queue_lifetime 5 days, after which the message bounces as expired.

export interface RetrySchedule {
  /** Delay after the first failed attempt. */
  firstMs: number;
  /** The delay stops doubling here. */
  maxMs: number;
  /** Counted from when the message was queued; no attempt starts after it. */
  lifetimeMs: number;
}

export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = {
  firstMs: 300_000,
  maxMs: 4_000_000,
  lifetimeMs: 5 * 24 * 3_600_000,
};

/** The delay after `attempts` failed attempts (1 for the first): first, doubled each time, capped. */
export function retryDelay(schedule: RetrySchedule, attempts: number): number {
  const doublings = Math.max(0, attempts - 1);
  // 2^31 already exceeds any sensible cap; stop before the number grows without bound.
  return Math.min(schedule.maxMs, schedule.firstMs * 2 ** Math.min(doublings, 31));
}

/**
 * After a temporary failure: the time of the next attempt, or null when the delivery has run out
 * of lifetime and expires now. The last attempt is moved to the end of the lifetime rather than
 * skipped, so a message always gets a try at its deadline.
 */
export function nextAttemptAt(
  schedule: RetrySchedule,
  attempts: number,
  queuedAt: number,
  now: number,
): number | null {
  const deadline = queuedAt + schedule.lifetimeMs;
  if (now >= deadline) return null;
  return Math.min(now + retryDelay(schedule, attempts), deadline);
}
