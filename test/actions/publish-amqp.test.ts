// The AMQP publisher against the RabbitMQ running on loopback: each test declares its own exchange
// and queue with unique names, publishes through the publisher, and reads back with a separate
// amqplib connection. Dropped, refused and silent peers are real sockets on 127.0.0.1.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { type Channel, type ChannelModel, connect } from 'amqplib';
import {
  createPublisher,
  type Publisher,
  type PublisherDeps,
  type PublishMessage,
  type PublishTarget,
} from '../../src/actions/publish/publisher.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { closedPort, tcpPeer, tcpProxy } from '../helpers/tcp-peers.ts';

const AMQP_URL = process.env.MAILROOM_TEST_AMQP_URL ?? 'amqp://127.0.0.1:5672';

function message(overrides: Partial<PublishMessage> = {}): PublishMessage {
  return {
    id: randomUUID(),
    body: new TextEncoder().encode(JSON.stringify({ subject: 'Order 42', from: 'shop@example.com' })),
    contentType: 'application/json',
    headers: { 'x-mailroom-route': 'orders' },
    ...overrides,
  };
}

function capturingLogger(): { lines: string[]; logger: PublisherDeps['logger'] } {
  const lines: string[] = [];
  return { lines, logger: createLogger('debug', { write: (line: string) => void lines.push(line) }) };
}

const brokerProxy = () => tcpProxy(AMQP_URL, 5672);

function viaPort(port: number): string {
  const url = new URL(AMQP_URL);
  url.host = `127.0.0.1:${port}`;
  return url.toString();
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(check(), `gave up waiting for ${what}`);
}

