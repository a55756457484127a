// Rows of the support desk's tables on PostgreSQL, and the values the store derives from what it is
// given. Case is folded in JavaScript, as the SQLite adapter does, so both engines match alike.
import type pg from 'pg';
import type {
  HeldTicketMessage,
  NewTicketEntry,
  NewTicketEvent,
  Ticket,
  TicketAttachment,
  TicketEntry,
  TicketEntryKind,
  TicketEvent,
  TicketEventType,
  TicketState,
} from '../../domain/ticket.ts';
import type { Duplicate } from '../ticket-ports.ts';
import { entrySearchText } from '../ticket-values.ts';
import { pgJson, pgText } from './write-ops.ts';

export type Db = pg.Pool | pg.PoolClient;

export const TICKET_COLUMNS = `t.id, t.desk, t.number, t.key, t.subject, t.requester, t.requester_name,
  t.participants, t.state, t.assignee, t.tags, t.last_customer_message_id, t.last_customer_references,
  t.created_at, t.updated_at, t.entry_count`;

const ENTRY_COLUMNS = `e.id, e.ticket_id, e.kind, e.message_id, e.outbound_id, e.header_message_id,
  e.from_addr, e.from_name, e.to_addrs, e.cc_addrs, e.subject, e.text, e.stripped_text, e.html,
  e.attachments, e.author, e.note, e.at,
  EXISTS (SELECT 1 FROM ticket_entry_raw r WHERE r.entry_id = e.id) AS has_raw`;

export interface TicketRow {
  id: string;
  desk: string;
  number: number;
  key: string;
  subject: string;
  requester: string;
  requester_name: string;
  participants: string[];
  state: TicketState;
  assignee: string | null;
  tags: string[];
  last_customer_message_id: string | null;
  last_customer_references: string;
  created_at: Date;
  updated_at: Date;
  entry_count: number;
}

interface EntryRow {
  id: string;
  ticket_id: string;
  kind: TicketEntryKind;
  message_id: string | null;
  outbound_id: string | null;
  header_message_id: string | null;
  from_addr: string;
  from_name: string;
  to_addrs: string[];
  cc_addrs: string[];
  subject: string;
  text: string;
  stripped_text: string;
  html: string | null;
  attachments: TicketAttachment[];
  author: string | null;
  note: string | null;
  at: Date;
  has_raw: boolean;
}

export interface HeldRow {
  message_id: string;
  desk: string;
  ticket_id: string | null;
  reason: string;
  from_addr: string;
  subject: string;
  at: Date;
  resolution: string | null;
  resolved_at: Date | null;
}

export interface TicketEventRow {
  seq: string;
  id: string;
  type: TicketEventType;
  ticket_id: string | null;
  data: Record<string, unknown>;
  at: Date;
}

export function toTicket(r: TicketRow): Ticket {
  return {
    id: r.id,
    desk: r.desk,
    number: r.number,
    key: r.key,
    subject: r.subject,
    requester: r.requester,
    requesterName: r.requester_name,
    participants: r.participants,
    state: r.state,
    assignee: r.assignee,
    tags: r.tags,
    lastCustomerMessageId: r.last_customer_message_id,
    lastCustomerReferences: r.last_customer_references,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    entryCount: r.entry_count,
  };
}

function toEntry(r: EntryRow): TicketEntry {
  return {
    id: r.id,
    ticketId: r.ticket_id,
    kind: r.kind,
    messageId: r.message_id,
    outboundId: r.outbound_id,
    headerMessageId: r.header_message_id,
    from: r.from_addr,
    fromName: r.from_name,
    to: r.to_addrs,
    cc: r.cc_addrs,
    subject: r.subject,
    text: r.text,
    strippedText: r.stripped_text,
    html: r.html,
    attachments: r.attachments,
    author: r.author,
    note: r.note,
    at: r.at.toISOString(),
    hasRaw: r.has_raw,
  };
}

export function toHeld(r: HeldRow): HeldTicketMessage {
  return {
    messageId: r.message_id,
    desk: r.desk,
    ticketId: r.ticket_id,
    reason: r.reason,
    from: r.from_addr,
    subject: r.subject,
    at: r.at.toISOString(),
    resolution: r.resolution,
    resolvedAt: r.resolved_at?.toISOString() ?? null,
  };
}

