// PostgreSQL side of the support desk port. Every ticket write transaction first takes one
// transaction-level advisory lock: writes are serialised across nodes, so event seqs (taken from a
// sequence inside the lock) become visible in order and a feed resuming after seq N never misses a
// smaller seq committed later. The writes are few (people answering mail), so one lock costs little.
import type pg from 'pg';
import type {
  HeldTicketMessage,
  NewTicketEvent,
  Ticket,
  TicketEntry,
  TicketEntryKind,
  TicketEvent,
} from '../../domain/ticket.ts';
import { containsPattern } from '../search-columns.ts';
import type { AppendEntry, OpenTicket, TicketQuery, TicketStore } from '../ticket-ports.ts';
import type { UpdateRequest } from '../ticket-values.ts';
import { retryTransient } from './retry.ts';
import {
  addEvents,
  entriesOf,
  entryById,
  type HeldRow,
  TICKET_COLUMNS,
  type TicketEventRow,
  type TicketRow,
  toHeld,
  toTicket,
  toTicketEvent,
} from './ticket-sql.ts';
import { appendEntry, openTicket, updateTicket } from './ticket-writes.ts';
import { inTransaction } from './transaction.ts';
import { pgText } from './write-ops.ts';

/** Key of the advisory lock that serialises ticket writes ('tckt' in ASCII). */
const TICKET_LOCK_KEY = 0x74636b74;

/** The WHERE clause of a ticket list: every filter given, combined with AND. */
function listWhere(q: TicketQuery): { where: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (q.desk !== undefined) parts.push(`t.desk = ${param(q.desk)}`);
  if (q.states !== undefined && q.states.length > 0) parts.push(`t.state = ANY(${param(q.states)}::text[])`);
  if (q.assignee === '') parts.push('t.assignee IS NULL');
  else if (q.assignee !== undefined) parts.push(`t.assignee = ${param(q.assignee)}`);
  if (q.tag !== undefined) parts.push(`${param(q.tag)} = ANY(t.tags)`);
  for (const word of (q.text ?? '').toLowerCase().split(/\s+/)) {
    if (word === '') continue;
    const p = param(containsPattern(pgText(word)));
    parts.push(`(t.search_text LIKE ${p} ESCAPE '\\' OR EXISTS (
      SELECT 1 FROM ticket_entries e WHERE e.ticket_id = t.id AND e.search_text LIKE ${p} ESCAPE '\\'))`);
  }
  return { where: parts.length > 0 ? parts.join(' AND ') : 'true', params };
}

