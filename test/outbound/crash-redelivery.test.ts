// A worker killed after the remote's 250 and before recording it: the lease runs out, another
// worker sends the message again, and the remote sees at most one duplicate, with the same
// Message-ID (the queue keeps the exact bytes, so the retry is the same message).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { newMessageId } from '../../src/domain/ids.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { DeliveryWorker } from '../../src/outbound/delivery-worker.ts';
import { DEFAULT_RETRY_SCHEDULE } from '../../src/outbound/retry-schedule.ts';
import { RelayTransport } from '../../src/outbound/transports/relay.ts';
import { SqliteStorage } from '../../src/storage/sqlite/store.ts';
import { tempDir } from '../helpers/backends.ts';
import { outboundMessage } from '../helpers/fixtures.ts';
import { readData, type ScriptedSmtp, scriptedSmtp } from '../helpers/smtp-peer.ts';

describe('a worker that dies between the 250 and its record', () => {
  const dir = tempDir();
  const received: string[] = [];
  let server: ScriptedSmtp;
  let storage: SqliteStorage;
  let port: number;

  before(async () => {
    server = await scriptedSmtp({
      onData(stream, _s, cb) {
        void readData(stream, 'latin1').then((data) => {
          received.push(data);
          cb();
        });
      },
    });
    port = server.port;
    storage = await SqliteStorage.open(dir);
  });
  after(async () => {
    await storage.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('causes one duplicate at most, with the same Message-ID', async () => {
    const t0 = Date.parse('2026-11-24T10:00:00.000Z');
    const id = newMessageId();
    const source = `Message-ID: <${id}@shop.example>\r\nSubject: once\r\n\r\nbody\r\n`;
    await storage.outbound.enqueue(outboundMessage(['ann@one.example'], source, t0, { id }));
    const relay = new RelayTransport({
      target: { host: '127.0.0.1', port, tls: 'none', heloName: 'mailroom.test', verifyTls: false },
    });
    // The first worker claims, sends (the remote says 250)... and dies before recording.
    const [claimed] = await storage.outbound.claim({
      owner: 'doomed',
      now: new Date(t0).toISOString(),
      leaseMs: 60_000,
      limit: 1,
    });
    assert.ok(claimed);
    const raw = (await storage.outbound.raw(id))!;
    const first = await relay.deliver(
      {
        ...claimed,
        outboundId: id,
        deliveryId: claimed.delivery.id,
        domain: 'one.example',
        recipients: ['ann@one.example'],
        raw,
        attempt: 1,
      },
      new AbortController().signal,
    );
    assert.equal(first.results[0]?.outcome, 'delivered');

    // Later, another worker finds the lease expired, and the delivery due again.
    let now = t0 + 60_000;
    const survivor = new DeliveryWorker({
      queue: storage.outbound,
      transport: relay,
      schedule: DEFAULT_RETRY_SCHEDULE,
      logger: createLogger('silent'),
      owner: 'survivor',
      concurrency: 1,
      leaseMs: 60_000,
      pollMs: 3_600_000,
      now: () => now,
    });
    await survivor.runOnce();
    now += 1000;
    await survivor.runOnce();
    const view = (await storage.outbound.get(id))!;
    assert.equal(view.deliveries[0]?.state, 'delivered');
    assert.equal(view.deliveries[0]?.attempts, 2);
    // The dead worker's late record, should it ever arrive, is refused.
    assert.equal(
      await storage.outbound.recordAttempt({
        deliveryId: claimed.delivery.id,
        owner: 'doomed',
        now: new Date(now).toISOString(),
        results: [],
        state: 'delivered',
        reply: '250',
        events: [],
      }),
      false,
    );
    // Two copies reached the remote: the one never recorded and its retry, byte for byte the same.
    assert.equal(received.length, 2);
    assert.equal(received[0], received[1]);
    assert.match(received[0]!, new RegExp(`^Message-ID: <${id}@shop\\.example>`, 'm'));
  });
});
