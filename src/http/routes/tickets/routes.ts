// The tickets API: list and search a desk's tickets, read a conversation (with each entry's source,
// parts and sandboxed HTML), change state, assignee and tags, reply (mailed through the outbound
// queue) and add internal notes (never mailed), deal with held messages, and follow the ticket
// event feed (SSE resuming from Last-Event-ID, or JSON pages).
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Ticket, TicketEntry, TicketEvent } from '../../../domain/ticket.ts';
import type { EventBus } from '../../../events/bus.ts';
import type { MimeParser } from '../../../mime/types.ts';
import type { Storage } from '../../../storage/ports.ts';
import { TicketError } from '../../../tickets/outgoing.ts';
import type { TicketServices } from '../../../tickets/setup.ts';
import type { AppEnv } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { readJsonBody, validate } from '../../validate.ts';
import { contentDisposition, safeContentType, sanitiseFilename } from '../message/content-disposition.ts';
import { htmlView } from '../view/routes.ts';
import {
  entryParam,
  eventsQuery,
  heldBody,
  heldParam,
  heldQuery,
  noteBody,
  replyBody,
  ticketListQuery,
  ticketParam,
  ticketPatch,
} from './schema.ts';

export interface TicketRouteDeps {
  tickets: TicketServices;
  messages: Pick<Storage, 'get' | 'getRaw'>;
  parser: Pick<MimeParser, 'parse' | 'extractPart'>;
  events: EventBus;
  now: () => number;
  /** How often an open event stream looks for events other nodes recorded. */
  pollMs?: number;
}

export function presentTicket(t: Ticket, address: string) {
  return {
    ID: t.id,
    Key: t.key,
    Desk: t.desk,
    Number: t.number,
    Subject: t.subject,
    Requester: { Name: t.requesterName, Address: t.requester },
    Participants: t.participants,
    State: t.state,
    Assignee: t.assignee,
    Tags: t.tags,
    Address: address,
    CreatedAt: t.createdAt,
    UpdatedAt: t.updatedAt,
    Entries: t.entryCount,
  };
}

export function presentEntry(e: TicketEntry) {
  return {
    ID: e.id,
    Kind: e.kind,
    MessageID: e.messageId,
    OutboundID: e.outboundId,
    HeaderMessageID: e.headerMessageId,
    From: { Name: e.fromName, Address: e.from },
    To: e.to,
    Cc: e.cc,
    Subject: e.subject,
    Text: e.text,
    StrippedText: e.strippedText,
    HasHTML: e.html !== null && e.html !== '',
    Attachments: e.attachments.map((a) => ({
      PartID: a.partId,
      FileName: a.filename,
      ContentType: a.contentType,
      Size: a.size,
      Inline: a.inline,
      ContentID: a.contentId,
    })),
    Author: e.author,
    Note: e.note,
    HasSource: e.hasRaw,
    At: e.at,
  };
}

export function presentEvent(e: TicketEvent) {
  return { Seq: e.seq, ID: e.id, Type: e.type, TicketID: e.ticketId, At: e.at, Data: e.data };
}

/** Keep-alive comment on an idle event stream (proxies close silent connections). */
const HEARTBEAT_MS = 15_000;

function problemOf(err: unknown): never {
  if (err instanceof TicketError)
    throw new HttpProblem(err.code === 'invalid' ? 'bad-request' : err.code, err.message);
  throw err;
}

