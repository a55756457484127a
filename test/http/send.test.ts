// POST /api/v1/send: Mailpit's send body in, a durably queued message out (202), against every
// storage backend. Delivery itself (the worker and its transports) is tested elsewhere.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKENDS } from '../helpers/backends.ts';
import { backendSuite, json } from './helpers.ts';

const body = (over: Record<string, unknown> = {}) => ({
  From: { Email: 'app@shop.example', Name: 'Shop' },
  To: [{ Email: 'ann@one.example', Name: 'Ann' }],
  Cc: [{ Email: 'bob@two.example' }],
  Bcc: ['audit@one.example'],
  Subject: 'Your order',
  Text: 'Thanks!',
  Tags: ['orders'],
  ...over,
});

for (const backend of BACKENDS) {
  describe(`send API: ${backend.name}`, () => {
    const s = backendSuite(backend);
    const post = (b: unknown, headers: Record<string, string> = {}) =>
      s.t.app.request(Array.isArray(b) ? '/api/v1/send/batch' : '/api/v1/send', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: typeof b === 'string' ? b : JSON.stringify(b),
      });

    it('queues the message durably and answers 200 with its ID, as Mailpit does', async () => {
      const woken: string[] = [];
      const stop = s.t.deps.events.on('outbound:queued', ({ id }) => woken.push(id));
      const res = await post(body());
      stop();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('preference-applied'), null);
      const { ID } = await json<{ ID: string }>(res);
      assert.deepEqual(woken, [ID]);
      const queued = await s.storage.outbound.get(ID);
      assert.ok(queued);
      // The envelope is exactly the validated list, Bcc included; one delivery per domain.
      assert.equal(queued.mailFrom, 'app@shop.example');
      assert.deepEqual(queued.rcptTo, ['ann@one.example', 'bob@two.example', 'audit@one.example']);
      assert.deepEqual(
        queued.deliveries.map((d) => [d.domain, d.recipients.map((r) => r.address)]),
        [
          ['one.example', ['ann@one.example', 'audit@one.example']],
          ['two.example', ['bob@two.example']],
        ],
      );
      assert.deepEqual(queued.tags, ['orders']);
      const raw = Buffer.from((await s.storage.outbound.raw(ID))!).toString('latin1');
      assert.match(raw, /^Subject: Your order\r$/m);
      assert.match(raw, /^X-Tags: orders\r$/m);
      assert.doesNotMatch(raw, /audit@one\.example/);
      assert.equal(`<${raw.match(/^Message-ID: <([^>]+)>/m)?.[1]}>`, queued.headerMessageId);
    });

    const queuedCount = async () => (await s.storage.outbound.deliveries({ start: 0, limit: 10_000 })).length;

    it('refuses bad input with a problem naming the field, and queues nothing', async () => {
      const before = await queuedCount();
      const cases: [unknown, number, RegExp][] = [
        ['{"From": ', 400, /not valid JSON/],
        [body({ To: [{ Email: 'ann@one.example\r\nBcc: x@evil.example' }] }), 400, /To\[0\]\.Email/],
        [body({ Subject: 'Hi\r\nBcc: x@evil.example' }), 400, /Subject/],
        [body({ Headers: { Bcc: 'x@evil.example' } }), 400, /Bcc/],
        [
          body({ Attachments: [{ Content: 'aGk=', Filename: 'x.txt', path: '/etc/passwd' }] }),
          400,
          /path|Unrecognized/i,
        ],
        [body({ To: [], Cc: [], Bcc: [] }), 400, /recipient/],
        [body({ From: { Email: 'a@[127.0.0.1]' } }), 400, /From\.Email/],
      ];
      for (const [b, status, detail] of cases) {
        const res = await post(b);
        assert.equal(res.status, status, JSON.stringify(b));
        assert.equal(res.headers.get('content-type'), 'application/problem+json');
        assert.match(String((await json(res)).detail), detail);
      }
      assert.equal(await queuedCount(), before);
    });

    it('answers a repeated Idempotency-Key with the first ID, and another body under it with 409', async () => {
      const key = `order-${backend.name}-${Date.now()}`;
      const before = await queuedCount();
      const first = await post(body(), { 'Idempotency-Key': key });
      assert.equal(first.status, 200);
      const { ID } = await json<{ ID: string }>(first);
      const again = await post(body(), { 'Idempotency-Key': key, Prefer: 'respond-async' });
      assert.equal(again.status, 202);
      assert.equal(again.headers.get('preference-applied'), 'respond-async');
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(await json(again), { ID });
      const other = await post(body({ Subject: 'Another order' }), { 'Idempotency-Key': key });
      assert.equal(other.status, 409);
      assert.match(String((await json(other)).detail), new RegExp(ID));
      const bad = await post(body(), { 'Idempotency-Key': 'has space' });
      assert.equal(bad.status, 400);
      // Only the first request queued anything: its two deliveries (one per domain).
      assert.equal(await queuedCount(), before + 2);
    });

    it('answers 202 without waiting when the client prefers respond-async (RFC 7240)', async () => {
      for (const prefer of ['respond-async', 'wait=10, respond-async', 'RESPOND-ASYNC']) {
        const res = await post(body(), { Prefer: prefer });
        assert.equal(res.status, 202, prefer);
        assert.ok((await s.storage.outbound.get((await json<{ ID: string }>(res)).ID))?.deliveries.length);
      }
      assert.equal((await post(body(), { Prefer: 'respond-asynchronously' })).status, 200);
    });

    it('queues a batch message by message, with a result for each, in order', async () => {
      const before = await queuedCount();
      const batch = [
        body({ Subject: 'First' }),
        body({ Subject: 'Bad\r\nBcc: x@evil.example' }),
        body({ Subject: 'Third' }),
      ];
      const res = await post(batch, { Prefer: 'respond-async' });
      assert.equal(res.status, 202);
      const { Results } = await json<{
        Results: { ID?: string; Error?: { status: number; detail: string } }[];
      }>(res);
      assert.equal(Results.length, 3);
      assert.ok(Results[0]?.ID && Results[2]?.ID && !Results[1]?.ID);
      assert.equal(Results[1]?.Error?.status, 400);
      assert.match(Results[1]?.Error?.detail ?? '', /Subject/);
      assert.equal((await s.storage.outbound.get(Results[2]!.ID!))?.rcptTo.length, 3);
      // Two messages, two recipient domains each.
      assert.equal(await queuedCount(), before + 4);

      const key = `batch-${backend.name}-${Date.now()}`;
      const once = await json<{ Results: { ID?: string }[] }>(
        await post(batch.slice(0, 1), { 'Idempotency-Key': key }),
      );
      const twice = await json<{ Results: { ID?: string }[] }>(
        await post(batch.slice(0, 1), { 'Idempotency-Key': key }),
      );
      assert.deepEqual(twice, once);
      const changed = await json<{ Results: { Error?: { status: number } }[] }>(
        await post([body({ Subject: 'Other' })], { 'Idempotency-Key': key }),
      );
      assert.equal(changed.Results[0]?.Error?.status, 409);

      for (const bad of [[], Array.from({ length: 501 }, () => body()), { not: 'a list' }]) {
        const r = await s.t.app.request('/api/v1/send/batch', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(bad),
        });
        assert.equal(r.status, 400);
      }
    });

    it('schedules a message for later and keeps its metadata', async () => {
      const sendAt = new Date(Date.now() + 3_600_000);
      const res = await post(
        body({ SendAt: sendAt.toISOString(), Metadata: { order: '42', 'user.id': 'u-7' } }),
      );
      // Nothing is delivered now, so nothing is waited for: 202 whatever the preference.
      assert.equal(res.status, 202);
      const { ID } = await json<{ ID: string }>(res);
      const shown = await json<{
        Metadata: Record<string, string>;
        SendAt: string;
        Deliveries: { NextAttemptAt: string }[];
      }>(await s.get(`/api/v1/outbound/${ID}`));
      assert.deepEqual(shown.Metadata, { order: '42', 'user.id': 'u-7' });
      assert.equal(shown.SendAt, sendAt.toISOString());
      assert.ok(shown.Deliveries.every((d) => d.NextAttemptAt === sendAt.toISOString()));
      // A time already past means now.
      const past = await post(body({ SendAt: '2020-01-01T00:00:00Z' }));
      assert.equal(past.status, 200);
      for (const bad of [
        { SendAt: new Date(Date.now() + 31 * 86_400_000).toISOString() },
        { SendAt: 'tomorrow' },
        { Metadata: { 'bad key': 'x' } },
        { Metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])) },
      ]) {
        assert.equal((await post(body(bad))).status, 400, JSON.stringify(bad));
      }
    });

    it('answers 413 for a message over the size limit', async () => {
      const huge = Buffer.alloc(s.t.deps.config.maxMessageSize).toString('base64');
      const res = await post(body({ Attachments: [{ Content: huge, Filename: 'big.bin' }] }));
      assert.equal(res.status, 413);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
    });
  });
}
