// SQLite side of the outbound queue port: reads on the calling thread's read-only connection,
// writes through the writer thread (outbound-ops.ts), each committed with an fsync.
import type { DatabaseSync } from 'node:sqlite';
import type { DeliveryRecord, DeliveryState, QueueAction, Suppression } from '../../domain/delivery.ts';
import type { MessageTemplate } from '../../domain/template.ts';
import type {
  AttemptRecord,
  ClaimedDelivery,
  ClaimRequest,
  EnqueueResult,
  LateEvent,
  NewOutbound,
  OutboundEvent,
  OutboundStore,
  OutboundView,
} from '../ports.ts';
import {
  DELIVERY_COLUMNS,
  DELIVERY_FROM,
  type DeliveryRow,
  type SuppressionRow,
  suppressedAmong,
  toSuppression,
  withRecipients,
} from './outbound-sql.ts';
import { stmt } from './statements.ts';
import type { SqliteWriter } from './writer.ts';

interface OutboundRow {
  seq: number;
  id: string;
  mail_from: string;
  rcpt_to: string;
  header_message_id: string;
  size: number;
  source: OutboundView['source'];
  client_ip: string;
  auth_user: string | null;
  tags: string;
  metadata: string;
  queued_at: string;
  send_at: string;
}

interface TemplateRow {
  name: string;
  subject: string;
  text_body: string;
  html_body: string;
  updated_at: string;
  engine: NonNullable<MessageTemplate['engine']>;
}

function toTemplate(r: TemplateRow): MessageTemplate {
  return {
    name: r.name,
    subject: r.subject,
    text: r.text_body,
    html: r.html_body,
    engine: r.engine,
    updatedAt: r.updated_at,
  };
}

export class SqliteOutbound implements OutboundStore {
  private readonly db: DatabaseSync;
  private readonly writer: SqliteWriter;

  constructor(db: DatabaseSync, writer: SqliteWriter) {
    this.db = db;
    this.writer = writer;
  }

  async enqueue(message: NewOutbound): Promise<EnqueueResult> {
    return this.writer.run('enqueueOutbound', message);
  }

  async claim(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    return this.writer.run('claimDeliveries', request);
  }

  async recordAttempt(record: AttemptRecord): Promise<boolean> {
    return this.writer.run('recordAttempt', record);
  }

  async reapLeases(now: string): Promise<number> {
    return this.writer.run('reapLeases', now);
  }

  async control(
    deliveryId: string,
    action: QueueAction,
    now: string,
  ): Promise<DeliveryRecord | null | false> {
    return this.writer.run('controlDelivery', { id: deliveryId, action, now });
  }

  async pruneIdempotencyKeys(now: string): Promise<number> {
    return this.writer.run('pruneIdempotencyKeys', now);
  }

  async suppress(entry: Suppression): Promise<void> {
    await this.writer.run('suppress', entry);
  }

  async unsuppress(address: string): Promise<boolean> {
    return this.writer.run('unsuppress', address);
  }

  async suppressions(q: { start: number; limit: number; now: string }): Promise<Suppression[]> {
    const rows = stmt(
      this.db,
      `SELECT * FROM suppressions WHERE expires_at IS NULL OR expires_at > ?
       ORDER BY created_at DESC, address LIMIT ? OFFSET ?`,
    ).all(q.now, q.limit, q.start) as unknown as SuppressionRow[];
    return rows.map(toSuppression);
  }

  async suppressedAmong(addresses: readonly string[], now: string): Promise<Suppression[]> {
    return suppressedAmong(this.db, addresses, now);
  }

  async saveTemplate(template: MessageTemplate): Promise<void> {
    await this.writer.run('saveTemplate', template);
  }

  async deleteTemplate(name: string): Promise<boolean> {
    return this.writer.run('deleteTemplate', name);
  }

  async template(name: string): Promise<MessageTemplate | null> {
    const row = stmt(this.db, 'SELECT * FROM templates WHERE name = ?').get(name) as unknown as
      | TemplateRow
      | undefined;
    return row ? toTemplate(row) : null;
  }

  async templates(): Promise<MessageTemplate[]> {
    return (stmt(this.db, 'SELECT * FROM templates ORDER BY name').all() as unknown as TemplateRow[]).map(
      toTemplate,
    );
  }

  async get(id: string): Promise<OutboundView | null> {
    const row = stmt(this.db, 'SELECT * FROM outbound WHERE id = ?').get(id) as unknown as
      | OutboundRow
      | undefined;
    if (!row) return null;
    const deliveries = stmt(
      this.db,
      `SELECT ${DELIVERY_COLUMNS} FROM ${DELIVERY_FROM} WHERE d.outbound_seq = ? ORDER BY d.seq`,
    ).all(row.seq) as unknown as DeliveryRow[];
    return {
      id: row.id,
      mailFrom: row.mail_from,
      rcptTo: JSON.parse(row.rcpt_to),
      headerMessageId: row.header_message_id,
      size: row.size,
      source: row.source,
      client: { ip: row.client_ip, authUser: row.auth_user },
      tags: JSON.parse(row.tags),
      metadata: JSON.parse(row.metadata),
      queuedAt: row.queued_at,
      sendAt: row.send_at,
      deliveries: withRecipients(this.db, deliveries),
    };
  }

  async raw(id: string): Promise<Uint8Array | null> {
    const row = stmt(
      this.db,
      'SELECT r.raw FROM outbound_raw r JOIN outbound o ON o.seq = r.seq WHERE o.id = ?',
    ).get(id) as { raw: Uint8Array } | undefined;
    return row?.raw ?? null;
  }

  async deliveries(query: {
    state?: DeliveryState;
    start: number;
    limit: number;
  }): Promise<DeliveryRecord[]> {
    const where = query.state ? 'WHERE d.state = ?' : '';
    const params = query.state ? [query.state] : [];
    const rows = stmt(
      this.db,
      `SELECT ${DELIVERY_COLUMNS} FROM ${DELIVERY_FROM} ${where} ORDER BY d.seq DESC LIMIT ? OFFSET ?`,
    ).all(...params, query.limit, query.start) as unknown as DeliveryRow[];
    return withRecipients(this.db, rows);
  }

  async findByHeaderMessageId(headerMessageId: string): Promise<string | null> {
    const row = stmt(
      this.db,
      'SELECT id FROM outbound WHERE header_message_id = ? ORDER BY seq DESC LIMIT 1',
    ).get(headerMessageId) as { id: string } | undefined;
    return row?.id ?? null;
  }

  async addEvents(outboundId: string, events: readonly LateEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    return this.writer.run('addEvents', { outboundId, events });
  }

  async events(outboundId: string): Promise<OutboundEvent[]> {
    const rows = stmt(
      this.db,
      `SELECT e.id, e.type, e.at, d.id AS delivery_id, e.data FROM outbound_events e
       JOIN outbound o ON o.seq = e.outbound_seq LEFT JOIN deliveries d ON d.seq = e.delivery_seq
       WHERE o.id = ? ORDER BY e.seq`,
    ).all(outboundId) as { id: string; type: string; at: string; delivery_id: string | null; data: string }[];
    return rows.map((r) => ({
      id: r.id,
      type: r.type,
      at: r.at,
      outboundId,
      deliveryId: r.delivery_id,
      data: JSON.parse(r.data),
    }));
  }
}