describe('AMQP publisher against RabbitMQ', () => {
  let admin: ChannelModel;
  let ch: Channel;
  const exchanges: string[] = [];
  const publishers: Publisher[] = [];

  before(async () => {
    try {
      admin = await connect(AMQP_URL);
    } catch (err) {
      throw new Error(`RabbitMQ must be running for these tests (MAILROOM_TEST_AMQP_URL): ${String(err)}`);
    }
    ch = await admin.createChannel();
  });
  afterEach(async () => {
    await Promise.all(publishers.splice(0).map((p) => p.close()));
  });
  after(async () => {
    for (const name of exchanges) await ch.deleteExchange(name);
    await admin?.close();
  });

  function publisher(
    target: Partial<Extract<PublishTarget, { kind: 'amqp' }>>,
    deps: Partial<PublisherDeps> = {},
  ) {
    const p = createPublisher(
      { kind: 'amqp', url: AMQP_URL, exchange: 'unset', routingKey: 'orders', ...target },
      { logger: capturingLogger().logger, timeoutMs: 5000, ...deps },
    );
    publishers.push(p);
    return p;
  }

  /** A fresh exchange with an exclusive queue bound to it; both named for this test alone. */
  async function boundQueue(type = 'direct', bindArgs?: Record<string, string>) {
    const exchange = `mailroom-test-${randomUUID()}`;
    exchanges.push(exchange);
    await ch.assertExchange(exchange, type, { durable: false, autoDelete: true });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, exchange, 'orders', bindArgs);
    return { exchange, queue };
  }

  it('delivers the body, headers, message id and content type as a persistent message', async () => {
    const { exchange, queue } = await boundQueue();
    const { lines, logger } = capturingLogger();
    const p = publisher({ exchange }, { logger });
    const msg = message();

    assert.deepEqual(await p.publish(msg), { ok: true });
    assert.deepEqual(await p.publish(message({ id: 'second' })), { ok: true });

    const got = await ch.get(queue, { noAck: true });
    assert.ok(got, 'the confirmed message is in the queue');
    assert.deepEqual(new Uint8Array(got.content), msg.body);
    assert.equal(got.properties.messageId, msg.id);
    assert.equal(got.properties.contentType, 'application/json');
    assert.equal(got.properties.deliveryMode, 2);
    assert.equal(got.properties.headers?.['x-mailroom-route'], 'orders');
    assert.equal(got.fields.routingKey, 'orders');
    const opened = lines.filter((line) => line.includes('AMQP connection open'));
    assert.equal(opened.length, 1, 'both publishes share one connection');
  });

  it('reports a message no queue is bound for as a failure not worth retrying', async () => {
    const exchange = `mailroom-test-${randomUUID()}`;
    exchanges.push(exchange);
    await ch.assertExchange(exchange, 'direct', { durable: false });

    const outcome = await publisher({ exchange }).publish(message());

    assert.deepEqual(outcome, {
      ok: false,
      retry: false,
      reason: `no queue bound to ${exchange} with orders`,
    });
  });

  it('tells apart returned and routed messages published at the same time', async () => {
    const { exchange, queue } = await boundQueue('headers', { 'x-match': 'all', route: 'yes' });
    const p = publisher({ exchange });

    const outcomes = await Promise.all(
      ['yes', 'no', 'yes'].map((route) =>
        p.publish(message({ id: `m-${route}-${randomUUID()}`, headers: { route } })),
      ),
    );

    assert.deepEqual(
      outcomes.map((o) => o.ok),
      [true, false, true],
    );
    assert.equal(outcomes[1]?.ok === false && outcomes[1].retry, false);
    const { messageCount } = await ch.checkQueue(queue);
    assert.equal(messageCount, 2);
  });

  it('declares the exchange when asked, then routes once a queue is bound', async () => {
    const exchange = `mailroom-test-${randomUUID()}`;
    exchanges.push(exchange);
    const p = publisher({ exchange, declare: { type: 'topic', durable: false } });

    const first = await p.publish(message());
    assert.deepEqual(first, { ok: false, retry: false, reason: `no queue bound to ${exchange} with orders` });

    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, exchange, '#');
    assert.deepEqual(await p.publish(message()), { ok: true });
    assert.equal((await ch.checkQueue(queue)).messageCount, 1);
  });

  it('reports a missing exchange in the broker words, then recovers a channel for the next publish', async () => {
    const exchange = `mailroom-test-${randomUUID()}`;
    const p = publisher({ exchange });

    const missing = await p.publish(message());
    assert.equal(missing.ok, false);
    assert.equal(!missing.ok && missing.retry, false);
    assert.match(!missing.ok ? missing.reason : '', /404.*NOT_FOUND.*no exchange/);

    exchanges.push(exchange);
    await ch.assertExchange(exchange, 'direct', { durable: false, autoDelete: true });
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, exchange, 'orders');
    const msg = message();
    assert.deepEqual(await p.publish(msg), { ok: true });
    const got = await ch.get(queue, { noAck: true });
    assert.ok(got, 'the message reached the queue');
    assert.equal(got.properties.messageId, msg.id);
  });

  it('answers retryable when the broker is unreachable, and keeps the password out of the logs', async () => {
    const secret = randomUUID();
    const port = await closedPort();
    const { lines, logger } = capturingLogger();
    const p = publisher(
      { url: `amqp://u${randomUUID()}:${secret}@127.0.0.1:${port}`, exchange: 'x' },
      { logger },
    );

    const outcome = await p.publish(message());

    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.retry, true);
    assert.match(!outcome.ok ? outcome.reason : '', /cannot connect to the AMQP broker: .*ECONNREFUSED/);
    assert.ok(lines.length > 0, 'the failure was logged');
    assert.ok(
      lines.some((line) => line.includes(`"endpoint":"amqp://127.0.0.1:${port}`)),
      'the endpoint is logged without credentials',
    );
    assert.ok(!lines.some((line) => line.includes(secret)), 'no log line carries the password');
  });

  it('waits before dialling again after a failed connect', async () => {
    const peer = await tcpPeer((socket) => socket.destroy());
    let now = 0;
    const p = publisher(
      { url: viaPort(peer.port), exchange: 'x' },
      { reconnectDelayMs: 1000, now: () => now },
    );
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
    const p = publisher({ url: viaPort(peer.port), exchange: 'x' }, { timeoutMs: 300 });
    try {
      const outcome = await p.publish(message());
      assert.deepEqual(outcome, { ok: false, retry: true, reason: 'timed out after 300 ms' });
    } finally {
      await peer.close();
    }
  });

  it('reconnects on the next publish after the connection dropped', async () => {
    const { exchange, queue } = await boundQueue();
    const proxy = await brokerProxy();
    const { lines, logger } = capturingLogger();
    const p = publisher({ url: viaPort(proxy.port), exchange }, { logger });
    try {
      assert.deepEqual(await p.publish(message()), { ok: true });
      proxy.cut();
      await until(() => lines.some((line) => line.includes('AMQP connection closed')), 'the drop to be seen');

      assert.deepEqual(await p.publish(message()), { ok: true });
      assert.equal(proxy.connections(), 2);
      assert.equal((await ch.checkQueue(queue)).messageCount, 2);
    } finally {
      await p.close();
      await proxy.close();
    }
  });

  it('refuses to publish once closed, as a retryable failure', async () => {
    const { exchange } = await boundQueue();
    const p = publisher({ exchange });
    assert.deepEqual(await p.publish(message()), { ok: true });
    await p.close();

    assert.deepEqual(await p.publish(message()), { ok: false, retry: true, reason: 'publisher is closed' });
  });
});
