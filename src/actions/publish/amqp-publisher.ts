// RabbitMQ publisher: one connection and one confirm channel, opened on the first publish and opened
// again on the next publish after either closed. Each message is persistent and mandatory, and its
// outcome waits for the broker's confirm, so "ok" means the broker has taken responsibility for it.
import { type ChannelModel, type ConfirmChannel, connect, type Message } from 'amqplib';
import type { Logger } from '../../observability/logger.ts';
import type { AdapterDeps, AmqpTarget, Publisher, PublishMessage, PublishOutcome } from './publisher.ts';

/** One publish waiting for its confirm; `returned` is set when the broker sent it back unroutable. */
interface Pending {
  id: string;
  returned: boolean;
  settle(outcome: PublishOutcome): void;
}

interface ChannelState {
  channel: ConfirmChannel;
  pending: Pending[];
  closed: boolean;
}

/** Thrown when the broker could not be reached, as opposed to a refusal on an open connection. */
class ConnectFailed extends Error {}

const OK: PublishOutcome = { ok: true };

// Reply codes that answer what was asked, so asking again fails the same way: 311 content-too-large,
// 403 access-refused, 404 not-found, 406 precondition-failed (the AMQP 0-9-1 reply-code constants).
// Others (320 connection-forced, 405 resource-locked, 5xx) may pass on a new channel or connection.
const PERMANENT_REPLY_CODES = new Set([311, 403, 404, 406]);

export class AmqpPublisher implements Publisher {
  private readonly target: AmqpTarget;
  private readonly deps: AdapterDeps;
  private readonly log: Logger;
  private model: ChannelModel | null = null;
  private connecting: Promise<ChannelModel> | null = null;
  private current: ChannelState | null = null;
  private opening: Promise<ChannelState> | null = null;
  private lastConnectFailure: { at: number; reason: string } | null = null;
  private closed = false;

  constructor(target: AmqpTarget, deps: AdapterDeps) {
    this.target = target;
    this.deps = deps;
    this.log = deps.logger;
  }

  async publish(msg: PublishMessage): Promise<PublishOutcome> {
    if (this.closed) return { ok: false, retry: true, reason: 'publisher is closed' };
    const waiting = this.reconnectWait();
    if (waiting) return waiting;
    let state: ChannelState;
    try {
      state = await this.ready();
    } catch (err) {
      return this.setupFailed(err);
    }
    return this.send(state, msg);
  }

  async close(): Promise<void> {
    this.closed = true;
    const model = this.model ?? (await this.connecting?.catch(() => null)) ?? null;
    this.model = null;
    if (model) await model.close().catch(() => undefined);
  }

  /** Refuses at once while a recent connect failure is fresh, so a backlog cannot dial in a loop. */
  private reconnectWait(): PublishOutcome | null {
    const failure = this.lastConnectFailure;
    if (!failure || this.deps.now() - failure.at >= this.deps.reconnectDelayMs) return null;
    return { ok: false, retry: true, reason: `${failure.reason} (next connect attempt after a pause)` };
  }

