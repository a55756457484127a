// The wake loop: one pass at a time, wake-ups during a pass folded into one more pass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WakeLoop } from '../../src/runtime/wake-loop.ts';

describe('wake loop', () => {
  it('folds wake-ups during a pass into one more pass, and stops after the pass under way', async () => {
    let passes = 0;
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    const errors: unknown[] = [];
    const loop = new WakeLoop(
      async () => {
        passes++;
        await gate;
      },
      (err) => errors.push(err),
    );
    loop.wake();
    loop.wake();
    loop.wake();
    assert.equal(passes, 1);
    const first = release;
    gate = new Promise<void>((r) => (release = r));
    first();
    await new Promise((r) => setImmediate(r));
    assert.equal(passes, 2);
    loop.requestAnother();
    const stopping = loop.stop();
    release();
    await stopping;
    await new Promise((r) => setImmediate(r));
    // The pass asked for during the last one does not start once stopped.
    assert.equal(passes, 2);
    loop.wake();
    assert.equal(passes, 2);
    assert.deepEqual(errors, []);
  });

  it('reports a failed pass and goes on', async () => {
    const errors: unknown[] = [];
    let n = 0;
    const loop = new WakeLoop(
      async () => {
        n++;
        if (n === 1) throw new Error('boom');
      },
      (err) => errors.push(err),
    );
    loop.wake();
    await new Promise((r) => setImmediate(r));
    loop.wake();
    await new Promise((r) => setImmediate(r));
    assert.equal(n, 2);
    assert.equal((errors[0] as Error).message, 'boom');
    await loop.stop();
  });
});
