// The inbound pipeline's storage contract: the routing cursor, action jobs and inbound events,
// the same assertions against SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newMessageId } from '../../src/domain/ids.ts';
import type { NewActionJob } from '../../src/storage/inbound-ports.ts';
import type { Storage } from '../../src/storage/ports.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { envelope } from '../helpers/fixtures.ts';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const LEASE = 60_000;

function job(id: string, messageId: string, dueMs = 0): NewActionJob {
  return {
    id,
    messageId,
    routeId: 'r1',
    actionIndex: 0,
    action: { type: 'webhook', url: 'https://hooks.example/in', attachments: 'url' },
    captures: { ticket: '7' },
    recipient: 'support-7@support.example',
    dueAt: at(dueMs),
    expiresAt: at(86_400_000),
  };
}

for (const backend of BACKENDS) {
  describe(`inbound pipeline contract: ${backend.name}`, () => {
    let storage: Storage;
    let cleanup: () => Promise<void>;
    before(async () => {
      const made = await backend.create();
      storage = made.storage;
      cleanup = made.cleanup;
    });
    after(() => cleanup());

    const spool = async (n: number, listener: 'smtp' | 'submission' = 'smtp') => {
      const ids = Array.from({ length: n }, () => newMessageId());
      await storage.appendSpool(
        ids.map((id) => ({
          id,
          envelope: envelope({ listener }),
          raw: new TextEncoder().encode('Subject: x\r\n\r\nx\r\n'),
        })),
      );
      return ids;
    };

    it('hands messages to one router at a time, in order, and moves the cursor with the outcomes', async () => {
      const ids = await spool(3);
      const [sub] = await spool(1, 'submission');
      const take = (owner: string, ms: number, limit = 10) =>
        storage.inbound.takeRouting({ owner, now: at(ms), leaseMs: LEASE, limit });
      const first = await take('a', 0, 2);
      assert.deepEqual(
        first?.map((c) => c.id),
        ids.slice(0, 2),
      );
      assert.equal(first?.[0]?.listener, 'smtp');
      assert.equal(first?.[0]?.parseState, 'pending');
      // Another node waits while the lease runs.
      assert.equal(await take('b', 1000), null);
      const ok = await storage.inbound.commitRouting({
        owner: 'a',
        now: at(2000),
        throughSeq: first![1]!.seq,
        events: [
          {
            id: `${ids[0]}:r1:matched`,
            type: 'route:matched',
            messageId: ids[0]!,
            routeId: 'r1',
            data: { captures: {} },
          },
        ],
        jobs: [job(`${ids[0]}:r1:0`, ids[0]!, 900_000_000_000)],
      });
      assert.equal(ok, true);
      const next = await take('a', 3000);
      assert.deepEqual(
        next?.map((c) => [c.id, c.listener]),
        [
          [ids[2], 'smtp'],
          [sub, 'submission'],
        ],
      );
      // The lease ran out and node b took the cursor: a's commit writes nothing.
      const taken = await take('b', 3000 + LEASE + 1);
      assert.deepEqual(taken?.length, 2);
      const lost = await storage.inbound.commitRouting({
        owner: 'a',
        now: at(3000 + LEASE + 2),
        throughSeq: next![1]!.seq,
        events: [{ id: 'lost', type: 'route:matched', messageId: ids[2]!, routeId: 'r1', data: {} }],
        jobs: [job('lost-job', ids[2]!)],
      });
      assert.equal(lost, false);
      assert.equal(await storage.inbound.actionJob('lost-job'), null);
      assert.deepEqual(await storage.inbound.inboundEvents(ids[2]!), []);
      assert.equal(
        await storage.inbound.commitRouting({
          owner: 'b',
          now: at(3000 + LEASE + 3),
          throughSeq: taken![1]!.seq,
          events: [],
          jobs: [],
        }),
        true,
      );
      assert.deepEqual(await take('b', 3000 + LEASE + 4), []);
      // Events are recorded once, with their time.
      const events = await storage.inbound.inboundEvents(ids[0]!);
      assert.deepEqual(
        events.map((e) => [e.id, e.type, e.routeId, e.at]),
        [[`${ids[0]}:r1:matched`, 'route:matched', 'r1', at(2000)]],
      );
      await storage.inbound.addInboundEvents([{ ...events[0]!, data: { again: true } }], at(9000));
      assert.equal((await storage.inbound.inboundEvents(ids[0]!)).length, 1);
    });

    it('leases action jobs, retries them when due, reaps lost leases, and replays finished ones', async () => {
      const [m] = await spool(1);
      const owner = 'w';
      const cursor = await storage.inbound.takeRouting({
        owner: 'router',
        now: at(100_000_000),
        leaseMs: LEASE,
        limit: 100,
      });
      await storage.inbound.commitRouting({
        owner: 'router',
        now: at(100_000_000),
        throughSeq: cursor!.at(-1)!.seq,
        events: [],
        jobs: [job('j1', m!, 0), job('j2', m!, 5000), job('j1', m!, 0)],
      });
      const claim = (ms: number, who = owner) =>
        storage.inbound.claimActions({ owner: who, now: at(ms), leaseMs: LEASE, limit: 10 });
      const first = await claim(1000);
      assert.deepEqual(
        first.map((j) => [j.id, j.state, j.attempts]),
        [['j1', 'running', 1]],
      );
      assert.deepEqual(first[0]?.action, job('j1', m!).action);
      assert.deepEqual(first[0]?.captures, { ticket: '7' });
      assert.deepEqual(await claim(1000, 'other'), []);
      // A retry: due again in a minute.
      assert.equal(
        await storage.inbound.recordAction({
          id: 'j1',
          owner: 'other',
          now: at(2000),
          state: 'succeeded',
          error: null,
          events: [],
        }),
        false,
      );
      assert.equal(
        await storage.inbound.recordAction({
          id: 'j1',
          owner,
          now: at(2000),
          state: 'pending',
          nextAttemptAt: at(62_000),
          error: '503 Service Unavailable',
          events: [
            { id: 'j1:1', type: 'action:failed', messageId: m!, routeId: 'r1', data: { retry: true } },
          ],
        }),
        true,
      );
      assert.deepEqual(
        (await claim(6000)).map((j) => j.id),
        ['j2'],
      );
      const again = await claim(62_000);
      assert.deepEqual(
        again.map((j) => [j.id, j.attempts, j.lastError]),
        [['j1', 2, '503 Service Unavailable']],
      );
      // j2's worker died: its lease runs out and the job is due again.
      assert.equal(await storage.inbound.reapActions(at(6000 + LEASE + 1)), 1);
      const reaped = await storage.inbound.actionJob('j2');
      assert.equal(reaped?.state, 'pending');
      assert.match(reaped?.lastError ?? '', /lost its lease/);
      const last = await claim(6000 + LEASE + 2);
      assert.deepEqual(
        last.map((j) => j.id),
        ['j2'],
      );
      for (const j of [...again, ...last]) {
        await storage.inbound.recordAction({
          id: j.id,
          owner,
          now: at(200_000),
          state: 'failed',
          error: '410 Gone',
          events: [],
        });
      }
      assert.deepEqual(
        (await storage.inbound.actionJobs({ messageId: m!, state: 'failed', start: 0, limit: 10 }))
          .map((j) => j.id)
          .sort(),
        ['j1', 'j2'],
      );
      // Replay: due now, with a fresh lifetime.
      const replayed = await storage.inbound.replayAction('j1', at(300_000), at(400_000_000));
      assert.ok(replayed);
      assert.equal(replayed.state, 'pending');
      assert.equal(replayed.nextAttemptAt, at(300_000));
      assert.equal(replayed.expiresAt, at(400_000_000));
      assert.equal(await storage.inbound.replayAction('nope', at(300_000), at(400_000_000)), null);
      const running = await claim(300_000);
      assert.equal(await storage.inbound.replayAction(running[0]!.id, at(300_001), at(400_000_000)), false);
      assert.deepEqual(
        (await storage.inbound.inboundEvents(m!)).map((e) => e.type),
        ['action:failed'],
      );
    });

    it('gives each due job to one of several claimers at once', async () => {
      const [m] = await spool(1);
      const cursor = await storage.inbound.takeRouting({
        owner: 'router',
        now: at(500_000_000),
        leaseMs: LEASE,
        limit: 100,
      });
      const jobs = Array.from({ length: 30 }, (_, i) => job(`many-${i}`, m!, 0));
      await storage.inbound.commitRouting({
        owner: 'router',
        now: at(500_000_000),
        throughSeq: cursor!.at(-1)!.seq,
        events: [],
        jobs,
      });
      const claims = await Promise.all(
        ['x', 'y', 'z'].map((owner) =>
          storage.inbound.claimActions({ owner, now: at(500_000_001), leaseMs: LEASE, limit: 12 }),
        ),
      );
      const ids = claims
        .flat()
        .map((j) => j.id)
        .filter((id) => id.startsWith('many-'));
      assert.equal(new Set(ids).size, ids.length);
      assert.equal(ids.length, 30);
    });
  });
}
