// What both ticket adapters derive from what they are given, the same way: normalised tags and
// addresses, the lower-cased text search reads (case is folded here, in JavaScript, because
// SQLite's lower() folds only ASCII), and an agent's patch as the changes and events it records.
// `clean` is the engine's text cleaning (PostgreSQL cannot store U+0000).
import type { NewTicketEntry, NewTicketEvent, Ticket } from '../domain/ticket.ts';
import type { TicketPatch, TicketStore } from './ticket-ports.ts';

export type UpdateRequest = Parameters<TicketStore['update']>[0];
export type Change = { from: unknown; to: unknown };

/** Trimmed, without empty ones or repeats, in the order given. */
export function normalTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map((t) => t.trim()).filter((t) => t !== ''))];
}

/** Lower case, without empty ones or repeats, in the order given. */
export function normalAddresses(addresses: readonly string[]): string[] {
  return [...new Set(addresses.map((a) => a.trim().toLowerCase()).filter((a) => a !== ''))];
}

/** What a ticket's own fields offer to text search. */
export function ticketSearchText(t: {
  key: string;
  subject: string;
  requester: string;
  requesterName: string;
}): string {
  return [t.key, t.subject, t.requester, t.requesterName].join('\n').toLowerCase();
}

/** What an entry offers to text search. */
export function entrySearchText(e: NewTicketEntry): string {
  return [e.subject, e.from, e.fromName, e.text].join('\n').toLowerCase();
}

/** The fields a patch changes, before and after; tags normalised, an empty assignee is none. */
export function patchChanges(
  t: Ticket,
  patch: TicketPatch,
  clean: (s: string) => string = (s) => s,
): Map<keyof TicketPatch, Change> {
  const changes = new Map<keyof TicketPatch, Change>();
  if (patch.state !== undefined && patch.state !== t.state) {
    changes.set('state', { from: t.state, to: patch.state });
  }
  if (patch.assignee !== undefined) {
    const assignee = patch.assignee?.trim() || null;
    if (assignee !== t.assignee) changes.set('assignee', { from: t.assignee, to: assignee });
  }
  if (patch.tags !== undefined) {
    const tags = normalTags(patch.tags.map(clean));
    if (JSON.stringify(tags) !== JSON.stringify(t.tags)) changes.set('tags', { from: t.tags, to: tags });
  }
  if (patch.subject !== undefined && clean(patch.subject) !== t.subject) {
    changes.set('subject', { from: t.subject, to: clean(patch.subject) });
  }
  return changes;
}

/** `ticket:updated` with every change and, when the state moved, `ticket:status_changed`. */
export function updateEvents(
  t: Ticket,
  changes: Map<keyof TicketPatch, Change>,
  req: UpdateRequest,
): NewTicketEvent[] {
  const events: NewTicketEvent[] = [
    {
      id: `${req.eventId}:updated`,
      type: 'ticket:updated',
      ticketId: t.id,
      data: { key: t.key, changes: Object.fromEntries(changes), actor: req.actor },
    },
  ];
  const state = changes.get('state');
  if (state) {
    events.push({
      id: `${req.eventId}:status`,
      type: 'ticket:status_changed',
      ticketId: t.id,
      data: { key: t.key, from: state.from, to: state.to, actor: req.actor },
    });
  }
  return events;
}