export class PostgresTickets implements TicketStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /** One durable transaction under the ticket lock, run again after a deadlock or serialization failure. */
  private write<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return retryTransient(() =>
      inTransaction(this.pool, async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [TICKET_LOCK_KEY]);
        return fn(c);
      }),
    );
  }

  open(req: OpenTicket) {
    return this.write((c) => openTicket(c, req));
  }

  append(req: AppendEntry) {
    return this.write((c) => appendEntry(c, req));
  }

  update(req: UpdateRequest) {
    return this.write((c) => updateTicket(c, req));
  }

  async get(idOrKey: string): Promise<Ticket | null> {
    const { rows } = await this.pool.query<TicketRow>(
      `SELECT ${TICKET_COLUMNS} FROM tickets t WHERE t.id = $1 OR t.key_norm = $2
       ORDER BY t.id = $1 DESC LIMIT 1`,
      [idOrKey, idOrKey.toUpperCase()],
    );
    return rows[0] ? toTicket(rows[0]) : null;
  }

  async byNumber(desk: string, number: number): Promise<Ticket | null> {
    const { rows } = await this.pool.query<TicketRow>(
      `SELECT ${TICKET_COLUMNS} FROM tickets t WHERE t.desk = $1 AND t.number = $2`,
      [desk, number],
    );
    return rows[0] ? toTicket(rows[0]) : null;
  }

  async list(q: TicketQuery): Promise<{ tickets: Ticket[]; total: number }> {
    const { where, params } = listWhere(q);
    const n = params.length;
    const [page, count] = await Promise.all([
      this.pool.query<TicketRow>(
        `SELECT ${TICKET_COLUMNS} FROM tickets t WHERE ${where}
         ORDER BY t.updated_at DESC, t.id COLLATE "C" LIMIT $${n + 1} OFFSET $${n + 2}`,
        [...params, q.limit, q.start],
      ),
      this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM tickets t WHERE ${where}`, params),
    ]);
    return { tickets: page.rows.map(toTicket), total: Number(count.rows[0]?.n ?? 0) };
  }

  entries(ticketId: string): Promise<TicketEntry[]> {
    return entriesOf(this.pool, ticketId);
  }

  entry(entryId: string): Promise<TicketEntry | null> {
    return entryById(this.pool, entryId);
  }

  async entryRaw(entryId: string): Promise<Uint8Array | null> {
    const { rows } = await this.pool.query<{ raw: Buffer }>(
      'SELECT raw FROM ticket_entry_raw WHERE entry_id = $1',
      [entryId],
    );
    return rows[0]?.raw ?? null;
  }

  async countEntries(q: {
    ticketId?: string;
    from?: string;
    to?: string;
    kinds: TicketEntryKind[];
    since: string;
  }): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ticket_entries e
       WHERE e.kind = ANY($1::text[]) AND e.at >= $2
         AND ($3::text IS NULL OR e.ticket_id = $3) AND ($4::text IS NULL OR e.from_lower = $4)
         AND ($5::text IS NULL OR $5 = ANY(e.to_lower))`,
      [q.kinds, q.since, q.ticketId ?? null, q.from?.toLowerCase() ?? null, q.to?.toLowerCase() ?? null],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async hold(h: Omit<HeldTicketMessage, 'resolution' | 'resolvedAt'>, event: NewTicketEvent): Promise<void> {
    await this.write(async (c) => {
      const { rowCount } = await c.query(
        `INSERT INTO ticket_held (message_id, desk, ticket_id, reason, from_addr, subject, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (message_id, desk) DO NOTHING`,
        [h.messageId, h.desk, h.ticketId, pgText(h.reason), pgText(h.from), pgText(h.subject), h.at],
      );
      if (rowCount) await addEvents(c, [event], h.at);
    });
  }

  async held(q: {
    desk?: string;
    unresolvedOnly: boolean;
    start: number;
    limit: number;
  }): Promise<HeldTicketMessage[]> {
    const { rows } = await this.pool.query<HeldRow>(
      `SELECT * FROM ticket_held WHERE ($1::text IS NULL OR desk = $1) AND (NOT $2 OR resolution IS NULL)
       ORDER BY resolution IS NOT NULL, at DESC, message_id COLLATE "C" LIMIT $3 OFFSET $4`,
      [q.desk ?? null, q.unresolvedOnly, q.limit, q.start],
    );
    return rows.map(toHeld);
  }

  async heldMessage(messageId: string, desk: string): Promise<HeldTicketMessage | null> {
    const { rows } = await this.pool.query<HeldRow>(
      'SELECT * FROM ticket_held WHERE message_id = $1 AND desk = $2',
      [messageId, desk],
    );
    return rows[0] ? toHeld(rows[0]) : null;
  }

  resolveHeld(r: { messageId: string; desk: string; resolution: string; now: string }): Promise<boolean> {
    return this.write(async (c) => {
      const { rowCount } = await c.query(
        `UPDATE ticket_held SET resolution = $1, resolved_at = $2
         WHERE message_id = $3 AND desk = $4 AND resolution IS NULL`,
        [pgText(r.resolution), r.now, r.messageId, r.desk],
      );
      return (rowCount ?? 0) > 0;
    });
  }

  async events(afterSeq: number, limit: number): Promise<TicketEvent[]> {
    const { rows } = await this.pool.query<TicketEventRow>(
      'SELECT * FROM ticket_events WHERE seq > $1 ORDER BY seq LIMIT $2',
      [afterSeq, limit],
    );
    return rows.map(toTicketEvent);
  }

  async lastEventSeq(): Promise<number> {
    const { rows } = await this.pool.query<{ seq: string }>(
      'SELECT coalesce(max(seq), 0) AS seq FROM ticket_events',
    );
    return Number(rows[0]?.seq ?? 0);
  }

  async takeFeed(r: { name: string; owner: string; now: string; leaseMs: number; startSeq: number }) {
    // One statement: concurrent takes serialise on the row, and only one of them gets the lease.
    const leaseUntil = new Date(Date.parse(r.now) + r.leaseMs).toISOString();
    const { rows } = await this.pool.query<{ seq: string }>(
      `INSERT INTO ticket_feeds AS f (name, seq, owner, lease_until) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
       WHERE f.owner IS NULL OR f.owner = excluded.owner OR f.lease_until <= $5
       RETURNING f.seq`,
      [r.name, r.startSeq, r.owner, leaseUntil, r.now],
    );
    return rows[0] ? Number(rows[0].seq) : null;
  }

  async advanceFeed(r: { name: string; owner: string; seq: number; now: string; leaseMs: number }) {
    const leaseUntil = new Date(Date.parse(r.now) + r.leaseMs).toISOString();
    const { rowCount } = await this.pool.query(
      'UPDATE ticket_feeds SET seq = $1, lease_until = $2 WHERE name = $3 AND owner = $4 AND lease_until > $5',
      [r.seq, leaseUntil, r.name, r.owner, r.now],
    );
    return (rowCount ?? 0) > 0;
  }
}