  private ready(): Promise<ChannelState> {
    if (this.current && !this.current.closed) return Promise.resolve(this.current);
    this.opening ??= this.openChannel().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private async openChannel(): Promise<ChannelState> {
    const model = await this.connection();
    const channel = await model.createConfirmChannel();
    const state: ChannelState = { channel, pending: [], closed: false };
    channel.on('error', (err: Error) => this.channelFailed(state, err));
    channel.on('close', () => this.channelClosed(state));
    channel.on('return', (returned: Message) => markReturned(state, returned));
    const { declare } = this.target;
    if (declare)
      await channel.assertExchange(this.target.exchange, declare.type, { durable: declare.durable });
    this.current = state;
    return state;
  }

  private connection(): Promise<ChannelModel> {
    if (this.model) return Promise.resolve(this.model);
    this.connecting ??= this.openConnection().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async openConnection(): Promise<ChannelModel> {
    let model: ChannelModel;
    try {
      // The socket timeout bounds the handshake, so a silent peer does not hold the attempt forever.
      model = await connect(this.target.url, { timeout: this.deps.timeoutMs });
    } catch (err) {
      throw new ConnectFailed(`cannot connect to the AMQP broker: ${describe(err)}`);
    }
    model.on('error', (err: Error) => this.log.warn({ err: describe(err) }, 'AMQP connection error'));
    model.on('close', () => this.connectionClosed(model));
    model.on('blocked', (reason: string) => this.log.warn({ reason }, 'AMQP broker blocked publishing'));
    model.on('unblocked', () => this.log.info('AMQP broker unblocked publishing'));
    if (this.closed) {
      await model.close().catch(() => undefined);
      throw new ConnectFailed('publisher is closed');
    }
    this.model = model;
    this.lastConnectFailure = null;
    this.log.info('AMQP connection open');
    return model;
  }

  private connectionClosed(model: ChannelModel): void {
    if (this.model !== model) return;
    this.model = null;
    if (!this.closed) this.log.warn('AMQP connection closed; the next publish reconnects');
  }

  private setupFailed(err: unknown): PublishOutcome {
    if (err instanceof ConnectFailed) {
      this.lastConnectFailure = { at: this.deps.now(), reason: err.message };
      return { ok: false, retry: true, reason: err.message };
    }
    return { ok: false, retry: !isPermanent(err), reason: `cannot open an AMQP channel: ${describe(err)}` };
  }

  /** A channel closed by the broker (404 for a missing exchange, say): its words answer every waiting publish. */
  private channelFailed(state: ChannelState, err: Error): void {
    this.log.warn({ err: describe(err) }, 'AMQP channel closed by the broker');
    settleAll(state, { ok: false, retry: !isPermanent(err), reason: describe(err) });
  }

  private channelClosed(state: ChannelState): void {
    state.closed = true;
    settleAll(state, { ok: false, retry: true, reason: 'AMQP channel closed before the broker confirmed' });
  }

  private send(state: ChannelState, msg: PublishMessage): Promise<PublishOutcome> {
    const { exchange, routingKey } = this.target;
    return new Promise((resolve) => {
      const entry: Pending = {
        id: msg.id,
        returned: false,
        settle: (outcome) => {
          const at = state.pending.indexOf(entry);
          if (at < 0) return;
          state.pending.splice(at, 1);
          resolve(outcome);
        },
      };
      state.pending.push(entry);
      const content = Buffer.from(msg.body.buffer, msg.body.byteOffset, msg.body.byteLength);
      const options = {
        persistent: true,
        mandatory: true,
        messageId: msg.id,
        contentType: msg.contentType,
        headers: msg.headers,
      };
      try {
        state.channel.publish(exchange, routingKey, content, options, (err) => {
          entry.settle(this.confirmed(entry, err));
        });
      } catch (err) {
        // amqplib throws when the channel is already closing, or when a header table is too large.
        entry.settle({ ok: false, retry: !(err instanceof RangeError), reason: describe(err) });
      }
    });
  }

  private confirmed(entry: Pending, err: unknown): PublishOutcome {
    if (err)
      return { ok: false, retry: true, reason: `the broker did not accept the message: ${describe(err)}` };
    if (entry.returned) {
      const { exchange, routingKey } = this.target;
      return { ok: false, retry: false, reason: `no queue bound to ${exchange} with ${routingKey}` };
    }
    this.log.debug({ messageId: entry.id }, 'published, confirmed by the broker');
    return OK;
  }
}

/**
 * With mandatory set, RabbitMQ sends basic.return for an unroutable message before the basic.ack for
 * it, and both come in publish order; so a return belongs to the oldest unconfirmed publish with that
 * message id not already marked, which the confirm then reports as unroutable.
 */
function markReturned(state: ChannelState, returned: Message): void {
  const id: unknown = returned.properties.messageId;
  const entry = state.pending.find((p) => p.id === id && !p.returned);
  if (entry) entry.returned = true;
}

function settleAll(state: ChannelState, outcome: PublishOutcome): void {
  for (const entry of [...state.pending]) entry.settle(outcome);
}

function isPermanent(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' && PERMANENT_REPLY_CODES.has(code);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
