// Transactions that PostgreSQL aborts to break a deadlock (40P01) or a serialization conflict
// (40001) did nothing and may simply run again. A delete of every message racing the parse
// runner's batch of updates is the case seen in practice: both lock many message rows, in
// different orders.
import { setTimeout as sleep } from 'node:timers/promises';

const RETRYABLE = new Set(['40P01', '40001']);

export async function retryTransient<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (attempt >= attempts || !RETRYABLE.has(code)) throw err;
      // Jittered, growing pause so the two sides do not collide again in step.
      await sleep(attempt * 10 + Math.random() * 20);
    }
  }
}
