// ParseRunner end to end on each storage backend: messages go into the spool, the runner parses
// them through a real ParsePool, and the store shows the parsed fields or the parse error.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { newMessageId } from '../../src/domain/ids.ts';
import { EventBus } from '../../src/events/bus.ts';
import { ParseRunner } from '../../src/ingest/parse-runner.ts';
import { ParsePool } from '../../src/mime/parse-pool.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import type { Storage } from '../../src/storage/ports.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { envelope } from '../helpers/fixtures.ts';
import { fixture, manyParts } from './corpus.ts';

const MiB = 1024 * 1024;

function logSink(lines: Record<string, unknown>[]) {
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return createLogger('debug', stream);
}

/** Resolves once every id in `ids` has been announced as parsed. */
function parsedEvents(events: EventBus, ids: string[]): Promise<Map<string, boolean>> {
  const seen = new Map<string, boolean>();
  return new Promise((resolve) => {
    const off = events.on('message:parsed', ({ id, ok }) => {
      if (ids.includes(id)) seen.set(id, ok);
      if (seen.size === ids.length) {
        off();
        resolve(seen);
      }
    });
  });
}

async function spool(storage: Storage, raw: Uint8Array): Promise<string> {
  const id = newMessageId();
  await storage.appendSpool([{ id, envelope: envelope(), raw }]);
  return id;
}

// Nesting beyond the parser's depth limit: a message postal-mime refuses outright.
const UNPARSEABLE = Buffer.from(
  `Subject: too deep\r\n${Array.from({ length: 150 }, (_, i) => `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`).join('')}x\r\n`,
);

for (const backend of BACKENDS) {
  describe(`ParseRunner on ${backend.name}`, () => {
    let ctx: Awaited<ReturnType<typeof backend.create>>;
    let pool: ParsePool;
    before(async () => {
      ctx = await backend.create();
      pool = ParsePool.start({ workers: 2, timeoutMs: 10_000, memoryBytes: 128 * MiB });
    });
    after(async () => {
      await pool.close();
      await ctx.cleanup();
    });

    it('parses the backlog, announced messages and unannounced ones; failures are kept with their error', async () => {
      const { storage } = ctx;
      const backlog = await spool(storage, fixture('attachments.eml'));
      const broken = await spool(storage, UNPARSEABLE);
      const events = new EventBus();
      const metrics = createMetrics();
      const lines: Record<string, unknown>[] = [];
      const runner = new ParseRunner({
        storage,
        parser: pool,
        events,
        metrics,
        logger: logSink(lines),
        concurrency: 2,
        pollMs: 100,
      });
      const firstWave = parsedEvents(events, [backlog, broken]);
      runner.start();
      assert.deepEqual(
        await firstWave,
        new Map([
          [backlog, true],
          [broken, false],
        ]),
      );

      const announced = await spool(storage, fixture('latin1.eml'));
      const otherNode = await spool(storage, fixture('shift-jis.eml'));
      const secondWave = parsedEvents(events, [announced, otherNode]);
      events.emit('message:stored', { id: announced });
      events.emit('message:stored', { id: announced }); // a duplicate announcement must not parse twice
      assert.equal((await secondWave).size, 2); // otherNode was never announced: found by polling
      await runner.stop();

      const parsed = await storage.get(backlog);
      assert.equal(parsed?.parseState, 'parsed');
      assert.equal(parsed?.subject, 'Files attached');
      assert.equal(parsed?.attachmentCount, 2);
      assert.deepEqual(
        parsed?.parsed?.attachments.map((a) => a.FileName),
        ['blob.bin', 'cities.csv'],
      );
      assert.equal((await storage.get(announced))?.subject, 'Grüße aus Köln');
      assert.equal(
        (await storage.get(otherNode))?.parsed?.text,
        'こんにちは、世界。\n添付ファイルはありません。\n',
      );

      const failed = await storage.get(broken);
      assert.equal(failed?.parseState, 'failed');
      assert.equal(failed?.parseError, 'Maximum MIME nesting depth of 100 levels exceeded');
      assert.equal(failed?.parsed, null);
      assert.equal((await storage.list({ start: 0, limit: 10 })).total, 4);

      assert.deepEqual(await storage.pendingParse(10), []);
      assert.equal(metrics.parsed.get({ outcome: 'parsed' }), 3);
      assert.equal(metrics.parsed.get({ outcome: 'failed' }), 1);
      assert.equal(metrics.parseSeconds.count(), 4);
      const failLog = lines.find((l) => l.message === broken && l.level === 'warn');
      assert.equal(failLog?.error, 'Maximum MIME nesting depth of 100 levels exceeded');
    });

    it('a parse over its time budget is tried again, and recorded as failed after the last attempt', async () => {
      const { storage } = ctx;
      const events = new EventBus();
      const lines: Record<string, unknown>[] = [];
      // 20,000 parts always take far longer than 100 ms: every attempt misses the budget.
      const strict = ParsePool.start({ workers: 1, timeoutMs: 100, memoryBytes: 128 * MiB });
      const runner = new ParseRunner({
        storage,
        parser: strict,
        events,
        metrics: createMetrics(),
        logger: logSink(lines),
        concurrency: 1,
        pollMs: 60_000,
        retryDelayMs: 20,
      });
      try {
        const slow = await spool(storage, manyParts(20_000));
        const quick = await spool(storage, fixture('plain.eml'));
        const done = parsedEvents(events, [slow, quick]);
        runner.start();
        assert.deepEqual(
          await done,
          new Map([
            [quick, true],
            [slow, false],
          ]),
        );
        const retries = lines.filter((l) => l.message === slow && l.msg === 'parse will be tried again');
        assert.deepEqual(
          retries.map((l) => l.attempt),
          [1, 2],
        );
        const failed = await storage.get(slow);
        assert.equal(failed?.parseState, 'failed');
        assert.equal(failed?.parseError, 'parse timed out after 100 ms');
        assert.equal((await storage.get(quick))?.parseState, 'parsed');
      } finally {
        await runner.stop();
        await strict.close();
      }
    });

    it('stop() waits for the parse in flight and takes no new work', async () => {
      const { storage } = ctx;
      const events = new EventBus();
      const runner = new ParseRunner({
        storage,
        parser: pool,
        events,
        metrics: createMetrics(),
        logger: logSink([]),
        concurrency: 1,
        pollMs: 60_000,
        // At once: the message must be in flight (not settling) when stop() is called.
        settleMs: 0,
      });
      runner.start();
      const id = await spool(storage, fixture('plain.eml'));
      events.emit('message:stored', { id });
      await runner.stop();
      assert.equal((await storage.get(id))?.parseState, 'parsed');
      const late = await spool(storage, fixture('groups.eml'));
      events.emit('message:stored', { id: late });
      await new Promise((r) => setTimeout(r, 200));
      assert.equal((await storage.get(late))?.parseState, 'pending');
    });
  });
}