export function toTicketEvent(r: TicketEventRow): TicketEvent {
  return {
    seq: Number(r.seq),
    id: r.id,
    type: r.type,
    ticketId: r.ticket_id,
    data: r.data,
    at: r.at.toISOString(),
  };
}

export async function ticketById(db: Db, id: string, forUpdate = false): Promise<Ticket | null> {
  const { rows } = await db.query<TicketRow>(
    `SELECT ${TICKET_COLUMNS} FROM tickets t WHERE t.id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ? toTicket(rows[0]) : null;
}

export async function entryById(db: Db, id: string): Promise<TicketEntry | null> {
  const { rows } = await db.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM ticket_entries e WHERE e.id = $1`, [
    id,
  ]);
  return rows[0] ? toEntry(rows[0]) : null;
}

export async function entriesOf(db: Db, ticketId: string): Promise<TicketEntry[]> {
  const { rows } = await db.query<EntryRow>(
    `SELECT ${ENTRY_COLUMNS} FROM ticket_entries e WHERE e.ticket_id = $1 ORDER BY e.pos`,
    [ticketId],
  );
  return rows.map(toEntry);
}

/** The entry of this desk that already is this entry's message or carries its Message-ID. */
export async function duplicateOf(db: Db, desk: string, entry: NewTicketEntry): Promise<Duplicate | null> {
  if (entry.messageId === null && entry.headerMessageId === null) return null;
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM ticket_entries WHERE desk = $1 AND (message_id = $2 OR header_message_id = $3)
     ORDER BY message_id = $2 DESC NULLS LAST LIMIT 1`,
    [desk, entry.messageId, entry.headerMessageId],
  );
  if (!rows[0]) return null;
  const existing = (await entryById(db, rows[0].id))!;
  return { outcome: 'duplicate', ticket: (await ticketById(db, existing.ticketId))!, entry: existing };
}

/** Records events in order; an id already there is skipped (events are derived from what caused them). */
export async function addEvents(db: Db, events: readonly NewTicketEvent[], now: string): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `INSERT INTO ticket_events (id, type, ticket_id, data, at)
     SELECT e.id, e.type, e.ticket_id, e.data::jsonb, $1
     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS e(id, type, ticket_id, data, n)
     ORDER BY e.n
     ON CONFLICT (id) DO NOTHING`,
    [
      now,
      events.map((e) => e.id),
      events.map((e) => e.type),
      events.map((e) => e.ticketId),
      events.map((e) => pgJson(e.data)),
    ],
  );
}

/** Inserts an entry (and its bytes) at position `pos` of the ticket; text cannot hold U+0000 (pgText). */
export async function insertEntry(
  db: Db,
  t: { id: string; desk: string; pos: number },
  e: NewTicketEntry,
  raw: Uint8Array | null,
  now: string,
): Promise<void> {
  await db.query(
    `INSERT INTO ticket_entries (id, ticket_id, desk, pos, kind, message_id, outbound_id, header_message_id,
       from_addr, from_lower, from_name, to_addrs, to_lower, cc_addrs, subject, text, stripped_text, html,
       attachments, author, note, search_text, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text[], $13::text[], $14::text[], $15, $16, $17,
       $18, $19::jsonb, $20, $21, $22, $23)`,
    [
      e.id,
      t.id,
      t.desk,
      t.pos,
      e.kind,
      e.messageId,
      e.outboundId,
      e.headerMessageId,
      pgText(e.from),
      pgText(e.from.toLowerCase()),
      pgText(e.fromName),
      e.to.map(pgText),
      e.to.map((a) => pgText(a.toLowerCase())),
      e.cc.map(pgText),
      pgText(e.subject),
      pgText(e.text),
      pgText(e.strippedText),
      e.html === null ? null : pgText(e.html),
      pgJson(e.attachments),
      e.author,
      e.note === null ? null : pgText(e.note),
      pgText(entrySearchText(e)),
      now,
    ],
  );
  if (raw) {
    // A Buffer view without a copy: pg sends Buffers as binary parameters.
    await db.query('INSERT INTO ticket_entry_raw (entry_id, raw) VALUES ($1, $2)', [
      e.id,
      Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength),
    ]);
  }
}
