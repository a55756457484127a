// NATS publisher: one connection, opened on the first publish and opened again on the next publish
// after it closed (the client's own reconnect loop is off, so nothing dials in the background). With
// JetStream, "ok" is the stream's PubAck; with core NATS, it is the server answering the flush PING,
// which proves it read the message, not that anyone subscribed.
import { JetStreamApiError, type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, errors, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../../observability/logger.ts';
import type { AdapterDeps, NatsTarget, Publisher, PublishMessage, PublishOutcome } from './publisher.ts';

interface Link {
  nc: NatsConnection;
  js: JetStreamClient;
}

export class NatsPublisher implements Publisher {
  private readonly target: NatsTarget;
  private readonly deps: AdapterDeps;
  private readonly log: Logger;
  private link: Link | null = null;
  private connecting: Promise<Link> | null = null;
  private lastConnectFailure: { at: number; reason: string } | null = null;
  private closed = false;

  constructor(target: NatsTarget, deps: AdapterDeps) {
    this.target = target;
    this.deps = deps;
    this.log = deps.logger;
  }

  async publish(msg: PublishMessage): Promise<PublishOutcome> {
    if (this.closed) return { ok: false, retry: true, reason: 'publisher is closed' };
    const waiting = this.reconnectWait();
    if (waiting) return waiting;
    let link: Link;
    try {
      link = await this.connection();
    } catch (err) {
      const reason = `cannot connect to NATS: ${describe(err)}`;
      this.lastConnectFailure = { at: this.deps.now(), reason };
      return { ok: false, retry: true, reason };
    }
    let hdrs: MsgHdrs;
    try {
      hdrs = natsHeaders(msg);
    } catch (err) {
      return { ok: false, retry: false, reason: `invalid header: ${describe(err)}` };
    }
    return this.target.jetstream ? this.publishJetStream(link, msg, hdrs) : this.publishCore(link, msg, hdrs);
  }

  async close(): Promise<void> {
    this.closed = true;
    const link = this.link ?? (await this.connecting?.catch(() => null)) ?? null;
    this.link = null;
    if (link) await link.nc.close().catch(() => undefined);
  }

  /** Refuses at once while a recent connect failure is fresh, so a backlog cannot dial in a loop. */
  private reconnectWait(): PublishOutcome | null {
    const failure = this.lastConnectFailure;
    if (!failure || this.deps.now() - failure.at >= this.deps.reconnectDelayMs) return null;
    return { ok: false, retry: true, reason: `${failure.reason} (next connect attempt after a pause)` };
  }

  private connection(): Promise<Link> {
    if (this.link) return Promise.resolve(this.link);
    this.connecting ??= this.openConnection().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async openConnection(): Promise<Link> {
    const servers = this.target.servers.split(',').map((s) => s.trim());
    const nc = await connect({ servers, timeout: this.deps.timeoutMs, reconnect: false, name: 'mailroom' });
    if (this.closed) {
      await nc.close().catch(() => undefined);
      throw new Error('publisher is closed');
    }
    const link = { nc, js: jetstream(nc, { timeout: this.deps.timeoutMs }) };
    void nc.closed().then((err) => this.connectionClosed(link, err ?? undefined));
    this.link = link;
    this.lastConnectFailure = null;
    this.log.info('NATS connection open');
    return link;
  }

  private connectionClosed(link: Link, err: Error | undefined): void {
    if (this.link !== link) return;
    this.link = null;
    if (!this.closed) this.log.warn({ err: err ? describe(err) : undefined }, 'NATS connection closed');
  }

  private async publishCore(link: Link, msg: PublishMessage, hdrs: MsgHdrs): Promise<PublishOutcome> {
    try {
      // The id goes in the header JetStream would use, so core subscribers see it under the same name.
      hdrs.set('Nats-Msg-Id', msg.id);
      link.nc.publish(this.target.subject, msg.body, { headers: hdrs });
      await link.nc.flush();
    } catch (err) {
      return classify(err);
    }
    this.log.debug({ messageId: msg.id }, 'published, flushed to the server');
    return { ok: true };
  }

  private async publishJetStream(link: Link, msg: PublishMessage, hdrs: MsgHdrs): Promise<PublishOutcome> {
    try {
      // Nats-Msg-Id lets the stream drop a retry of a message it already stored (within its
      // duplicate window), so retrying after a lost ack does not store the message twice.
      const ack = await link.js.publish(this.target.subject, msg.body, {
        msgID: msg.id,
        headers: hdrs,
        timeout: this.deps.timeoutMs,
      });
      this.log.debug(
        { messageId: msg.id, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate },
        'published, acknowledged by the stream',
      );
      return { ok: true };
    } catch (err) {
      if (isNoResponders(err)) return this.noStream(link);
      return classify(err);
    }
  }

  /** No responder on the subject means no stream captures it, or JetStream is off: tell which. */
  private async noStream(link: Link): Promise<PublishOutcome> {
    const enabled = await jetstreamManager(link.nc, { timeout: this.deps.timeoutMs }).then(
      () => true,
      () => false,
    );
    const reason = enabled
      ? `no JetStream stream captures subject ${this.target.subject}`
      : 'JetStream is not enabled on the NATS server';
    return { ok: false, retry: false, reason };
  }
}

function natsHeaders(msg: PublishMessage): MsgHdrs {
  const hdrs = headers();
  for (const [name, value] of Object.entries(msg.headers)) hdrs.set(name, value);
  // NATS has no content-type of its own; a header carries it.
  hdrs.set('Content-Type', msg.contentType);
  return hdrs;
}

function isNoResponders(err: unknown): boolean {
  // The JetStream client turns "no responders" on a publish into JetStreamNotEnabled, which it does not export.
  return err instanceof Error && err.name === 'JetStreamNotEnabled';
}

function classify(err: unknown): PublishOutcome {
  const reason = describe(err);
  if (err instanceof JetStreamApiError) {
    // The API's own status: 503 and the like are the stream being unavailable for now; 4xx is a refusal.
    return { ok: false, retry: err.status >= 500, reason: `JetStream refused the message: ${reason}` };
  }
  if (err instanceof errors.TimeoutError) return { ok: false, retry: true, reason: `timed out: ${reason}` };
  const permanent =
    err instanceof errors.InvalidArgumentError ||
    err instanceof errors.InvalidSubjectError ||
    err instanceof errors.PermissionViolationError;
  return { ok: false, retry: !permanent, reason };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
