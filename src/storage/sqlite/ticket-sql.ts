// Rows of the support desk's tables, read by the reader (tickets.ts) and the writer thread
// (ticket-ops.ts), and the values the store derives from what it is given: case is folded in
// JavaScript, not by SQLite's lower()/upper() (ASCII only), so both engines match alike.
import type { DatabaseSync } from 'node:sqlite';
import type {
  HeldTicketMessage,
  NewTicketEntry,
  Ticket,
  TicketAttachment,
  TicketEntry,
  TicketEntryKind,
  TicketEvent,
  TicketEventType,
  TicketState,
} from '../../domain/ticket.ts';
import type { Duplicate } from '../ticket-ports.ts';
import { stmt } from './statements.ts';

export const TICKET_COLUMNS = `t.id, t.desk, t.number, t.key, t.subject, t.requester, t.requester_name,
  t.participants, t.state, t.assignee, t.tags, t.last_customer_message_id, t.last_customer_references,
  t.created_at, t.updated_at, t.entry_count`;

export const ENTRY_COLUMNS = `e.id, e.ticket_id, e.kind, e.message_id, e.outbound_id, e.header_message_id,
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
  participants: string;
  state: TicketState;
  assignee: string | null;
  tags: string;
  last_customer_message_id: string | null;
  last_customer_references: string;
  created_at: string;
  updated_at: string;
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
  to_addrs: string;
  cc_addrs: string;
  subject: string;
  text: string;
  stripped_text: string;
  html: string | null;
  attachments: string;
  author: string | null;
  note: string | null;
  at: string;
  has_raw: number;
}

export interface HeldRow {
  message_id: string;
  desk: string;
  ticket_id: string | null;
  reason: string;
  from_addr: string;
  subject: string;
  at: string;
  resolution: string | null;
  resolved_at: string | null;
}

export interface TicketEventRow {
  seq: number;
  id: string;
  type: TicketEventType;
  ticket_id: string | null;
  data: string;
  at: string;
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
    participants: JSON.parse(r.participants) as string[],
    state: r.state,
    assignee: r.assignee,
    tags: JSON.parse(r.tags) as string[],
    lastCustomerMessageId: r.last_customer_message_id,
    lastCustomerReferences: r.last_customer_references,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
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
    to: JSON.parse(r.to_addrs) as string[],
    cc: JSON.parse(r.cc_addrs) as string[],
    subject: r.subject,
    text: r.text,
    strippedText: r.stripped_text,
    html: r.html,
    attachments: JSON.parse(r.attachments) as TicketAttachment[],
    author: r.author,
    note: r.note,
    at: r.at,
    hasRaw: r.has_raw === 1,
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
    at: r.at,
    resolution: r.resolution,
    resolvedAt: r.resolved_at,
  };
}

export function toTicketEvent(r: TicketEventRow): TicketEvent {
  return {
    seq: r.seq,
    id: r.id,
    type: r.type,
    ticketId: r.ticket_id,
    data: JSON.parse(r.data) as Record<string, unknown>,
    at: r.at,
  };
}

export function ticketById(db: DatabaseSync, id: string): Ticket | null {
  const row = stmt(db, `SELECT ${TICKET_COLUMNS} FROM tickets t WHERE t.id = ?`).get(id) as unknown as
    | TicketRow
    | undefined;
  return row ? toTicket(row) : null;
}

export function entryById(db: DatabaseSync, id: string): TicketEntry | null {
  const row = stmt(db, `SELECT ${ENTRY_COLUMNS} FROM ticket_entries e WHERE e.id = ?`).get(id) as unknown as
    | EntryRow
    | undefined;
  return row ? toEntry(row) : null;
}

export function entriesOf(db: DatabaseSync, ticketId: string): TicketEntry[] {
  const rows = stmt(
    db,
    `SELECT ${ENTRY_COLUMNS} FROM ticket_entries e WHERE e.ticket_id = ? ORDER BY e.pos`,
  ).all(ticketId) as unknown as EntryRow[];
  return rows.map(toEntry);
}

/** The entry of this desk that already is this entry's message or carries its Message-ID. */
export function duplicateOf(db: DatabaseSync, desk: string, entry: NewTicketEntry): Duplicate | null {
  if (entry.messageId === null && entry.headerMessageId === null) return null;
  const found = stmt(
    db,
    `SELECT id FROM ticket_entries WHERE desk = ? AND (message_id = ? OR header_message_id = ?)
     ORDER BY message_id = ? DESC LIMIT 1`,
  ).get(desk, entry.messageId, entry.headerMessageId, entry.messageId) as { id: string } | undefined;
  if (!found) return null;
  const existing = entryById(db, found.id)!;
  return { outcome: 'duplicate', ticket: ticketById(db, existing.ticketId)!, entry: existing };
}
