// Writes of the support desk, run in the SQLite writer thread: each op (a ticket, its entry, its
// events) commits as one, and the single writer makes a duplicate check and its insert, or a
// desk's number and its ticket, impossible to split. All of them are durable.
import type { DatabaseSync } from 'node:sqlite';
import type {
  HeldTicketMessage,
  NewTicketEntry,
  NewTicketEvent,
  Ticket,
  TicketEntry,
} from '../../domain/ticket.ts';
import type { AppendEntry, Duplicate, OpenTicket, TicketPatch } from '../ticket-ports.ts';
import {
  entrySearchText,
  normalAddresses,
  normalTags,
  patchChanges,
  ticketSearchText,
  type UpdateRequest,
  updateEvents,
} from '../ticket-values.ts';
import { stmt } from './statements.ts';
import { duplicateOf, entryById, ticketById } from './ticket-sql.ts';

/** Records events; an id already there is skipped (events are derived from what caused them). */
function addEvents(db: DatabaseSync, events: readonly NewTicketEvent[], now: string): void {
  const insert = stmt(
    db,
    `INSERT INTO ticket_events (id, type, ticket_id, data, at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (id) DO NOTHING`,
  );
  for (const e of events) insert.run(e.id, e.type, e.ticketId, JSON.stringify(e.data), now);
}

