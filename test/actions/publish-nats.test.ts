// The NATS publisher against the nats-server (JetStream enabled) running on loopback: core publishes
// are read by a subscription on a separate connection; JetStream publishes land in a memory stream
// each test creates under a unique name and deletes. Dropped, refused and silent peers are real
// sockets on 127.0.0.1.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { type JetStreamManager, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  createPublisher,
  type NatsTarget,
  type Publisher,
  type PublisherDeps,
  type PublishMessage,
} from '../../src/actions/publish/publisher.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { closedPort, tcpPeer, tcpProxy } from '../helpers/tcp-peers.ts';

const NATS_URL = process.env.MAILROOM_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

function message(overrides: Partial<PublishMessage> = {}): PublishMessage {
  return {
    id: randomUUID(),
    body: new TextEncoder().encode(JSON.stringify({ subject: 'Order 42', from: 'shop@example.com' })),
    contentType: 'application/json',
    headers: { 'X-Mailroom-Route': 'orders' },
    ...overrides,
  };
}

function capturingLogger(): { lines: string[]; logger: PublisherDeps['logger'] } {
  const lines: string[] = [];
  return { lines, logger: createLogger('debug', { write: (line: string) => void lines.push(line) }) };
}

function uniqueSubject(): string {
  return `mailroom.test.${randomUUID()}`;
}

const serverProxy = () => tcpProxy(NATS_URL, 4222);

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(check(), `gave up waiting for ${what}`);
}

