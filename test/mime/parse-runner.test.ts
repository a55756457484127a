// ParseRunner end to end on each storage backend: messages go into the spool, the runner parses
// them through a real ParsePool, and the store shows the parsed fields or the parse error.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { newMessageId } from '../../src/domain/ids.ts';
import { EventBus } from '../../src/events/bus.ts';
import { Burst } from '../../src/ingest/burst.ts';
import { ParseRunner } from '../../src/ingest/parse-runner.ts';
import { Tagger } from '../../src/ingest/tagger.ts';
import { ParsePool } from '../../src/mime/parse-pool.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import type { Storage } from '../../src/storage/ports.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { envelope } from '../helpers/fixtures.ts';
import { postfixDsn } from '../helpers/report-fixtures.ts';
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

    it('a burst of commits defers parsing until it ends, or until the oldest has waited deferMs', async () => {
      const { storage } = ctx;
      const events = new EventBus();
      let clock = 0;
      const runner = new ParseRunner({
        storage,
        parser: pool,
        events,
        metrics: createMetrics(),
        logger: logSink([]),
        concurrency: 2,
        pollMs: 60_000,
        settleMs: 0,
        deferMs: 30,
        now: () => clock,
      });
      const parsedIds: string[] = [];
      const off = events.on('message:parsed', ({ id }) => parsedIds.push(id));
      const raw = fixture('plain.eml');
      /** One more commit of the burst, half a millisecond after the last one. */
      const commit = async () => {
        clock += 0.5;
        const id = await spool(storage, raw);
        runner.offer(id, raw, envelope());
        return id;
      };
      try {
        // 70 commits in 35 ms, before the runner starts: it finds them pending, in a burst.
        const burst: string[] = [];
        for (let i = 0; i < 70; i++) burst.push(await commit());
        runner.start();
        // The clock stands still: the burst goes on (its last commit came sooner than twice the 31.5 ms
        // its last 64 commits took), nothing is parsed.
        await new Promise((r) => setTimeout(r, 150));
        assert.equal(parsedIds.length, 0);
        assert.equal((await storage.summaries(burst)).filter((m) => m.parseState === 'pending').length, 70);
        clock += 64; // no commit for 64 ms: the burst is over
        assert.equal((await parsedEvents(events, burst)).size, 70);

        // A burst that goes on lets a message through once it has waited deferMs (30 ms).
        clock -= 64; // back inside the burst
        const first = await commit();
        for (let i = 0; i < 50; i++) await commit(); // 25 ms more of the burst
        await new Promise((r) => setTimeout(r, 100));
        assert.ok(!parsedIds.includes(first), 'waited 25 ms of 30: still deferred');
        const oldest = parsedEvents(events, [first]);
        for (let i = 0; i < 12; i++) await commit(); // 31 ms: the burst goes on, the bound is reached
        assert.equal((await oldest).get(first), true);
      } finally {
        off();
        await runner.stop();
      }
    });

    it('tags come from the parse thread, and only delivery reports reach onSaved with their parse', async () => {
      const { storage } = ctx;
      const events = new EventBus();
      const saved: { id: string; subject: string }[] = [];
      const runner = new ParseRunner({
        storage,
        parser: pool,
        events,
        metrics: createMetrics(),
        logger: logSink([]),
        tagger: new Tagger({ tagsFromHeader: true, tagsFromPlusAddress: true, tagsFromUsername: false }),
        onSaved: async (batch) => {
          for (const m of batch) saved.push({ id: m.id, subject: m.parsed.subject });
        },
        concurrency: 2,
        pollMs: 60_000,
      });
      runner.start();
      try {
        const tagged = Buffer.from(
          'From: a@example.test\r\nTo: bob+orders@example.test\r\nX-Tags: urgent, billing\r\nSubject: tagged\r\n\r\nbody\r\n',
        );
        const report = Buffer.from(
          postfixDsn('<m1@shop.example>', 'x@example.test', 'unknown user').replaceAll('\n', '\r\n'),
        );
        const ids = [await spool(storage, tagged), await spool(storage, report)];
        const done = parsedEvents(events, ids);
        for (const id of ids) events.emit('message:stored', { id });
        await done;
        assert.deepEqual((await storage.get(ids[0]!))?.tags.sort(), ['billing', 'orders', 'urgent']);
        assert.deepEqual(saved, [{ id: ids[1], subject: 'Undelivered Mail Returned to Sender' }]);
      } finally {
        await runner.stop();
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

describe('Burst', () => {
  it('is a burst while the last 64 commits came within 120 ms and the latest within twice their span', () => {
    const b = new Burst();
    for (let i = 0; i < 63; i++) b.committed(i * 0.05);
    b.committed(3.15); // 64 commits in 3.15 ms: over after 10 ms without one, the least
    assert.equal(b.active(13.1), true);
    assert.equal(b.active(13.2), false, 'quiet for 10 ms');
    const start = new Burst();
    for (let i = 0; i < 15; i++) start.committed(i * 1.5);
    assert.equal(start.active(21.5), false, 'fewer than 16 commits');
    start.committed(22.5); // 16 commits in 22.5 ms (667 a second): a burst from its start
    assert.equal(start.active(23), true);
    const slowStart = new Burst();
    for (let i = 0; i < 16; i++) slowStart.committed(i * 2); // 500 a second
    assert.equal(slowStart.active(31), false);
    const slow = new Burst();
    for (let i = 0; i < 200; i++) slow.committed(i * 2); // 500 a second: not a burst
    assert.equal(slow.active(398.5), false);
    const steady = new Burst();
    for (let i = 0; i < 200; i++) steady.committed(i * 1.5); // 667 a second: a burst
    assert.equal(steady.active(299), true);
    // Its last 64 commits took 94.5 ms: the burst is over once none came for 189 ms.
    assert.equal(steady.active(298.5 + 188), true);
    assert.equal(steady.active(298.5 + 190), false);
  });

  it('outlasts the gaps between group commits of large messages', () => {
    const b = new Burst();
    // Group commits of 16 messages every 20 ms (800 a second), as 100 KB messages make them.
    for (let group = 0; group < 4; group++) for (let i = 0; i < 16; i++) b.committed(group * 20 + i * 0.1);
    const latest = 61.5;
    assert.equal(b.active(latest + 19), true, 'between two group commits');
    assert.equal(b.active(latest + 40), true, 'a commit held up for twice as long');
    assert.equal(b.active(latest + 124), false, 'quiet for twice the span of the last 64');
  });
});