function insertEntry(
  db: DatabaseSync,
  t: { id: string; desk: string; pos: number },
  e: NewTicketEntry,
  raw: Uint8Array | null,
  now: string,
): void {
  stmt(
    db,
    `INSERT INTO ticket_entries (id, ticket_id, desk, pos, kind, message_id, outbound_id, header_message_id,
       from_addr, from_lower, from_name, to_addrs, to_lower, cc_addrs, subject, text, stripped_text, html,
       attachments, author, note, search_text, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    e.id,
    t.id,
    t.desk,
    t.pos,
    e.kind,
    e.messageId,
    e.outboundId,
    e.headerMessageId,
    e.from,
    e.from.toLowerCase(),
    e.fromName,
    JSON.stringify(e.to),
    JSON.stringify(e.to.map((a) => a.toLowerCase())),
    JSON.stringify(e.cc),
    e.subject,
    e.text,
    e.strippedText,
    e.html,
    JSON.stringify(e.attachments),
    e.author,
    e.note,
    entrySearchText(e),
    now,
  );
  if (raw) stmt(db, 'INSERT INTO ticket_entry_raw (entry_id, raw) VALUES (?, ?)').run(e.id, raw);
}

type Opened = { outcome: 'opened'; ticket: Ticket; entry: TicketEntry } | Duplicate;
type Appended = { outcome: 'appended'; ticket: Ticket; entry: TicketEntry } | Duplicate | null;

export const ticketOps = {
  openTicket(db: DatabaseSync, req: OpenTicket): Opened {
    // Checked before the number is taken: a duplicate does not use one up.
    const duplicate = duplicateOf(db, req.desk, req.entry);
    if (duplicate) return duplicate;
    const { number } = stmt(
      db,
      `INSERT INTO ticket_desks (desk, next_number) VALUES (?, ?)
       ON CONFLICT (desk) DO UPDATE SET next_number = next_number + 1
       RETURNING next_number - 1 AS number`,
    ).get(req.desk, req.firstNumber + 1) as { number: number };
    const key = `${req.keyPrefix}-${number}`;
    stmt(
      db,
      `INSERT INTO tickets (id, desk, number, key, key_norm, subject, requester, requester_name, participants,
         state, assignee, tags, last_customer_message_id, last_customer_references, search_text, created_at,
         updated_at, entry_count)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', NULL, ?, ?, ?, ?, ?, ?, 1)`,
    ).run(
      req.id,
      req.desk,
      number,
      key,
      key.toUpperCase(),
      req.subject,
      req.requester,
      req.requesterName,
      JSON.stringify(normalAddresses(req.participants)),
      JSON.stringify(normalTags(req.tags)),
      // The message a first reply answers, when the ticket starts with the customer's own mail.
      req.entry.kind === 'customer' ? req.entry.headerMessageId : null,
      req.entry.kind === 'customer' ? req.references : '',
      ticketSearchText({ ...req, key }),
      req.now,
      req.now,
    );
    insertEntry(db, { id: req.id, desk: req.desk, pos: 0 }, req.entry, req.raw, req.now);
    addEvents(
      db,
      req.events.map((e) => ({ ...e, data: { ...e.data, key, number } })),
      req.now,
    );
    return { outcome: 'opened', ticket: ticketById(db, req.id)!, entry: entryById(db, req.entry.id)! };
  },

  appendTicketEntry(db: DatabaseSync, req: AppendEntry): Appended {
    const t = ticketById(db, req.ticketId);
    if (!t) return null;
    const duplicate = duplicateOf(db, t.desk, req.entry);
    if (duplicate) return duplicate;
    insertEntry(db, { id: t.id, desk: t.desk, pos: t.entryCount }, req.entry, req.raw, req.now);
    const c = req.change;
    const participants = normalAddresses([...t.participants, ...(c.addParticipants ?? [])]);
    stmt(
      db,
      `UPDATE tickets SET state = coalesce(?, state), participants = ?,
         last_customer_message_id = coalesce(?, last_customer_message_id),
         last_customer_references = coalesce(?, last_customer_references),
         updated_at = ?, entry_count = entry_count + 1
       WHERE id = ?`,
    ).run(
      c.state ?? null,
      JSON.stringify(participants),
      c.lastCustomerMessageId ?? null,
      c.lastCustomerReferences ?? null,
      req.now,
      t.id,
    );
    addEvents(db, req.events, req.now);
    return { outcome: 'appended', ticket: ticketById(db, t.id)!, entry: entryById(db, req.entry.id)! };
  },

  updateTicket(
    db: DatabaseSync,
    req: UpdateRequest,
  ): { ticket: Ticket; changed: (keyof TicketPatch)[] } | null {
    const t = ticketById(db, req.ticketId);
    if (!t) return null;
    const changes = patchChanges(t, req.patch);
    if (changes.size === 0) return { ticket: t, changed: [] };
    const next = { ...t };
    for (const [field, { to }] of changes) Object.assign(next, { [field]: to });
    stmt(
      db,
      `UPDATE tickets SET state = ?, assignee = ?, tags = ?, subject = ?, search_text = ?, updated_at = ?
       WHERE id = ?`,
    ).run(
      next.state,
      next.assignee,
      JSON.stringify(next.tags),
      next.subject,
      ticketSearchText(next),
      req.now,
      t.id,
    );
    addEvents(db, updateEvents(t, changes, req), req.now);
    return { ticket: ticketById(db, t.id)!, changed: [...changes.keys()] };
  },

  holdTicketMessage(
    db: DatabaseSync,
    a: { held: Omit<HeldTicketMessage, 'resolution' | 'resolvedAt'>; event: NewTicketEvent },
  ): void {
    const h = a.held;
    const added = stmt(
      db,
      `INSERT INTO ticket_held (message_id, desk, ticket_id, reason, from_addr, subject, at)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id, desk) DO NOTHING`,
    ).run(h.messageId, h.desk, h.ticketId, h.reason, h.from, h.subject, h.at);
    if (added.changes > 0) addEvents(db, [a.event], h.at);
  },

  resolveHeldTicketMessage(
    db: DatabaseSync,
    r: { messageId: string; desk: string; resolution: string; now: string },
  ): boolean {
    const done = stmt(
      db,
      `UPDATE ticket_held SET resolution = ?, resolved_at = ?
       WHERE message_id = ? AND desk = ? AND resolution IS NULL`,
    ).run(r.resolution, r.now, r.messageId, r.desk);
    return done.changes > 0;
  },

  takeTicketFeed(
    db: DatabaseSync,
    r: { name: string; owner: string; now: string; leaseMs: number; startSeq: number },
  ): number | null {
    const leaseUntil = new Date(Date.parse(r.now) + r.leaseMs).toISOString();
    const row = stmt(
      db,
      `INSERT INTO ticket_feeds (name, seq, owner, lease_until) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
       WHERE ticket_feeds.owner IS NULL OR ticket_feeds.owner = excluded.owner OR ticket_feeds.lease_until <= ?
       RETURNING seq`,
    ).get(r.name, r.startSeq, r.owner, leaseUntil, r.now) as { seq: number } | undefined;
    return row ? row.seq : null;
  },

  advanceTicketFeed(
    db: DatabaseSync,
    r: { name: string; owner: string; seq: number; now: string; leaseMs: number },
  ): boolean {
    const leaseUntil = new Date(Date.parse(r.now) + r.leaseMs).toISOString();
    const done = stmt(
      db,
      'UPDATE ticket_feeds SET seq = ?, lease_until = ? WHERE name = ? AND owner = ? AND lease_until > ?',
    ).run(r.seq, leaseUntil, r.name, r.owner, r.now);
    return done.changes > 0;
  },
} as const;
