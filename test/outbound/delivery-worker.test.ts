// The delivery worker against a real (SQLite) queue, a scripted transport and an injected clock.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { newMessageId } from '../../src/domain/ids.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { FailedDelivery } from '../../src/outbound/bounce-notice.ts';
import { attemptOutcome, DeliveryWorker } from '../../src/outbound/delivery-worker.ts';
import { DEFAULT_RETRY_SCHEDULE } from '../../src/outbound/retry-schedule.ts';
import type { DeliveryJob, Transport, TransportResult } from '../../src/outbound/transport.ts';
import type { NewOutbound } from '../../src/storage/ports.ts';
import { SqliteStorage } from '../../src/storage/sqlite/store.ts';
import { tempDir } from '../helpers/backends.ts';
import { outboundMessage } from '../helpers/fixtures.ts';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const MIN = 60_000;

describe('attempt outcome', () => {
  const claimed = { attempts: 1, queuedAt: new Date(T0).toISOString() };
  const r = (outcome: 'delivered' | 'deferred' | 'bounced') => ({
    address: `${outcome}@x.example`,
    outcome,
    reply: outcome,
  });

  it('is delivered only when every recipient is, and deferred while any may still be', () => {
    const cases = [
      [[r('delivered'), r('delivered')], 'delivered'],
      [[r('delivered'), r('bounced')], 'bounced'],
      [[r('bounced'), r('deferred')], 'deferred'],
    ] as const;
    for (const [results, state] of cases) {
      assert.equal(attemptOutcome(results, '250', DEFAULT_RETRY_SCHEDULE, claimed, T0 + 1000).state, state);
    }
    const deferred = attemptOutcome([r('deferred')], '451', DEFAULT_RETRY_SCHEDULE, claimed, T0 + 1000);
    assert.equal(deferred.nextAttemptAt, new Date(T0 + 1000 + 5 * MIN).toISOString());
    assert.deepEqual(
      deferred.events.map((e) => e.type),
      ['delivery:attempted', 'delivery:deferred'],
    );
    const late = attemptOutcome([r('deferred')], '451', DEFAULT_RETRY_SCHEDULE, claimed, T0 + 6 * 86_400_000);
    assert.equal(late.state, 'expired');
  });
});

