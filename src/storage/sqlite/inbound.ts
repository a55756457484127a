// SQLite side of the inbound pipeline port: reads on the calling thread's connection, writes
// through the writer thread (inbound-ops.ts).
import type { DatabaseSync } from 'node:sqlite';
import type { SpoolEntry } from '../../domain/message.ts';
import { copyFor } from '../../runtime/thread-bytes.ts';
import type {
  ActionAttempt,
  ActionJob,
  ActionJobState,
  AutoReplyClaim,
  InboundEvent,
  InboundEventInput,
  InboundStore,
  RoutingCandidate,
  RoutingCommit,
  WebhookEndpoint,
  WebhookOutcome,
} from '../inbound-ports.ts';
import {
  type ActionJobRow,
  actionJobById,
  type InboundEventRow,
  toActionJob,
  toInboundEvent,
} from './inbound-sql.ts';
import { knownImportKeys, toWebhookEndpoint, type WebhookEndpointRow } from './intake-ops.ts';
import { stmt } from './statements.ts';
import type { SqliteWriter } from './writer.ts';

type Lease = { owner: string; now: string; leaseMs: number; limit: number };

export class SqliteInbound implements InboundStore {
  private readonly db: DatabaseSync;
  private readonly writer: SqliteWriter;

  constructor(db: DatabaseSync, writer: SqliteWriter) {
    this.db = db;
    this.writer = writer;
  }

  takeRouting(req: Lease): Promise<RoutingCandidate[] | null> {
    return this.writer.run('takeRouting', req);
  }

  commitRouting(commit: RoutingCommit): Promise<boolean> {
    return this.writer.run('commitRouting', commit);
  }

  claimActions(req: Lease): Promise<ActionJob[]> {
    return this.writer.run('claimActions', req);
  }

  recordAction(attempt: ActionAttempt): Promise<boolean> {
    return this.writer.run('recordAction', attempt);
  }

  reapActions(now: string): Promise<number> {
    return this.writer.run('reapActions', { now });
  }

  async actionJobs(q: {
    messageId?: string;
    state?: ActionJobState;
    start: number;
    limit: number;
  }): Promise<ActionJob[]> {
    const rows = stmt(
      this.db,
      `SELECT * FROM action_jobs WHERE (? IS NULL OR message_id = ?) AND (? IS NULL OR state = ?)
       ORDER BY seq DESC LIMIT ? OFFSET ?`,
    ).all(
      q.messageId ?? null,
      q.messageId ?? null,
      q.state ?? null,
      q.state ?? null,
      q.limit,
      q.start,
    ) as unknown as ActionJobRow[];
    return rows.map(toActionJob);
  }

  async actionJob(id: string): Promise<ActionJob | null> {
    return actionJobById(this.db, id);
  }

  replayAction(id: string, now: string, expiresAt: string): Promise<ActionJob | null | false> {
    return this.writer.run('replayAction', { id, now, expiresAt });
  }

  async addInboundEvents(events: readonly InboundEventInput[], now: string): Promise<void> {
    await this.writer.run('addInboundEvents', { events, now });
  }

  async inboundEvents(messageId: string): Promise<InboundEvent[]> {
    const rows = stmt(this.db, 'SELECT * FROM inbound_events WHERE message_id = ? ORDER BY seq').all(
      messageId,
    ) as unknown as InboundEventRow[];
    return rows.map(toInboundEvent);
  }

  async importedAmong(keys: readonly string[]): Promise<Set<string>> {
    return new Set(knownImportKeys(this.db, keys).map((r) => r.key));
  }

  importMessage(entry: SpoolEntry, keys: readonly string[], now: string): Promise<'stored' | 'duplicate'> {
    // The writer gets its own copy, as appendSpool's entries do.
    const transfer: ArrayBuffer[] = [];
    const raw = copyFor(entry.raw, transfer);
    return this.writer.run('importMessage', { entry: { ...entry, raw }, keys, now }, transfer);
  }

  claimAutoReply(req: AutoReplyClaim): Promise<boolean> {
    return this.writer.run('claimAutoReply', req);
  }

  recordWebhookOutcome(o: WebhookOutcome): Promise<{ endpoint: WebhookEndpoint; disabledNow: boolean }> {
    return this.writer.run('recordWebhookOutcome', o);
  }

  async webhookEndpoint(url: string): Promise<WebhookEndpoint | null> {
    const row = stmt(this.db, 'SELECT * FROM webhook_endpoints WHERE url = ?').get(url) as
      | WebhookEndpointRow
      | undefined;
    return row ? toWebhookEndpoint(row) : null;
  }

  async webhookEndpoints(): Promise<WebhookEndpoint[]> {
    const rows = stmt(
      this.db,
      'SELECT * FROM webhook_endpoints ORDER BY disabled_at IS NULL, url',
    ).all() as unknown as WebhookEndpointRow[];
    return rows.map(toWebhookEndpoint);
  }

  enableWebhookEndpoint(url: string, now: string): Promise<WebhookEndpoint | null> {
    return this.writer.run('enableWebhookEndpoint', { url, now });
  }
}
