// Publishing a message's JSON payload to a broker (RabbitMQ over AMQP 0-9-1, or NATS with or without
// JetStream) so other services consume it. The caller gets one outcome per publish, shaped so it can
// tell a failure worth retrying (broker down, slow, nacked) from one that will fail again the same way
// (nothing bound to the routing key, no stream for the subject, the broker refusing the request).
import type { Logger } from '../../observability/logger.ts';

export type ExchangeType = 'direct' | 'topic' | 'fanout';

export interface AmqpTarget {
  kind: 'amqp';
  url: string;
  exchange: string;
  routingKey: string;
  /** Declares the exchange when the channel opens; without it the exchange must already exist. */
  declare?: { type: ExchangeType; durable: boolean };
}

export interface NatsTarget {
  kind: 'nats';
  /** One server or a comma-separated list, as the NATS client accepts them. */
  servers: string;
  subject: string;
  /** Publish through JetStream and wait for the stream's PubAck, rather than core publish and flush. */
  jetstream: boolean;
}

export type PublishTarget = AmqpTarget | NatsTarget;

export interface PublishMessage {
  /** Stable across retries of the same message: the AMQP message-id and the JetStream dedupe key. */
  id: string;
  body: Uint8Array;
  contentType: string;
  headers: Record<string, string>;
}

export type PublishOutcome = { ok: true } | { ok: false; retry: boolean; reason: string };

export interface Publisher {
  /** Publishes once; resolves when the broker confirmed (AMQP publisher confirm; JetStream ack; core NATS: after flush). Never rejects. */
  publish(msg: PublishMessage): Promise<PublishOutcome>;
  /** Closes the connection; later publishes fail (retryable, since the message itself is fine). */
  close(): Promise<void>;
}

export interface PublisherDeps {
  logger: Logger;
  /** Bound on each publish, connecting included. */
  timeoutMs?: number;
  /** After a failed connect, publishes fail at once for this long instead of dialling again. */
  reconnectDelayMs?: number;
  /** The clock the reconnect delay is measured on. */
  now?: () => number;
}

/** What each adapter is given: every option resolved, and a logger already scoped to the target. */
export interface AdapterDeps {
  logger: Logger;
  timeoutMs: number;
  reconnectDelayMs: number;
  now: () => number;
}

export const DEFAULT_PUBLISH_TIMEOUT_MS = 10_000;
export const DEFAULT_RECONNECT_DELAY_MS = 1_000;

export function createPublisher(target: PublishTarget, deps: PublisherDeps): Publisher {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  const scope =
    target.kind === 'amqp'
      ? {
          broker: 'amqp',
          endpoint: redactUrl(target.url),
          exchange: target.exchange,
          routingKey: target.routingKey,
        }
      : { broker: 'nats', endpoint: redactUrl(target.servers), subject: target.subject };
  const adapterDeps: AdapterDeps = {
    logger: deps.logger.child(scope),
    timeoutMs,
    reconnectDelayMs: deps.reconnectDelayMs ?? DEFAULT_RECONNECT_DELAY_MS,
    now: deps.now ?? Date.now,
  };
  // The broker clients (amqplib, the NATS packages: 1.6 MB of heap) load with the first publish.
  const inner = onFirstUse(async () =>
    target.kind === 'amqp'
      ? new (await import('./amqp-publisher.ts')).AmqpPublisher(target, adapterDeps)
      : new (await import('./nats-publisher.ts')).NatsPublisher(target, adapterDeps),
  );
  return withDeadline(inner, timeoutMs, adapterDeps.logger);
}

/** A publisher made when first used; closing one never used makes nothing. */
function onFirstUse(make: () => Promise<Publisher>): Publisher {
  let made: Promise<Publisher> | null = null;
  let closed = false;
  return {
    async publish(msg) {
      if (closed) return { ok: false, retry: true, reason: 'publisher is closed' };
      made ??= make();
      try {
        return await (await made).publish(msg);
      } catch (err) {
        made = null;
        return {
          ok: false,
          retry: true,
          reason: `broker client could not be loaded: ${(err as Error).message}`,
        };
      }
    },
    async close() {
      closed = true;
      if (made) await (await made.catch(() => null))?.close();
    },
  };
}

/** Drops user and password from each URL of a (comma-separated) list, so it can be logged. */
export function redactUrl(urls: string): string {
  return urls
    .split(',')
    .map((url) => url.trim().replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^@/]*@/i, '$1'))
    .join(',');
}

/**
 * Bounds every publish. The adapter's own work is left to settle by itself (a confirm that comes late
 * finds nobody waiting); the caller has its answer, and retries, which the broker's dedupe or the
 * consumer's idempotence must absorb since a timed-out message may still have been delivered.
 */
function withDeadline(inner: Publisher, timeoutMs: number, logger: Logger): Publisher {
  return {
    async publish(msg) {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<PublishOutcome>((resolve) => {
        timer = setTimeout(
          () => resolve({ ok: false, retry: true, reason: `timed out after ${timeoutMs} ms` }),
          timeoutMs,
        );
      });
      try {
        const outcome = await Promise.race([inner.publish(msg), expired]);
        if (!outcome.ok)
          logger.warn({ messageId: msg.id, retry: outcome.retry }, `publish failed: ${outcome.reason}`);
        return outcome;
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => inner.close(),
  };
}