describe('delivery worker', () => {
  let storage: SqliteStorage;
  const dir = tempDir();
  let now = T0;
  const calls: DeliveryJob[] = [];
  /** Per domain, the outcomes of successive attempts; a thrown error when the entry is 'throw'. */
  const script = new Map<string, ('delivered' | 'deferred' | 'bounced' | 'throw')[]>();

  const transport: Transport = {
    name: 'scripted',
    async deliver(job): Promise<TransportResult> {
      calls.push(job);
      const next = script.get(job.domain)?.shift() ?? 'delivered';
      if (next === 'throw') throw new Error('no route to the relay');
      const reply = { delivered: '250 2.0.0 ok', deferred: '421 4.3.2 busy', bounced: '550 5.1.1 unknown' }[
        next
      ];
      return { results: job.recipients.map((address) => ({ address, outcome: next, reply })), reply };
    },
  };

  let worker: DeliveryWorker;
  const failures: FailedDelivery[] = [];
  before(async () => {
    storage = await SqliteStorage.open(dir);
    worker = new DeliveryWorker({
      queue: storage.outbound,
      transport,
      schedule: DEFAULT_RETRY_SCHEDULE,
      logger: createLogger('silent'),
      owner: 'test-worker',
      concurrency: 4,
      leaseMs: 10 * MIN,
      pollMs: 3_600_000,
      now: () => now,
      isHardBounce: (reply) => /^550 5\.1\.1/.test(reply),
      onFailed: async (f) => {
        failures.push(f);
      },
    });
    worker.start();
  });
  after(async () => {
    await worker.stop();
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Queues a message now, due at once, as the send API would. */
  async function enqueue(id: string, rcptTo: string[], raw: string, over: Partial<NewOutbound> = {}) {
    const expiresAt = new Date(now + 5 * 86_400_000).toISOString();
    await storage.outbound.enqueue(outboundMessage(rcptTo, raw, now, { id, expiresAt, ...over }));
  }

  /** One look at the queue, with every attempt it starts recorded before this resolves. */
  const settle = () => worker.runOnce();

  it('delivers each domain, retries a deferred one on schedule, and records every step', async () => {
    script.set('later.example', ['deferred', 'delivered']);
    script.set('gone.example', ['bounced']);
    const id = newMessageId();
    await enqueue(id, ['a@now.example', 'b@later.example', 'c@gone.example'], 'Subject: x\r\n\r\nbody\r\n');
    await settle();
    let states = (await storage.outbound.get(id))!.deliveries.map((d) => [d.domain, d.state]);
    assert.deepEqual(states, [
      ['now.example', 'delivered'],
      ['later.example', 'deferred'],
      ['gone.example', 'bounced'],
    ]);
    // Not due yet: a wake-up a minute later tries nothing.
    const before = calls.length;
    now += MIN;
    await settle();
    assert.equal(calls.length, before);
    now += 5 * MIN;
    await settle();
    states = (await storage.outbound.get(id))!.deliveries.map((d) => [d.domain, d.state]);
    assert.equal(states[1]?.[1], 'delivered');
    const retried = calls.at(-1)!;
    assert.deepEqual(
      [retried.domain, retried.recipients, retried.attempt],
      ['later.example', ['b@later.example'], 2],
    );
    assert.equal(Buffer.from(retried.raw).toString(), 'Subject: x\r\n\r\nbody\r\n');
    const later = (await storage.outbound.get(id))!.deliveries[1]!;
    const types = (await storage.outbound.events(id))
      .filter((e) => e.deliveryId === later.id)
      .map((e) => e.type);
    assert.deepEqual(types, [
      'delivery:attempted',
      'delivery:deferred',
      'delivery:attempted',
      'delivery:delivered',
    ]);
  });

  it('suppresses a hard bounce and reports the failed recipients once the delivery fails', async () => {
    // 'gone.example' is scripted to bounce (550 5.1.1) in the first test.
    const bounced = failures.find((f) => f.claimed.delivery.domain === 'gone.example');
    assert.ok(bounced);
    assert.deepEqual(
      bounced.failed.map((r) => [r.address, r.outcome]),
      [['c@gone.example', 'bounced']],
    );
    assert.equal(bounced.state, 'bounced');
    assert.equal(Buffer.from(bounced.raw!).toString(), 'Subject: x\r\n\r\nbody\r\n');
    const listed = await storage.outbound.suppressedAmong(['C@gone.example'], new Date(now).toISOString());
    assert.deepEqual(
      listed.map((e) => [e.address, e.reason, e.detail]),
      [['c@gone.example', 'hard-bounce', '550 5.1.1 unknown']],
    );
    // Deliveries that did not fail for good were not reported.
    assert.ok(failures.every((f) => f.state === 'bounced' || f.state === 'expired'));
  });

  it('never tries a suppressed recipient, and records why', async () => {
    await storage.outbound.suppress({
      address: 'blocked@quiet.example',
      reason: 'hard-bounce',
      detail: '550 5.1.1',
      createdAt: new Date(now).toISOString(),
      expiresAt: null,
    });
    const id = newMessageId();
    await enqueue(
      id,
      ['Blocked@quiet.example', 'open@quiet.example', 'only@blocked.example'],
      'Subject: z\r\n\r\n',
    );
    await storage.outbound.suppress({
      address: 'only@blocked.example',
      reason: 'complaint',
      detail: null,
      createdAt: new Date(now).toISOString(),
      expiresAt: null,
    });
    const before = calls.length;
    await settle();
    // Only the one open recipient reached the transport.
    assert.deepEqual(
      calls.slice(before).map((c) => c.recipients),
      [['open@quiet.example']],
    );
    const view = (await storage.outbound.get(id))!;
    assert.deepEqual(
      view.deliveries.map((d) => [d.domain, d.state, d.recipients.map((r) => `${r.address}:${r.state}`)]),
      [
        ['quiet.example', 'delivered', ['Blocked@quiet.example:suppressed', 'open@quiet.example:delivered']],
        ['blocked.example', 'bounced', ['only@blocked.example:suppressed']],
      ],
    );
    const types = (await storage.outbound.events(id)).map((e) => e.type);
    assert.equal(types.filter((t) => t === 'delivery:suppressed').length, 2);
  });

  it('passes its per-domain limits to the queue', async () => {
    const limited = new DeliveryWorker({
      queue: storage.outbound,
      transport,
      schedule: DEFAULT_RETRY_SCHEDULE,
      logger: createLogger('silent'),
      owner: 'limited-worker',
      concurrency: 10,
      leaseMs: 10 * MIN,
      pollMs: 3_600_000,
      now: () => now,
      perDomain: { concurrency: 5, perMinute: 1 },
    });
    for (let i = 0; i < 3; i++) await enqueue(newMessageId(), [`u${i}@slow.example`], 'Subject: s\r\n\r\n');
    const before = calls.length;
    await limited.runOnce();
    // One attempt a minute for slow.example: the other two wait.
    assert.deepEqual(
      calls.slice(before).map((c) => c.domain),
      ['slow.example'],
    );
    await limited.stop();
  });

  it('looks again at once when domains at their limits cut a claim short', async () => {
    // hog.example fills every window the claim reads (four times its limit of 2) but may take
    // one delivery at a time; late.example, due after all of them, must not wait for the poll.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const seen: string[] = [];
    let lateSeen!: () => void;
    const late = new Promise<void>((r) => (lateSeen = r));
    const gated: Transport = {
      name: 'gated',
      async deliver(job) {
        seen.push(job.domain);
        if (job.domain === 'hog.example') await held;
        if (job.domain === 'late.example') lateSeen();
        const reply = '250 2.0.0 ok';
        return {
          results: job.recipients.map((address) => ({ address, outcome: 'delivered', reply })),
          reply,
        };
      },
    };
    await settle(); // what earlier tests left due
    for (let i = 0; i < 12; i++) await enqueue(newMessageId(), [`u${i}@hog.example`], 'Subject: h\r\n\r\n');
    now += 1000;
    await enqueue(newMessageId(), ['x@late.example'], 'Subject: l\r\n\r\n');
    const w = new DeliveryWorker({
      queue: storage.outbound,
      transport: gated,
      schedule: DEFAULT_RETRY_SCHEDULE,
      logger: createLogger('silent'),
      owner: 'gated-worker',
      concurrency: 2,
      leaseMs: 10 * MIN,
      pollMs: 3_600_000,
      now: () => now,
      perDomain: { concurrency: 1, perMinute: Number.MAX_SAFE_INTEGER },
    });
    w.start();
    // Without the second look, late.example would wait for the hourly poll.
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      late.then(() => 'tried'),
      new Promise((r) => {
        timer = setTimeout(() => r('not tried'), 10_000);
      }),
    ]);
    clearTimeout(timer);
    assert.equal(waited, 'tried');
    assert.deepEqual(seen, ['hog.example', 'late.example']);
    release();
    await w.stop();
    // The rest of hog.example is left to the suite's own worker (four at a time).
    for (let i = 0; i < 3; i++) await settle();
  });

  it('defers every recipient with the reason when the transport cannot try at all', async () => {
    script.set('broken.example', ['throw']);
    const id = newMessageId();
    await enqueue(id, ['x@broken.example'], 'Subject: y\r\n\r\n', { mailFrom: '', source: 'system' });
    await settle();
    const d = (await storage.outbound.get(id))!.deliveries[0]!;
    assert.equal(d.state, 'deferred');
    assert.equal(d.lastReply, '451 4.4.0 no route to the relay');
    assert.deepEqual(
      d.recipients.map((r) => [r.state, r.reply]),
      [['deferred', '451 4.4.0 no route to the relay']],
    );
  });
});
