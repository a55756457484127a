// SQLite side of the support desk port: reads on the calling thread's connection, writes through
// the writer thread (ticket-ops.ts).
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type {
  HeldTicketMessage,
  NewTicketEvent,
  Ticket,
  TicketEntry,
  TicketEntryKind,
  TicketEvent,
} from '../../domain/ticket.ts';
import { containsPattern } from '../search-columns.ts';
import type { AppendEntry, OpenTicket, TicketPatch, TicketQuery, TicketStore } from '../ticket-ports.ts';
import { stmt } from './statements.ts';
import {
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
import type { SqliteWriter } from './writer.ts';

/** The writer gets its own copy of the bytes, transferred (the caller's buffer stays intact). */
function ownedRaw(raw: Uint8Array | null): { raw: Uint8Array | null; transfer: ArrayBuffer[] } {
  if (!raw) return { raw: null, transfer: [] };
  const copy = new Uint8Array(raw);
  return { raw: copy, transfer: [copy.buffer] };
}

/** The WHERE clause of a ticket list: every filter given, combined with AND. */
function listWhere(q: TicketQuery): { where: string; params: SQLInputValue[] } {
  const parts: string[] = [];
  const params: SQLInputValue[] = [];
  if (q.desk !== undefined) {
    parts.push('t.desk = ?');
    params.push(q.desk);
  }
  if (q.states !== undefined && q.states.length > 0) {
    parts.push('t.state IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(q.states));
  }
  if (q.assignee === '') parts.push('t.assignee IS NULL');
  else if (q.assignee !== undefined) {
    parts.push('t.assignee = ?');
    params.push(q.assignee);
  }
  if (q.tag !== undefined) {
    parts.push('EXISTS (SELECT 1 FROM json_each(t.tags) WHERE value = ?)');
    params.push(q.tag);
  }
  for (const word of (q.text ?? '').toLowerCase().split(/\s+/)) {
    if (word === '') continue;
    parts.push(`(t.search_text LIKE ? ESCAPE '\\' OR EXISTS (
      SELECT 1 FROM ticket_entries e WHERE e.ticket_id = t.id AND e.search_text LIKE ? ESCAPE '\\'))`);
    params.push(containsPattern(word), containsPattern(word));
  }
  return { where: parts.length > 0 ? parts.join(' AND ') : '1', params };
}

export class SqliteTickets implements TicketStore {
  private readonly db: DatabaseSync;
  private readonly writer: SqliteWriter;

  constructor(db: DatabaseSync, writer: SqliteWriter) {
    this.db = db;
    this.writer = writer;
  }

  open(req: OpenTicket) {
    const { raw, transfer } = ownedRaw(req.raw);
    return this.writer.run('openTicket', { ...req, raw }, transfer);
  }

  append(req: AppendEntry) {
    const { raw, transfer } = ownedRaw(req.raw);
    return this.writer.run('appendTicketEntry', { ...req, raw }, transfer);
  }

  update(req: { ticketId: string; patch: TicketPatch; actor: string | null; eventId: string; now: string }) {
    return this.writer.run('updateTicket', req);
  }

  async get(idOrKey: string): Promise<Ticket | null> {
    const row = stmt(
      this.db,
      `SELECT ${TICKET_COLUMNS} FROM tickets t WHERE t.id = ?
       UNION ALL SELECT ${TICKET_COLUMNS} FROM tickets t WHERE t.key_norm = ? LIMIT 1`,
    ).get(idOrKey, idOrKey.toUpperCase()) as unknown as TicketRow | undefined;
    return row ? toTicket(row) : null;
  }

  async byNumber(desk: string, number: number): Promise<Ticket | null> {
    const row = stmt(
      this.db,
      `SELECT ${TICKET_COLUMNS} FROM tickets t WHERE t.desk = ? AND t.number = ?`,
    ).get(desk, number) as unknown as TicketRow | undefined;
    return row ? toTicket(row) : null;
  }

  async list(q: TicketQuery): Promise<{ tickets: Ticket[]; total: number }> {
    const { where, params } = listWhere(q);
    // The statement varies with the filters, so it is prepared per call rather than cached.
    const total = this.db.prepare(`SELECT count(*) AS n FROM tickets t WHERE ${where}`).get(...params) as {
      n: number;
    };
    const rows = this.db
      .prepare(
        `SELECT ${TICKET_COLUMNS} FROM tickets t WHERE ${where}
         ORDER BY t.updated_at DESC, t.id LIMIT ? OFFSET ?`,
      )
      .all(...params, q.limit, q.start) as unknown as TicketRow[];
    return { tickets: rows.map(toTicket), total: total.n };
  }

  async entries(ticketId: string): Promise<TicketEntry[]> {
    return entriesOf(this.db, ticketId);
  }

  async entry(entryId: string): Promise<TicketEntry | null> {
    return entryById(this.db, entryId);
  }

  async entryRaw(entryId: string): Promise<Uint8Array | null> {
    const row = stmt(this.db, 'SELECT raw FROM ticket_entry_raw WHERE entry_id = ?').get(entryId) as
      | { raw: Uint8Array }
      | undefined;
    return row ? row.raw : null;
  }

  async countEntries(q: {
    ticketId?: string;
    from?: string;
    to?: string;
    kinds: TicketEntryKind[];
    since: string;
  }): Promise<number> {
    const row = stmt(
      this.db,
      `SELECT count(*) AS n FROM ticket_entries e
       WHERE e.kind IN (SELECT value FROM json_each(?1)) AND e.at >= ?2
         AND (?3 IS NULL OR e.ticket_id = ?3) AND (?4 IS NULL OR e.from_lower = ?4)
         AND (?5 IS NULL OR EXISTS (SELECT 1 FROM json_each(e.to_lower) WHERE value = ?5))`,
    ).get(
      JSON.stringify(q.kinds),
      q.since,
      q.ticketId ?? null,
      q.from?.toLowerCase() ?? null,
      q.to?.toLowerCase() ?? null,
    ) as { n: number };
    return row.n;
  }

  async hold(
    held: Omit<HeldTicketMessage, 'resolution' | 'resolvedAt'>,
    event: NewTicketEvent,
  ): Promise<void> {
    await this.writer.run('holdTicketMessage', { held, event });
  }

  async held(q: {
    desk?: string;
    unresolvedOnly: boolean;
    start: number;
    limit: number;
  }): Promise<HeldTicketMessage[]> {
    const rows = stmt(
      this.db,
      `SELECT * FROM ticket_held WHERE (?1 IS NULL OR desk = ?1) AND (?2 = 0 OR resolution IS NULL)
       ORDER BY resolution IS NOT NULL, at DESC, message_id LIMIT ?3 OFFSET ?4`,
    ).all(q.desk ?? null, q.unresolvedOnly ? 1 : 0, q.limit, q.start) as unknown as HeldRow[];
    return rows.map(toHeld);
  }

  async heldMessage(messageId: string, desk: string): Promise<HeldTicketMessage | null> {
    const row = stmt(this.db, 'SELECT * FROM ticket_held WHERE message_id = ? AND desk = ?').get(
      messageId,
      desk,
    ) as unknown as HeldRow | undefined;
    return row ? toHeld(row) : null;
  }

  resolveHeld(req: { messageId: string; desk: string; resolution: string; now: string }): Promise<boolean> {
    return this.writer.run('resolveHeldTicketMessage', req);
  }

  async events(afterSeq: number, limit: number): Promise<TicketEvent[]> {
    const rows = stmt(this.db, 'SELECT * FROM ticket_events WHERE seq > ? ORDER BY seq LIMIT ?').all(
      afterSeq,
      limit,
    ) as unknown as TicketEventRow[];
    return rows.map(toTicketEvent);
  }

  async lastEventSeq(): Promise<number> {
    const row = stmt(this.db, 'SELECT coalesce(max(seq), 0) AS seq FROM ticket_events').get() as {
      seq: number;
    };
    return row.seq;
  }

  takeFeed(req: { name: string; owner: string; now: string; leaseMs: number; startSeq: number }) {
    return this.writer.run('takeTicketFeed', req);
  }

  advanceFeed(req: { name: string; owner: string; seq: number; now: string; leaseMs: number }) {
    return this.writer.run('advanceTicketFeed', req);
  }
}