export function ticketRoutes(deps: TicketRouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { store, anchors, mailer, intake } = deps.tickets;
  const at = () => new Date(deps.now()).toISOString();
  const addressOf = (t: Ticket) => {
    const desk = anchors.deskNamed(t.desk);
    return desk ? anchors.address(desk, t.number) : '';
  };

  async function ticketOf(id: string): Promise<Ticket> {
    const ticket = await store.get(id);
    if (!ticket) throw new HttpProblem('not-found', `No ticket ${id}.`);
    return ticket;
  }

  async function entryOf(params: Record<string, string>): Promise<{ entry: TicketEntry; raw: Uint8Array }> {
    const { id, entry: entryId } = validate(entryParam, params, 'path');
    const ticket = await ticketOf(id);
    const entry = await store.entry(entryId);
    if (!entry || entry.ticketId !== ticket.id)
      throw new HttpProblem('not-found', 'The ticket has no such entry.');
    const raw = await store.entryRaw(entry.id);
    if (!raw)
      throw new HttpProblem(
        'not-found',
        'This entry keeps no message source (a note, or a reply recorded without it).',
      );
    return { entry, raw };
  }

  app.get('/tickets', async (c) => {
    const q = validate(ticketListQuery, c.req.query(), 'query');
    const { tickets, total } = await store.list({
      ...(q.desk ? { desk: q.desk } : {}),
      ...(q.state ? { states: q.state.split(',') as Ticket['state'][] } : {}),
      ...(q.assignee !== undefined ? { assignee: q.assignee } : {}),
      ...(q.tag ? { tag: q.tag } : {}),
      ...(q.query ? { text: q.query } : {}),
      start: q.start,
      limit: q.limit,
    });
    return c.json({ total, start: q.start, tickets: tickets.map((t) => presentTicket(t, addressOf(t))) });
  });

  app.get('/tickets/desks', (c) =>
    c.json({
      desks: anchors.desks.map((d) => ({
        Name: d.name,
        Domain: d.domain,
        Intake: `${d.intake}@${d.domain}`,
        Prefix: d.prefix,
        Acknowledge: d.acknowledge,
        FromName: d.fromName,
      })),
    }),
  );

  app.get('/tickets/held', async (c) => {
    const q = validate(heldQuery, c.req.query(), 'query');
    const held = await store.held({
      ...(q.desk ? { desk: q.desk } : {}),
      unresolvedOnly: q.all === '0',
      start: q.start,
      limit: q.limit,
    });
    return c.json({
      held: held.map((h) => ({
        MessageID: h.messageId,
        Desk: h.desk,
        TicketID: h.ticketId,
        Reason: h.reason,
        From: h.from,
        Subject: h.subject,
        At: h.at,
        Resolution: h.resolution,
        ResolvedAt: h.resolvedAt,
      })),
    });
  });

  app.post('/tickets/held/:message/:action', async (c) => {
    const { message, action } = validate(heldParam, c.req.param(), 'path');
    const body = validate(heldBody, (await readJsonBody(c.req)) ?? {}, 'body');
    const desks = body.Desk ? [body.Desk] : anchors.desks.map((d) => d.name);
    let held = null;
    for (const d of desks) {
      const h = await store.heldMessage(message, d);
      if (h && !h.resolvedAt) {
        if (held) throw new HttpProblem('bad-request', 'Several desks hold this message: name one in Desk.');
        held = h;
      }
    }
    if (!held) throw new HttpProblem('not-found', 'No desk holds this message (or it was dealt with).');
    const desk = anchors.deskNamed(held.desk);
    if (!desk) throw new HttpProblem('conflict', `The desk ${held.desk} is no longer configured.`);
    let resolution = 'dismissed';
    let ticket: Ticket | null = null;
    if (action !== 'dismiss') {
      const [stored, raw] = await Promise.all([deps.messages.get(message), deps.messages.getRaw(message)]);
      if (!stored?.parsed || !raw)
        throw new HttpProblem(
          'conflict',
          'The held message is no longer stored (retention or a delete removed it).',
        );
      const mail = {
        id: stored.id,
        mailFrom: stored.envelope.mailFrom,
        rcptTo: stored.envelope.rcptTo,
        size: stored.size,
        parsed: stored.parsed,
      };
      if (action === 'attach') {
        const target = body.Ticket ?? held.ticketId;
        if (!target) throw new HttpProblem('bad-request', 'Name the ticket to attach it to (Ticket).');
        const into = await ticketOf(target);
        if (into.desk !== desk.name)
          throw new HttpProblem('bad-request', `${into.key} is not a ticket of ${desk.name}.`);
        const r = await intake.attachHeld(desk, into, mail, raw);
        ticket = r.ticket;
        resolution = `attached to ${r.ticket.key}`;
      } else {
        const r = await intake.openHeld(desk, mail, raw);
        ticket = r.ticket;
        resolution = `opened ${r.ticket.key}`;
      }
    }
    await store.resolveHeld({
      messageId: message,
      desk: held.desk,
      resolution: body.Actor ? `${resolution} by ${body.Actor}` : resolution,
      now: at(),
    });
    return c.json({
      Resolution: resolution,
      Ticket: ticket ? presentTicket(ticket, addressOf(ticket)) : null,
    });
  });

  app.get('/tickets/events', async (c) => {
    const q = validate(eventsQuery, c.req.query(), 'query');
    const header = c.req.header('Last-Event-ID');
    const resume = header && /^\d{1,15}$/.test(header) ? Number(header) : undefined;
    let after = resume ?? q.after ?? (q.format === 'json' ? 0 : await store.lastEventSeq());
    if (q.format === 'json') {
      const events = await store.events(after, q.limit);
      return c.json({ events: events.map(presentEvent), last: events.at(-1)?.seq ?? after });
    }
    return streamSSE(c, async (stream) => {
      let wake: (() => void) | null = null;
      const nudge = () => wake?.();
      const off = deps.events.on('tickets:changed', nudge);
      const poll = setInterval(nudge, deps.pollMs ?? 2000);
      const beat = setInterval(() => void stream.write(': keep-alive\n\n'), HEARTBEAT_MS);
      stream.onAbort(() => {
        off();
        clearInterval(poll);
        clearInterval(beat);
        nudge();
      });
      await stream.write('retry: 3000\n\n');
      while (!stream.aborted) {
        const events = await store.events(after, 200);
        for (const e of events) {
          await stream.writeSSE({ id: String(e.seq), event: e.type, data: JSON.stringify(presentEvent(e)) });
          after = e.seq;
        }
        if (events.length === 200) continue;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
    });
  });

  app.get('/tickets/:id', async (c) => {
    const { id } = validate(ticketParam, c.req.param(), 'path');
    const ticket = await ticketOf(id);
    const entries = await store.entries(ticket.id);
    return c.json({ ...presentTicket(ticket, addressOf(ticket)), Conversation: entries.map(presentEntry) });
  });

  app.patch('/tickets/:id', async (c) => {
    const { id } = validate(ticketParam, c.req.param(), 'path');
    const body = validate(ticketPatch, await readJsonBody(c.req), 'body');
    const ticket = await ticketOf(id);
    const r = await store.update({
      ticketId: ticket.id,
      patch: {
        ...(body.State ? { state: body.State } : {}),
        ...(body.Assignee !== undefined ? { assignee: body.Assignee } : {}),
        ...(body.Tags ? { tags: body.Tags } : {}),
        ...(body.Subject ? { subject: body.Subject } : {}),
      },
      actor: body.Actor ?? null,
      eventId: `${ticket.id}:patch:${crypto.randomUUID()}`,
      now: at(),
    });
    if (!r) throw new HttpProblem('not-found', `No ticket ${id}.`);
    return c.json(presentTicket(r.ticket, addressOf(r.ticket)));
  });

  app.post('/tickets/:id/replies', async (c) => {
    const { id } = validate(ticketParam, c.req.param(), 'path');
    const body = validate(replyBody, await readJsonBody(c.req), 'reply');
    const key = c.req.header('Idempotency-Key');
    if (key !== undefined && !/^[\x21-\x7e]{1,255}$/.test(key))
      throw new HttpProblem(
        'bad-request',
        'Idempotency-Key must be 1-255 printable ASCII characters without spaces.',
      );
    const r = await mailer
      .reply(id, {
        text: body.Text,
        ...(body.HTML ? { html: body.HTML } : {}),
        cc: body.Cc,
        author: body.Author ?? null,
        ...(body.State ? { state: body.State } : {}),
        ...(key ? { idempotencyKey: key } : {}),
      })
      .catch(problemOf);
    return c.json(
      {
        Ticket: presentTicket(r.ticket, addressOf(r.ticket)),
        Entry: presentEntry(r.entry),
        OutboundID: r.outboundId,
      },
      202,
    );
  });

  app.post('/tickets/:id/notes', async (c) => {
    const { id } = validate(ticketParam, c.req.param(), 'path');
    const body = validate(noteBody, await readJsonBody(c.req), 'note');
    const r = await mailer.note(id, { text: body.Text, author: body.Author ?? null }).catch(problemOf);
    return c.json(
      { Ticket: presentTicket(r.ticket, addressOf(r.ticket)), Entry: presentEntry(r.entry) },
      201,
    );
  });

  app.get('/tickets/:id/entries/:entry/raw', async (c) => {
    const { entry, raw } = await entryOf(c.req.param());
    return new Response(new Uint8Array(raw), {
      headers: {
        'Content-Type': 'message/rfc822',
        'Content-Disposition': contentDisposition('attachment', `${entry.id}.eml`),
        'X-Content-Type-Options': 'nosniff',
      },
    });
  });

  app.get('/tickets/:id/entries/:entry/part/:partId', async (c) => {
    const { raw } = await entryOf(c.req.param());
    const partId = c.req.param('partId');
    if (!/^[0-9.]{1,64}$/.test(partId)) throw new HttpProblem('part-not-found', 'Not a part id.');
    const part = await deps.parser.extractPart(new Uint8Array(raw), partId).catch(() => null);
    if (!part) throw new HttpProblem('part-not-found', 'The entry has no part with this id.');
    return new Response(new Uint8Array(part.content), {
      headers: {
        'Content-Type': safeContentType(part.contentType),
        'Content-Disposition': contentDisposition(
          'attachment',
          sanitiseFilename(part.filename, `part-${partId}`),
        ),
        'X-Content-Type-Options': 'nosniff',
      },
    });
  });

  // The entry's HTML as a standalone sandboxed document, exactly as /view/{ID}.html serves a message's.
  app.get('/tickets/:id/entries/:entry/view.html', async (c) => {
    const { entry, raw } = await entryOf(c.req.param());
    if (!entry.html) throw new HttpProblem('not-found', 'This entry has no HTML part.');
    const inline = entry.attachments.filter((a) => a.inline);
    return htmlView(c, deps.parser, raw, entry.html, inline);
  });

  return app;
}