describe('NATS publisher against nats-server', () => {
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  const publishers: Publisher[] = [];

  before(async () => {
    try {
      admin = await connect({ servers: NATS_URL, timeout: 3000 });
    } catch (err) {
      throw new Error(`nats-server must be running for these tests (MAILROOM_TEST_NATS_URL): ${String(err)}`);
    }
    jsm = await jetstreamManager(admin);
  });
  afterEach(async () => {
    await Promise.all(publishers.splice(0).map((p) => p.close()));
  });
  after(async () => {
    await admin?.close();
  });

  function publisher(target: Partial<NatsTarget>, deps: Partial<PublisherDeps> = {}) {
    const p = createPublisher(
      { kind: 'nats', servers: NATS_URL, subject: uniqueSubject(), jetstream: false, ...target },
      { logger: capturingLogger().logger, timeoutMs: 5000, ...deps },
    );
    publishers.push(p);
    return p;
  }

  /** A memory stream on a subject of its own; deleted when `use` is done. */
  async function withStream(use: (stream: string, subject: string) => Promise<void>): Promise<void> {
    const stream = `MAILROOM_TEST_${randomUUID().replaceAll('-', '')}`;
    const subject = uniqueSubject();
    await jsm.streams.add({ name: stream, subjects: [subject], storage: StorageType.Memory });
    try {
      await use(stream, subject);
    } finally {
      await jsm.streams.delete(stream);
    }
  }

  it('delivers the body and headers to a core subscriber', async () => {
    const subject = uniqueSubject();
    const sub = admin.subscribe(subject, { max: 1 });
    await admin.flush();
    const { lines, logger } = capturingLogger();
    const p = publisher({ subject }, { logger });
    const msg = message();

    assert.deepEqual(await p.publish(msg), { ok: true });

    for await (const got of sub) {
      assert.deepEqual(new Uint8Array(got.data), msg.body);
      assert.equal(got.headers?.get('X-Mailroom-Route'), 'orders');
      assert.equal(got.headers?.get('Content-Type'), 'application/json');
      assert.equal(got.headers?.get('Nats-Msg-Id'), msg.id);
    }
    assert.equal(sub.getProcessed(), 1);
    assert.deepEqual(await p.publish(message()), { ok: true });
    assert.equal(lines.filter((line) => line.includes('NATS connection open')).length, 1, 'one connection');
  });

  it('stores a message published twice with the same id once in the stream', async () => {
    await withStream(async (stream, subject) => {
      const p = publisher({ subject, jetstream: true });
      const msg = message();

      assert.deepEqual(await p.publish(msg), { ok: true });
      assert.deepEqual(await p.publish(msg), { ok: true });
      assert.equal((await jsm.streams.info(stream)).state.messages, 1);

      const stored = await jsm.streams.getMessage(stream, { seq: 1 });
      assert.deepEqual(new Uint8Array(stored?.data ?? []), msg.body);
      assert.equal(stored?.header.get('X-Mailroom-Route'), 'orders');
      assert.equal(stored?.header.get('Nats-Msg-Id'), msg.id);

      assert.deepEqual(await p.publish(message()), { ok: true });
      assert.equal((await jsm.streams.info(stream)).state.messages, 2, 'another id is another message');
    });
  });

  it('reports a subject no stream captures as a failure not worth retrying', async () => {
    const subject = uniqueSubject();
    const outcome = await publisher({ subject, jetstream: true }).publish(message());

    assert.deepEqual(outcome, {
      ok: false,
      retry: false,
      reason: `no JetStream stream captures subject ${subject}`,
    });
  });

  it('reports a header NATS cannot carry as a failure not worth retrying', async () => {
    const outcome = await publisher({}).publish(message({ headers: { 'X-Bad': 'one\r\ntwo' } }));

    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.retry, false);
    assert.match(!outcome.ok ? outcome.reason : '', /^invalid header: /);
  });

  it('answers retryable when the server is unreachable, and keeps the password out of the logs', async () => {
    const secret = randomUUID();
    const port = await closedPort();
    const { lines, logger } = capturingLogger();
    const p = publisher({ servers: `nats://u${randomUUID()}:${secret}@127.0.0.1:${port}` }, { logger });

    const outcome = await p.publish(message());

    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.retry, true);
    assert.match(!outcome.ok ? outcome.reason : '', /^cannot connect to NATS: /);
    assert.ok(lines.some((line) => line.includes(`"endpoint":"nats://127.0.0.1:${port}"`)));
    assert.ok(!lines.some((line) => line.includes(secret)), 'no log line carries the password');
  });

  it('waits before dialling again after a failed connect', async () => {
    const peer = await tcpPeer((socket) => socket.destroy());
    let now = 0;
    const p = publisher({ servers: `127.0.0.1:${peer.port}` }, { reconnectDelayMs: 1000, now: () => now });
    try {
      const first = await p.publish(message());
      assert.equal(!first.ok && first.retry, true);
      assert.equal(peer.connections(), 1);

      now = 999;
      const second = await p.publish(message());
      assert.equal(!second.ok && second.retry, true);
      assert.equal(peer.connections(), 1, 'no new connection inside the delay');

      now = 1000;
      await p.publish(message());
      assert.equal(peer.connections(), 2);
    } finally {
      await peer.close();
    }
  });

  it('bounds a publish to a silent peer by the timeout, as a retryable failure', async () => {
    const peer = await tcpPeer(() => undefined);
    const p = publisher({ servers: `127.0.0.1:${peer.port}` }, { timeoutMs: 300 });
    try {
      const outcome = await p.publish(message());
      assert.deepEqual(outcome, { ok: false, retry: true, reason: 'timed out after 300 ms' });
    } finally {
      await peer.close();
    }
  });

  it('reconnects on the next publish after the connection dropped', async () => {
    await withStream(async (stream, subject) => {
      const proxy = await serverProxy();
      const { lines, logger } = capturingLogger();
      const p = publisher({ servers: `127.0.0.1:${proxy.port}`, subject, jetstream: true }, { logger });
      try {
        assert.deepEqual(await p.publish(message()), { ok: true });
        proxy.cut();
        await until(
          () => lines.some((line) => line.includes('NATS connection closed')),
          'the drop to be seen',
        );

        assert.deepEqual(await p.publish(message()), { ok: true });
        assert.equal(proxy.connections(), 2);
        assert.equal((await jsm.streams.info(stream)).state.messages, 2);
      } finally {
        await p.close();
        await proxy.close();
      }
    });
  });
});
