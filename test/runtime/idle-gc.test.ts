import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { startIdleGc } from '../../src/runtime/idle-gc.ts';

const MIB = 1024 * 1024;

/** Waits until `cond` holds, checking every 20 ms, at most `limit` checks. */
async function waitFor(cond: () => boolean, limit = 250): Promise<boolean> {
  for (let i = 0; i < limit && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  return cond();
}

describe('idle collection', () => {
  it('collects once the thread is idle after its memory grew, then not again without new growth', async () => {
    let calls = 0;
    const collected: number[] = [];
    const idle = startIdleGc({
      gc: () => calls++,
      checkMs: 30,
      // Only a loop held most of a period counts as busy: a loaded CI machine must not look busy.
      idleUtilization: 0.5,
      minGrowthBytes: 2 * MIB,
      onCollect: (info) => collected.push(info.freedBytes),
    });
    try {
      // Starting up counts as busy: the first quiet period collects once, then nothing.
      assert.ok(await waitFor(() => calls >= 1), 'a collection ran after start-up');
      await new Promise((r) => setTimeout(r, 200));
      const started = calls;
      assert.equal(started, 1, 'one collection after start-up, none without growth');
      // 8 MiB of external memory appears, kept alive: growth the collector should react to.
      const grown = Buffer.alloc(8 * MIB, 1);
      assert.ok(await waitFor(() => calls > started), 'a collection ran after the growth');
      assert.equal(idle.collections, calls);
      assert.equal(collected.length, calls);
      const after = calls;
      // Nothing grows any more: several idle periods pass without another collection.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(calls, after, 'no collection without new growth');
      assert.equal(grown[0], 1);
    } finally {
      idle.stop();
    }
  });

  it('collects once after a busy stretch even when the heap did not grow', async () => {
    let calls = 0;
    const idle = startIdleGc({
      gc: () => calls++,
      checkMs: 40,
      idleUtilization: 0.5,
      minGrowthBytes: 1024 * MIB,
    });
    try {
      await new Promise((r) => setTimeout(r, 100));
      const quiet = calls;
      // Busy: the event loop is held for most of a check period.
      const until = performance.now() + 120;
      while (performance.now() < until) {}
      assert.ok(await waitFor(() => calls > quiet), 'a collection followed the busy stretch');
      const after = calls;
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(calls, after, 'and only one');
    } finally {
      idle.stop();
    }
  });

  it('asks V8 for the collection that also shrinks the young generation and returns pooled pages', async () => {
    // A child with --expose-gc grows its young generation with survivors, drops them and calls the
    // collector exposedGc() returns; V8's plain gc() would leave the grown young generation.
    const moduleUrl = new URL('../../src/runtime/idle-gc.ts', import.meta.url).href;
    const script = `
      import(${JSON.stringify(moduleUrl)}).then(({ exposedGc }) => {
        const v8 = require('node:v8');
        const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
        let keep = [];
        for (let i = 0; i < 2e6; i++) { const o = { i, s: 'x' + i }; if (i % 5 === 0) keep.push(o); }
        keep = null;
        const grown = young();
        exposedGc()();
        console.log(JSON.stringify({ grown, after: young() }));
      });`;
    const child = spawn(process.execPath, ['--expose-gc', '--max-semi-space-size=8', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0);
    const { grown, after } = JSON.parse(out) as { grown: number; after: number };
    assert.ok(grown >= 4 * MIB, `the young generation grew (${grown} bytes)`);
    assert.ok(after <= grown / 4, `and shrank after the collection (${grown} → ${after} bytes)`);
  });

  it('does nothing without a collector (the process runs without --expose-gc)', async () => {
    const idle = startIdleGc({ gc: undefined, checkMs: 10, minGrowthBytes: 1 });
    const grown = Buffer.alloc(4 * MIB, 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(idle.collections, 0);
    assert.equal(grown[0], 1);
    idle.stop();
  });

  it('finds the collector of --expose-gc in a worker thread and runs it there', async () => {
    // V8 flags are per process: a child node with --expose-gc runs a worker that uses the module.
    const moduleUrl = new URL('../../src/runtime/idle-gc.ts', import.meta.url).href;
    const workerBody = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(moduleUrl)}).then(({ startIdleGc }) => {
        startIdleGc({ checkMs: 30, minGrowthBytes: 1024 * 1024,
          onCollect: (info) => parentPort.postMessage(info.freedBytes) });
        setInterval(() => {}, 1000); // the collector's own timer never keeps a thread alive
        // Garbage: 64 buffers of 256 KiB, dropped at once.
        let junk = []; for (let i = 0; i < 64; i++) junk.push(Buffer.alloc(256 * 1024, 1)); junk = null;
      });`;
    const main = `
      const { Worker } = require('node:worker_threads');
      const w = new Worker(${JSON.stringify(workerBody)}, { eval: true });
      w.on('message', (freed) => { console.log(JSON.stringify({ exposed: typeof gc === 'function', freed })); process.exit(0); });`;
    const child = spawn(process.execPath, ['--expose-gc', '-e', main], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0);
    const result = JSON.parse(out) as { exposed: boolean; freed: number };
    assert.equal(result.exposed, true);
    assert.equal(typeof result.freed, 'number', 'a collection ran in the worker');
  });
});
