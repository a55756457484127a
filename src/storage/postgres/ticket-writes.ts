// The support desk's writes that change tickets, each run in one transaction that holds the ticket
// lock (tickets.ts): a duplicate check and its insert, or a desk's number and its ticket, cannot be
// split by another node, and event seqs commit in order.
import type pg from 'pg';
import type { Ticket, TicketEntry } from '../../domain/ticket.ts';
import type { AppendEntry, Duplicate, OpenTicket, TicketPatch } from '../ticket-ports.ts';
import {
  normalAddresses,
  normalTags,
  patchChanges,
  ticketSearchText,
  type UpdateRequest,
  updateEvents,
} from '../ticket-values.ts';
import { addEvents, duplicateOf, entryById, insertEntry, ticketById } from './ticket-sql.ts';
import { pgText } from './write-ops.ts';

export async function openTicket(
  c: pg.PoolClient,
  req: OpenTicket,
): Promise<{ outcome: 'opened'; ticket: Ticket; entry: TicketEntry } | Duplicate> {
  // Checked before the number is taken: a duplicate does not use one up.
  const duplicate = await duplicateOf(c, req.desk, req.entry);
  if (duplicate) return duplicate;
  const { rows } = await c.query<{ number: number }>(
    `INSERT INTO ticket_desks (desk, next_number) VALUES ($1, $2)
     ON CONFLICT (desk) DO UPDATE SET next_number = ticket_desks.next_number + 1
     RETURNING next_number - 1 AS number`,
    [req.desk, req.firstNumber + 1],
  );
  const number = rows[0]!.number;
  const key = `${req.keyPrefix}-${number}`;
  await c.query(
    `INSERT INTO tickets (id, desk, number, key, key_norm, subject, requester, requester_name, participants,
       state, assignee, tags, last_customer_message_id, last_customer_references, search_text, created_at,
       updated_at, entry_count)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text[], 'open', NULL, $10::text[], $11, $14, $12, $13, $13, 1)`,
    [
      req.id,
      req.desk,
      number,
      key,
      key.toUpperCase(),
      pgText(req.subject),
      pgText(req.requester),
      pgText(req.requesterName),
      normalAddresses(req.participants).map(pgText),
      normalTags(req.tags).map(pgText),
      // The message a first reply answers, when the ticket starts with the customer's own mail.
      req.entry.kind === 'customer' ? req.entry.headerMessageId : null,
      pgText(ticketSearchText({ ...req, key })),
      req.now,
      req.entry.kind === 'customer' ? pgText(req.references) : '',
    ],
  );
  await insertEntry(c, { id: req.id, desk: req.desk, pos: 0 }, req.entry, req.raw, req.now);
  await addEvents(
    c,
    req.events.map((e) => ({ ...e, data: { ...e.data, key, number } })),
    req.now,
  );
  return {
    outcome: 'opened',
    ticket: (await ticketById(c, req.id))!,
    entry: (await entryById(c, req.entry.id))!,
  };
}

export async function appendEntry(
  c: pg.PoolClient,
  req: AppendEntry,
): Promise<{ outcome: 'appended'; ticket: Ticket; entry: TicketEntry } | Duplicate | null> {
  const t = await ticketById(c, req.ticketId, true);
  if (!t) return null;
  const duplicate = await duplicateOf(c, t.desk, req.entry);
  if (duplicate) return duplicate;
  await insertEntry(c, { id: t.id, desk: t.desk, pos: t.entryCount }, req.entry, req.raw, req.now);
  const ch = req.change;
  await c.query(
    `UPDATE tickets SET state = coalesce($1, state), participants = $2::text[],
       last_customer_message_id = coalesce($3, last_customer_message_id),
       last_customer_references = coalesce($4, last_customer_references),
       updated_at = $5, entry_count = entry_count + 1
     WHERE id = $6`,
    [
      ch.state ?? null,
      normalAddresses([...t.participants, ...(ch.addParticipants ?? [])]).map(pgText),
      ch.lastCustomerMessageId ?? null,
      ch.lastCustomerReferences === undefined ? null : pgText(ch.lastCustomerReferences),
      req.now,
      t.id,
    ],
  );
  await addEvents(c, req.events, req.now);
  return {
    outcome: 'appended',
    ticket: (await ticketById(c, t.id))!,
    entry: (await entryById(c, req.entry.id))!,
  };
}

export async function updateTicket(
  c: pg.PoolClient,
  req: UpdateRequest,
): Promise<{ ticket: Ticket; changed: (keyof TicketPatch)[] } | null> {
  const t = await ticketById(c, req.ticketId, true);
  if (!t) return null;
  const changes = patchChanges(t, req.patch, pgText);
  if (changes.size === 0) return { ticket: t, changed: [] };
  const next = { ...t };
  for (const [field, { to }] of changes) Object.assign(next, { [field]: to });
  await c.query(
    `UPDATE tickets SET state = $1, assignee = $2, tags = $3::text[], subject = $4, search_text = $5, updated_at = $6
     WHERE id = $7`,
    [next.state, next.assignee, next.tags, next.subject, pgText(ticketSearchText(next)), req.now, t.id],
  );
  await addEvents(c, updateEvents(t, changes, req), req.now);
  return { ticket: (await ticketById(c, t.id))!, changed: [...changes.keys()] };
}
