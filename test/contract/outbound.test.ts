// The outbound queue contract: the same assertions against SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { newMessageId } from '../../src/domain/ids.ts';
import type { NewOutbound, OutboundStore, Storage } from '../../src/storage/ports.ts';
import { PostgresStorage } from '../../src/storage/postgres/store.ts';
import { SqliteStorage } from '../../src/storage/sqlite/store.ts';
import { BACKENDS } from '../helpers/backends.ts';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function message(over: Partial<NewOutbound> = {}): NewOutbound {
  return {
    id: newMessageId(),
    mailFrom: 'app@sender.example',
    rcptTo: ['ann@one.example', 'bob@two.example', 'cat@one.example'],
    raw: new TextEncoder().encode('Subject: hi\r\n\r\nhello\r\n'),
    headerMessageId: `<${newMessageId()}@sender.example>`,
    source: 'api',
    client: { ip: '127.0.0.1', authUser: 'ci' },
    tags: ['welcome'],
    metadata: { order: '42' },
    queuedAt: at(0),
    sendAt: at(0),
    expiresAt: at(5 * 86_400_000),
    ...over,
  };
}

for (const backend of BACKENDS) {
  describe(`outbound queue contract: ${backend.name}`, () => {
    let storage: Storage;
    let queue: OutboundStore;
    let cleanup: () => Promise<void>;
    let location: { dataDir: string; databaseUrl: string };

    before(async () => {
      const made = await backend.create();
      storage = made.storage;
      queue = storage.outbound;
      cleanup = made.cleanup;
      location = made;
    });
    after(() => cleanup());

    /**
     * Each test starts from an empty queue: whatever is left is reaped and claimed with a lease
     * that ends far beyond any time the tests use, so it is neither due nor reaped again.
     */
    beforeEach(async () => {
      await queue.reapLeases(at(10 * 86_400_000));
      await queue.claim({ owner: 'sweeper', now: at(10 * 86_400_000), leaseMs: 86_400_000, limit: 1000 });
    });

    it('queues one delivery per recipient domain, with the raw bytes and a queued event', async () => {
      const m = message();
      assert.deepEqual(await queue.enqueue(m), { outcome: 'queued', id: m.id });
      const view = await queue.get(m.id);
      assert.ok(view);
      assert.deepEqual(view.rcptTo, m.rcptTo);
      assert.equal(view.size, m.raw.byteLength);
      assert.deepEqual(view.metadata, { order: '42' });
      assert.deepEqual(view.client, { ip: '127.0.0.1', authUser: 'ci' });
      assert.deepEqual(
        view.deliveries.map((d) => [d.domain, d.state, d.recipients.map((r) => r.address)]),
        [
          ['one.example', 'queued', ['ann@one.example', 'cat@one.example']],
          ['two.example', 'queued', ['bob@two.example']],
        ],
      );
      assert.deepEqual(Buffer.from((await queue.raw(m.id))!), Buffer.from(m.raw));
      const events = await queue.events(m.id);
      assert.deepEqual(
        events.map((e) => e.type),
        ['message:queued'],
      );
      assert.equal(await queue.get('nope'), null);
    });

    it('replays an idempotency key with the same request and refuses it with another', async () => {
      const key = { key: `k-${newMessageId()}`, requestHash: 'h1', expiresAt: at(86_400_000) };
      const first = message({ idempotency: key });
      assert.equal((await queue.enqueue(first)).outcome, 'queued');
      const again = await queue.enqueue(message({ idempotency: key }));
      assert.deepEqual(again, { outcome: 'replayed', id: first.id });
      const other = await queue.enqueue(message({ idempotency: { ...key, requestHash: 'h2' } }));
      assert.deepEqual(other, { outcome: 'conflict', id: first.id });
      // After the key's time is up it is free again.
      const later = message({
        queuedAt: at(86_400_001),
        idempotency: { ...key, expiresAt: at(2 * 86_400_000) },
      });
      assert.equal((await queue.enqueue(later)).outcome, 'queued');
      assert.equal(await queue.pruneIdempotencyKeys(at(3 * 86_400_000)), 1);
    });

    it('claims only due deliveries, each once, and records per-recipient results', async () => {
      const now = message();
      const scheduled = message({ sendAt: at(3_600_000) });
      await queue.enqueue(now);
      await queue.enqueue(scheduled);
      const claimed = await queue.claim({ owner: 'w1', now: at(1000), leaseMs: 60_000, limit: 10 });
      assert.deepEqual(claimed.map((c) => c.delivery.outboundId).sort(), [now.id, now.id]);
      assert.ok(claimed.every((c) => c.delivery.state === 'sending' && c.delivery.attempts === 1));
      assert.equal(claimed[0]!.mailFrom, 'app@sender.example');
      assert.deepEqual(
        [claimed[0]!.source, claimed[0]!.client],
        ['api', { ip: '127.0.0.1', authUser: 'ci' }],
      );
      assert.deepEqual(await queue.claim({ owner: 'w2', now: at(2000), leaseMs: 60_000, limit: 10 }), []);

      const one = claimed.find((c) => c.delivery.domain === 'one.example')!;
      const recorded = await queue.recordAttempt({
        deliveryId: one.delivery.id,
        owner: 'w1',
        now: at(3000),
        results: [
          { address: 'ann@one.example', outcome: 'delivered', reply: '250 2.0.0 ok' },
          { address: 'cat@one.example', outcome: 'bounced', reply: '550 5.1.1 no such user' },
        ],
        state: 'bounced',
        reply: '550 5.1.1 no such user',
        events: [{ type: 'delivery:bounced', data: { recipients: 1 } }],
      });
      assert.equal(recorded, true);
      // Another worker's record is refused: it holds no lease.
      const two = claimed.find((c) => c.delivery.domain === 'two.example')!;
      const stolen = await queue.recordAttempt({
        deliveryId: two.delivery.id,
        owner: 'w2',
        now: at(3000),
        results: [],
        state: 'delivered',
        reply: '250',
        events: [],
      });
      assert.equal(stolen, false);

      const view = (await queue.get(now.id))!;
      const d1 = view.deliveries.find((d) => d.domain === 'one.example')!;
      assert.equal(d1.state, 'bounced');
      assert.deepEqual(
        d1.recipients.map((r) => [r.address, r.state, r.reply]),
        [
          ['ann@one.example', 'delivered', '250 2.0.0 ok'],
          ['cat@one.example', 'bounced', '550 5.1.1 no such user'],
        ],
      );
      assert.equal(view.deliveries.find((d) => d.domain === 'two.example')!.state, 'sending');
      const types = (await queue.events(now.id)).map((e) => [e.type, e.deliveryId]);
      assert.deepEqual(types, [
        ['message:queued', null],
        ['delivery:bounced', d1.id],
      ]);
      // The scheduled one becomes due at its time.
      const due = await queue.claim({ owner: 'w1', now: at(3_600_000), leaseMs: 60_000, limit: 10 });
      assert.deepEqual(
        due.map((c) => c.delivery.outboundId),
        [scheduled.id, scheduled.id],
      );
    });

    it('defers to a later time, and returns a delivery whose lease ran out', async () => {
      const m = message({ rcptTo: ['ann@one.example'] });
      await queue.enqueue(m);
      const [c] = await queue.claim({ owner: 'w1', now: at(0), leaseMs: 60_000, limit: 1 });
      assert.ok(c);
      await queue.recordAttempt({
        deliveryId: c.delivery.id,
        owner: 'w1',
        now: at(1000),
        results: [{ address: 'ann@one.example', outcome: 'deferred', reply: '451 4.7.1 try later' }],
        state: 'deferred',
        nextAttemptAt: at(301_000),
        reply: '451 4.7.1 try later',
        events: [{ type: 'delivery:deferred', data: {} }],
      });
      assert.deepEqual(await queue.claim({ owner: 'w1', now: at(300_000), leaseMs: 60_000, limit: 1 }), []);
      const [again] = await queue.claim({ owner: 'w2', now: at(301_000), leaseMs: 60_000, limit: 1 });
      assert.equal(again?.delivery.attempts, 2);
      assert.equal(again?.delivery.recipients[0]?.state, 'deferred');

      // w2 dies holding the lease: nothing is reaped before the lease ends, then it is due again.
      assert.equal(await queue.reapLeases(at(360_999)), 0);
      assert.equal(await queue.reapLeases(at(361_000)), 1);
      const [third] = await queue.claim({ owner: 'w3', now: at(361_000), leaseMs: 60_000, limit: 1 });
      assert.equal(third?.delivery.id, c.delivery.id);
      assert.equal(third?.delivery.attempts, 3);
      // The dead worker's late record is refused.
      const late = await queue.recordAttempt({
        deliveryId: c.delivery.id,
        owner: 'w2',
        now: at(362_000),
        results: [],
        state: 'delivered',
        reply: '250',
        events: [],
      });
      assert.equal(late, false);
    });

    it('holds, releases, retries and cancels, refusing actions the state forbids', async () => {
      const m = message({ rcptTo: ['ann@one.example'], sendAt: at(60_000) });
      await queue.enqueue(m);
      const id = (await queue.get(m.id))!.deliveries[0]!.id;
      const held = await queue.control(id, 'hold', at(1000));
      assert.ok(held);
      assert.equal(held.state, 'held');
      assert.deepEqual(await queue.claim({ owner: 'w', now: at(120_000), leaseMs: 1000, limit: 5 }), []);
      assert.equal(await queue.control(id, 'retry', at(1000)), false);
      const released = await queue.control(id, 'release', at(2000));
      assert.ok(released);
      assert.deepEqual([released.state, released.nextAttemptAt], ['queued', at(2000)]);
      assert.deepEqual(
        (await queue.deliveries({ state: 'queued', start: 0, limit: 100 })).map((d) => d.id).includes(id),
        true,
      );
      const cancelled = await queue.control(id, 'cancel', at(3000));
      assert.ok(cancelled);
      assert.equal(cancelled.state, 'cancelled');
      assert.equal(await queue.control(id, 'release', at(4000)), false);
      assert.equal(await queue.control('no-such-delivery', 'hold', at(4000)), null);
      assert.deepEqual(
        (await queue.events(m.id)).map((e) => e.type),
        ['message:queued', 'delivery:held', 'delivery:released', 'delivery:cancelled'],
      );
    });

    it('keeps a suppression list: case-blind, replaceable, removable, and expiring', async () => {
      const entry = (address: string, over: Record<string, unknown> = {}) => ({
        address,
        reason: 'hard-bounce' as const,
        detail: '550 5.1.1 no such user',
        createdAt: at(0),
        expiresAt: null,
        ...over,
      });
      await queue.suppress(entry('Gone@One.example'));
      await queue.suppress(
        entry('later@one.example', { reason: 'manual', expiresAt: at(60_000), createdAt: at(1000) }),
      );
      const found = await queue.suppressedAmong(
        ['gone@one.example', 'LATER@one.example', 'fine@one.example'],
        at(30_000),
      );
      assert.deepEqual(found.map((f) => [f.address, f.reason]).sort(), [
        ['gone@one.example', 'hard-bounce'],
        ['later@one.example', 'manual'],
      ]);
      // Expired entries no longer count, and are not listed.
      assert.deepEqual(
        (await queue.suppressedAmong(['later@one.example'], at(60_000))).map((f) => f.address),
        [],
      );
      const listed = await queue.suppressions({ start: 0, limit: 10, now: at(30_000) });
      assert.deepEqual(
        listed.map((l) => l.address),
        ['later@one.example', 'gone@one.example'],
      );
      // A second entry for the same address replaces the first.
      await queue.suppress(entry('gone@one.example', { reason: 'complaint', detail: null }));
      assert.equal((await queue.suppressedAmong(['gone@one.example'], at(0)))[0]?.reason, 'complaint');
      assert.equal(await queue.unsuppress('GONE@one.example'), true);
      assert.equal(await queue.unsuppress('gone@one.example'), false);
      await queue.unsuppress('later@one.example');
    });

    it('keeps to per-domain limits: deliveries at once, and attempts a minute', async () => {
      for (let i = 0; i < 5; i++) await queue.enqueue(message({ rcptTo: [`u${i}@busy.example`] }));
      await queue.enqueue(message({ rcptTo: ['x@calm.example'] }));
      const perDomain = { concurrency: 2, perMinute: 3 };
      const claim = (ms: number) =>
        queue.claim({ owner: 'w', now: at(ms), leaseMs: 600_000, limit: 10, perDomain });
      const domains = (cs: { delivery: { domain: string } }[]) => cs.map((c) => c.delivery.domain).sort();
      const done = (id: string, ms: number) =>
        queue.recordAttempt({
          deliveryId: id,
          owner: 'w',
          now: at(ms),
          results: [],
          state: 'delivered',
          reply: '250',
          events: [],
        });

      const first = await claim(0);
      assert.deepEqual(domains(first), ['busy.example', 'busy.example', 'calm.example']);
      // Two busy.example deliveries are being sent: none more.
      assert.deepEqual(await claim(1000), []);
      await done(first.find((c) => c.delivery.domain === 'busy.example')!.delivery.id, 2000);
      const second = await claim(3000);
      assert.deepEqual(domains(second), ['busy.example']);
      // Three attempts started within the minute: none more, though a place is free again.
      await done(second[0]!.delivery.id, 4000);
      assert.deepEqual(await claim(5000), []);
      // A minute after the first two, their attempts no longer count.
      assert.deepEqual(domains(await claim(61_000)), ['busy.example']);
      // Without limits everything due is taken.
      const rest = await queue.claim({ owner: 'w', now: at(62_000), leaseMs: 600_000, limit: 10 });
      assert.deepEqual(domains(rest), ['busy.example']);
    });

    it('hands out the bytes of messages up to the size the claim asks for', async () => {
      const small = message({ rcptTo: ['s@bytes.example'] });
      const large = message({ rcptTo: ['l@bytes.example'], raw: new Uint8Array(5000).fill(0x41) });
      await queue.enqueue(small);
      await queue.enqueue(large);
      const claimed = await queue.claim({
        owner: 'w',
        now: at(1000),
        leaseMs: 600_000,
        limit: 10,
        rawUpTo: 1000,
      });
      const byId = new Map(claimed.map((c) => [c.delivery.outboundId, c]));
      assert.deepEqual(byId.get(small.id)?.raw && [...byId.get(small.id)!.raw!], [...small.raw]);
      assert.equal(byId.get(large.id)?.raw, undefined);
      assert.ok(byId.has(large.id));
      // Without rawUpTo, none comes with its bytes.
      const other = message({ rcptTo: ['o@bytes.example'] });
      await queue.enqueue(other);
      const [plain] = await queue.claim({ owner: 'w', now: at(2000), leaseMs: 600_000, limit: 10 });
      assert.equal(plain?.delivery.outboundId, other.id);
      assert.equal(plain?.raw, undefined);
    });

    it('brings the suppression entries in force for its recipients with a claim', async () => {
      const entry = (address: string, expiresAt: string | null) => ({
        address,
        reason: 'manual' as const,
        detail: null,
        createdAt: at(0),
        expiresAt,
      });
      await queue.suppress(entry('gone@sup.example', null));
      await queue.suppress(entry('past@sup.example', at(500)));
      await queue.suppress(entry('ünï@sup-intl.example', null));
      const m = message({
        rcptTo: ['Gone@sup.example', 'past@sup.example', 'ok@sup.example', 'ÜNÏ@sup-intl.example'],
      });
      await queue.enqueue(m);
      const claimed = await queue.claim({ owner: 'w', now: at(1000), leaseMs: 600_000, limit: 10 });
      const ascii = claimed.find((c) => c.delivery.domain === 'sup.example');
      assert.deepEqual(
        ascii?.suppressed?.map((s) => s.address),
        ['gone@sup.example'],
      );
      // Whatever a claim brings is what suppressedAmong would say; absent, the worker asks it.
      for (const c of claimed) {
        const expected = await queue.suppressedAmong(
          c.delivery.recipients.map((r) => r.address),
          at(1000),
        );
        if (c.suppressed) assert.deepEqual(c.suppressed, expected);
      }
      for (const a of ['gone@sup.example', 'past@sup.example', 'ünï@sup-intl.example'])
        await queue.unsuppress(a);
    });

    it('does not let a domain at its limit starve a domain queued behind it', async () => {
      // Far more hog.example mail than one claim looks at, all due before quiet.example's.
      for (let i = 0; i < 120; i++) {
        await queue.enqueue(message({ rcptTo: [`u${i}@hog.example`], sendAt: at(i) }));
      }
      await queue.enqueue(message({ rcptTo: ['x@quiet.example'], sendAt: at(500) }));
      await queue.enqueue(message({ rcptTo: ['y@slow.example'], sendAt: at(600) }));
      const perDomain = { concurrency: 2, perMinute: Number.MAX_SAFE_INTEGER };
      const claim = (limit: number) =>
        queue.claim({ owner: 'w', now: at(1000), leaseMs: 600_000, limit, perDomain });
      const first = await claim(2);
      assert.deepEqual(
        first.map((c) => c.delivery.domain),
        ['hog.example', 'hog.example'],
      );
      const second = await claim(1);
      assert.deepEqual(
        second.map((c) => c.delivery.domain),
        ['quiet.example'],
      );
      // Nor a domain at its per-minute limit.
      const rated = await queue.claim({
        owner: 'w',
        now: at(2000),
        leaseMs: 600_000,
        limit: 1,
        perDomain: { concurrency: 100, perMinute: 2 },
      });
      assert.deepEqual(
        rated.map((c) => c.delivery.domain),
        ['slow.example'],
      );
    });

    it('gives each due delivery to one of several claimers at once', async () => {
      for (let i = 0; i < 20; i++) await queue.enqueue(message({ rcptTo: [`u${i}@d${i}.example`] }));
      const peer =
        backend.name === 'postgres'
          ? await PostgresStorage.open(location.databaseUrl)
          : await SqliteStorage.open(location.dataDir);
      try {
        const handles = [queue, peer.outbound, queue, peer.outbound];
        const batches = await Promise.all(
          handles.map((h, i) => h.claim({ owner: `w${i}`, now: at(0), leaseMs: 60_000, limit: 7 })),
        );
        const ids = batches.flat().map((c) => c.delivery.id);
        assert.equal(ids.length, 20);
        assert.equal(new Set(ids).size, 20);
      } finally {
        await peer.close();
      }
    });
  });
}
