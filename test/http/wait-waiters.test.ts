// The waiters behind GET /api/v1/wait, on each engine's real store, with the periodic look turned
// off (an hour apart): what answers a waiter here is the event that says a message was parsed or
// changed, and the order rule that keeps a cursor from passing over a message parsed late.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { EventBus } from '../../src/events/bus.ts';
import { Waiters, type WaitRequest } from '../../src/http/routes/wait/waiters.ts';
import type { ParsePool } from '../../src/mime/parse-pool.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { parseSearch } from '../../src/search/query.ts';
import type { Storage } from '../../src/storage/ports.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { startParser, store } from './helpers.ts';

const HOUR = 3_600_000;

function message(subject: string): Uint8Array {
  return Buffer.from(`From: app@example.test\r\nTo: ann@example.test\r\nSubject: ${subject}\r\n\r\nbody\r\n`);
}

/** The store, telling when a look (a list call) has come back: a wake-up after it needs an event. */
function watched(storage: Storage): { storage: Storage; looked(n: number): Promise<void> } {
  let lists = 0;
  let waiting: { n: number; resolve: () => void }[] = [];
  const proxy = new Proxy(storage, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (key !== 'list' || typeof value !== 'function') {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (...args: Parameters<Storage['list']>) => {
        const result = await target.list(...args);
        lists++;
        for (const w of waiting.filter((w) => lists >= w.n)) w.resolve();
        waiting = waiting.filter((w) => lists < w.n);
        return result;
      };
    },
  });
  return {
    storage: proxy,
    looked: (n) => (lists >= n ? Promise.resolve() : new Promise((resolve) => waiting.push({ n, resolve }))),
  };
}

function request(
  query: string,
  after: number | null,
  timeoutMs = HOUR,
  signal = new AbortController().signal,
) {
  return { query: parseSearch(query), after, timeoutMs, signal } satisfies WaitRequest;
}

for (const backend of BACKENDS) {
  describe(`wait: the waiters, ${backend.name}`, () => {
    let storage: Storage;
    let parser: ParsePool;
    let cleanup: () => Promise<void>;
    let events: EventBus;
    let ready: boolean;
    const waiters = (o: { max?: number; tickMs?: number; storage?: Storage } = {}) =>
      new Waiters({
        storage: o.storage ?? storage,
        events,
        logger: createLogger('silent'),
        ready: () => ready,
        max: o.max ?? 10,
        remoteParses: false,
        tickMs: o.tickMs ?? HOUR,
      });
    const newest = async () => (await storage.list({ start: 0, limit: 1 })).messages[0]?.seq ?? 0;
    const parse = async (id: string, raw: Uint8Array) => {
      await storage.saveParsed([
        { id, result: { ok: true, parsed: await parser.parse(new Uint8Array(raw)) } },
      ]);
      events.emit('message:parsed', { id, ok: true });
    };

    before(async () => {
      const created = await backend.create();
      storage = created.storage;
      cleanup = created.cleanup;
      parser = startParser();
    });
    after(async () => {
      await parser.close();
      await cleanup();
    });
    beforeEach(() => {
      events = new EventBus();
      ready = true;
    });

    it('a parse event answers a waiter', { timeout: 20_000 }, async () => {
      const store$ = watched(storage);
      const w = waiters({ storage: store$.storage });
      const start = await newest();
      const raw = message('Order 42 shipped');
      const id = await store(storage, parser, raw, { parse: false });
      const pending = w.wait(request('subject:"order 42"', start))!;
      // The first look found nothing: only the event can bring the answer now.
      await store$.looked(1);
      await parse(id, raw);
      const outcome = await pending;
      assert.equal(outcome.kind, 'found');
      assert.equal(outcome.kind === 'found' && outcome.message.id, id);
      assert.equal(w.size, 0);
    });

    it('an unparsed message before a match holds the answer back, so the cursor passes over nothing', async () => {
      const w = waiters();
      const start = await newest();
      const rawA = message('Invoice A');
      const rawB = message('Invoice B');
      const a = await store(storage, parser, rawA, { parse: false });
      const b = await store(storage, parser, rawB);
      // B matches and is parsed, but A was stored first and is not: no answer yet.
      assert.equal((await w.wait(request('subject:invoice', start, 0))!).kind, 'timeout');
      // Without a cursor, the newest parsed match is answer enough.
      const newestMatch = await w.wait(request('subject:invoice', null, 0))!;
      assert.equal(newestMatch.kind === 'found' && newestMatch.message.id, b);
      await parse(a, rawA);
      const first = await w.wait(request('subject:invoice', start, 0))!;
      assert.equal(first.kind === 'found' && first.message.id, a);
      const next = await w.wait(
        request('subject:invoice', first.kind === 'found' ? first.message.seq : -1, 0),
      )!;
      assert.equal(next.kind === 'found' && next.message.id, b);
    });

    it('a tag set later answers a waiter for the tag (message:updated)', { timeout: 20_000 }, async () => {
      const store$ = watched(storage);
      const w = waiters({ storage: store$.storage });
      const start = await newest();
      const id = await store(storage, parser, message('Tag me'));
      const pending = w.wait(request('tag:urgent', start))!;
      await store$.looked(1);
      await storage.setTags([id], ['urgent']);
      events.emit('message:updated', { id, tags: ['urgent'] });
      const outcome = await pending;
      assert.equal(outcome.kind === 'found' && outcome.message.id, id);
    });

    it('lets waiters go when the server stops being ready, and when their client leaves', async () => {
      const w = waiters({ tickMs: 20 });
      const leaving = new AbortController();
      const gone = w.wait(request('subject:never', null, HOUR, leaving.signal))!;
      const closing = w.wait(request('subject:never', null))!;
      assert.equal(w.size, 2);
      leaving.abort();
      assert.equal((await gone).kind, 'gone');
      ready = false;
      assert.equal((await closing).kind, 'closing');
      assert.equal(w.size, 0);
    });

    it('refuses a waiter past the limit', async () => {
      const w = waiters({ max: 1 });
      const leaving = new AbortController();
      const first = w.wait(request('subject:never', null, HOUR, leaving.signal));
      assert.ok(first);
      assert.equal(w.wait(request('subject:never', null)), null);
      leaving.abort();
      await first;
      assert.ok(w.wait(request('subject:never', null, 0)));
    });
  });
}
