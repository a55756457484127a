import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RETRY_SCHEDULE, nextAttemptAt, retryDelay } from '../../src/outbound/retry-schedule.ts';

const MIN = 60_000;

describe('retry schedule', () => {
  it('starts at 5 minutes and doubles up to Postfix-like 4000 s', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7].map((n) => retryDelay(DEFAULT_RETRY_SCHEDULE, n));
    assert.deepEqual(delays, [5 * MIN, 10 * MIN, 20 * MIN, 40 * MIN, 4_000_000, 4_000_000, 4_000_000]);
    // Absurd attempt counts stay at the cap instead of overflowing.
    assert.equal(retryDelay(DEFAULT_RETRY_SCHEDULE, 10_000), 4_000_000);
  });

  it('keeps the last try at the deadline and expires after five days', () => {
    const queued = Date.parse('2026-11-24T00:00:00Z');
    const deadline = queued + 5 * 24 * 60 * MIN;
    assert.equal(nextAttemptAt(DEFAULT_RETRY_SCHEDULE, 1, queued, queued + MIN), queued + 6 * MIN);
    assert.equal(nextAttemptAt(DEFAULT_RETRY_SCHEDULE, 40, queued, deadline - MIN), deadline);
    assert.equal(nextAttemptAt(DEFAULT_RETRY_SCHEDULE, 41, queued, deadline), null);
  });
});
