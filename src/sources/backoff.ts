// Reconnect pacing for the pollers: exponential backoff with jitter, and the loop that keeps a
// polling session alive until stop. Jitter keeps many accounts on one server (or one restarted
// server) from reconnecting in lockstep.
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../observability/logger.ts';
import type { BackoffPolicy, Sleep } from './types.ts';

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 5 * 60_000 };

/**
 * The wait before reconnect attempt `attempt` (1 for the first retry): the ceiling doubles each
 * time up to maxMs, and the wait is drawn between half the ceiling and the ceiling ("equal
 * jitter"), so it is spread out but never so short that a dead server is hammered.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Node fires a timer beyond 2^31-1 ms at once, so longer waits are cut to that (24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Real timers; an abort ends the wait early without an error. */
export const realSleep: Sleep = async (ms, signal) => {
  try {
    await delay(Math.min(ms, MAX_TIMER_MS), undefined, { signal });
  } catch (err) {
    if (!signal?.aborted) throw err;
  }
};

export interface SessionLoop {
  signal: AbortSignal;
  policy: BackoffPolicy;
  random: () => number;
  sleep: Sleep;
  logger: Logger;
  /**
   * One connection's life: returns when the signal aborts, throws when the connection fails.
   * Calls `healthy()` after each pass that completed, which resets the backoff.
   */
  session(healthy: () => void): Promise<void>;
}

/** Runs sessions one after another until the signal aborts, waiting with backoff after failures. */
export async function runSessions(loop: SessionLoop): Promise<void> {
  let attempt = 0;
  while (!loop.signal.aborted) {
    try {
      await loop.session(() => {
        attempt = 0;
      });
    } catch (err) {
      if (loop.signal.aborted) return;
      attempt += 1;
      const waitMs = backoffDelay(attempt, loop.policy, loop.random);
      loop.logger.warn({ err, attempt, waitMs }, 'poll session failed; reconnecting after a pause');
      await loop.sleep(waitMs, loop.signal);
    }
  }
}
