// Mail a desk sends: agents' replies and the acknowledgement of a new ticket. Each is From the
// ticket's address, asks to be answered at its signed reply address, carries a Message-ID we can
// verify later, answers the customer's last message (In-Reply-To, References), goes through the
// outbound queue with the signed address as its envelope sender (so bounces come back to the desk
// and land on the ticket), and is recorded on the ticket with its bytes.
import { createHash } from 'node:crypto';
import type { MailComposerOptions } from 'nodemailer/lib/mail-composer/index.js';
import { replyReferences } from '../actions/auto-reply/compose-reply.ts';
import { isPlainAddress } from '../actions/auto-reply/rules.ts';
import { enqueueKeyed } from '../actions/forward/outbound-deps.ts';
import { newMessageId } from '../domain/ids.ts';
import type { NewTicketEntry, Ticket, TicketEntry, TicketState } from '../domain/ticket.ts';
import { build } from '../outbound/compose.ts';
import type { OutboundStore } from '../storage/ports.ts';
import type { TicketStore } from '../storage/ticket-ports.ts';
import type { Anchors } from './anchors.ts';
import type { DeskMail } from './classify.ts';
import type { Desk } from './desk.ts';

export interface OutgoingDeps {
  store: TicketStore;
  anchors: Anchors;
  queue: Pick<OutboundStore, 'enqueue'>;
  /** queueLifetime: how long the queued message is tried. */
  lifetimeMs: number;
  onQueued: (id: string) => void;
  /** DKIM: signs for the domain of `from` when a key covers it. */
  sign?: (raw: Buffer, from: string) => Promise<Buffer>;
  now: () => number;
}

export interface ReplyRequest {
  text: string;
  html?: string;
  cc?: string[];
  author: string | null;
  /** The state the ticket takes with the reply (an agent answering usually waits on the customer). */
  state?: TicketState;
  /** The client's Idempotency-Key: the same key twice sends once. */
  idempotencyKey?: string;
}

export class TicketError extends Error {
  readonly code: 'not-found' | 'conflict' | 'invalid';
  constructor(code: 'not-found' | 'conflict' | 'invalid', message: string) {
    super(message);
    this.code = code;
  }
}

/** Our subject for a reply: one "RE: " before the original without its own reply and forward prefixes. */
export function replySubject(subject: string): string {
  const bare = subject
    .replace(/^\s*(?:(?:re|aw|sv|antw|wg|fw|fwd|tr|vs|r)(?:\[\d+\])?\s*:\s*)+/i, '')
    .replace(/[\r\n]+/g, ' ')
    .trim();
  return `RE: ${bare}`;
}

export class TicketMailer {
  private readonly d: OutgoingDeps;

  constructor(deps: OutgoingDeps) {
    this.d = deps;
  }

  private deskOf(ticket: Ticket): Desk {
    const desk = this.d.anchors.deskNamed(ticket.desk);
    if (!desk) throw new TicketError('conflict', `the desk ${ticket.desk} is no longer configured`);
    return desk;
  }

  private async compose(
    desk: Desk,
    ticket: Ticket,
    m: { to: string; cc: string[]; text: string; html?: string; messageId: string; automatic: boolean },
  ): Promise<Buffer> {
    const refs = ticket.lastCustomerMessageId
      ? replyReferences(ticket.lastCustomerReferences, ticket.lastCustomerMessageId)
      : [];
    const mail: MailComposerOptions = {
      from: { name: desk.fromName, address: this.d.anchors.address(desk, ticket.number) },
      replyTo: { name: desk.fromName, address: this.d.anchors.replyAddress(desk, ticket.number) },
      to: { name: '', address: m.to },
      ...(m.cc.length > 0 ? { cc: m.cc.map((address) => ({ name: '', address })) } : {}),
      subject: replySubject(ticket.subject),
      text: m.text.replace(/\r\n|\r|\n/g, '\r\n'),
      ...(m.html ? { html: m.html } : {}),
      ...(refs.length > 0 ? { inReplyTo: refs.at(-1)!, references: refs } : {}),
      headers: [
        ...(m.automatic
          ? [
              { key: 'Auto-Submitted', value: 'auto-replied' },
              { key: 'X-Auto-Response-Suppress', value: 'All' },
            ]
          : []),
      ],
      messageId: m.messageId,
      date: new Date(this.d.now()),
      disableFileAccess: true,
      disableUrlAccess: true,
      newline: 'win',
    };
    let raw = await build(mail);
    if (this.d.sign) raw = await this.d.sign(raw, this.d.anchors.address(desk, ticket.number));
    return raw;
  }

  /** Queues the message durably under `key`; its outbound id (an earlier one when the key was used for it). */
  private async queue(
    desk: Desk,
    ticket: Ticket,
    raw: Buffer,
    rcptTo: string[],
    messageId: string,
    key: string,
  ) {
    const now = this.d.now();
    const r = await enqueueKeyed(
      this.d,
      {
        mailFrom: this.d.anchors.replyAddress(desk, ticket.number),
        rcptTo,
        raw,
        headerMessageId: messageId,
        metadata: { ticket: ticket.key },
      },
      { key, expiresAt: new Date(now + 7 * 24 * 3_600_000).toISOString() },
      now,
    );
    if (r.outcome === 'queued') this.d.onQueued(r.id);
    else if (r.outcome !== 'replayed')
      throw new TicketError('conflict', `the key ${key} was used for another message`);
    return r.id;
  }

  /** Sends an agent's reply to the requester and records it; returns the entry. */
  async reply(
    idOrKey: string,
    req: ReplyRequest,
  ): Promise<{ ticket: Ticket; entry: TicketEntry; outboundId: string }> {
    const ticket = await this.d.store.get(idOrKey);
    if (!ticket) throw new TicketError('not-found', `no ticket ${idOrKey}`);
    const desk = this.deskOf(ticket);
    const cc = [...new Set((req.cc ?? []).map((a) => a.trim()).filter(Boolean))];
    for (const a of [ticket.requester, ...cc])
      if (!isPlainAddress(a)) throw new TicketError('invalid', `"${a}" is not an address mail can go to`);
    // The key ties a retried request to its first run: same key, same message, one entry.
    const key = `ticket-reply ${ticket.id} ${req.idempotencyKey ?? newMessageId()}`;
    const seed = createHash('sha256').update(key).digest('hex');
    const messageId = this.d.anchors.messageId(desk, ticket.number, seed);
    const raw = await this.compose(desk, ticket, {
      to: ticket.requester,
      cc,
      text: req.text,
      ...(req.html ? { html: req.html } : {}),
      messageId,
      automatic: false,
    });
    const queuedId = await this.queue(desk, ticket, raw, [ticket.requester, ...cc], messageId, key);
    const entry: NewTicketEntry = {
      id: newMessageId(),
      kind: 'agent',
      messageId: null,
      outboundId: queuedId,
      headerMessageId: messageId.slice(1, -1),
      from: this.d.anchors.address(desk, ticket.number),
      fromName: desk.fromName,
      to: [ticket.requester],
      cc,
      subject: replySubject(ticket.subject),
      text: req.text,
      strippedText: req.text,
      html: req.html ?? null,
      attachments: [],
      author: req.author,
      note: null,
    };
    const events: Parameters<TicketStore['append']>[0]['events'] = [
      {
        id: `${ticket.id}:reply:${seed.slice(0, 24)}`,
        type: 'ticket:replied',
        ticketId: ticket.id,
        data: { key: ticket.key, entry: entry.id, kind: 'agent', author: req.author, outboundId: queuedId },
      },
    ];
    const state = req.state && req.state !== ticket.state ? req.state : undefined;
    if (state)
      events.push({
        id: `${ticket.id}:reply:${seed.slice(0, 24)}:status`,
        type: 'ticket:status_changed',
        ticketId: ticket.id,
        data: {
          key: ticket.key,
          from: ticket.state,
          to: state,
          actor: req.author,
          reason: 'an agent replied',
        },
      });
    const r = await this.d.store.append({
      ticketId: ticket.id,
      entry,
      raw,
      change: {
        ...(state ? { state } : {}),
        addParticipants: cc,
      },
      now: new Date(this.d.now()).toISOString(),
      events,
    });
    if (!r) throw new TicketError('not-found', `no ticket ${idOrKey}`);
    return { ticket: r.ticket, entry: r.entry, outboundId: queuedId };
  }

  /** Records an internal note: never mailed. */
  async note(idOrKey: string, req: { text: string; author: string | null }) {
    const ticket = await this.d.store.get(idOrKey);
    if (!ticket) throw new TicketError('not-found', `no ticket ${idOrKey}`);
    const entry: NewTicketEntry = {
      id: newMessageId(),
      kind: 'note',
      messageId: null,
      outboundId: null,
      headerMessageId: null,
      from: req.author ?? '',
      fromName: '',
      to: [],
      cc: [],
      subject: '',
      text: req.text,
      strippedText: req.text,
      html: null,
      attachments: [],
      author: req.author,
      note: null,
    };
    const r = await this.d.store.append({
      ticketId: ticket.id,
      entry,
      raw: null,
      change: {},
      now: new Date(this.d.now()).toISOString(),
      events: [
        {
          id: `${ticket.id}:note:${entry.id}`,
          type: 'ticket:updated',
          ticketId: ticket.id,
          data: { key: ticket.key, note: entry.id, author: req.author },
        },
      ],
    });
    if (!r) throw new TicketError('not-found', `no ticket ${idOrKey}`);
    return { ticket: r.ticket, entry: r.entry };
  }

  /** The acknowledgement of a new ticket, once per ticket (its key and Message-ID come from the ticket). */
  async acknowledge(desk: Desk, ticket: Ticket, mail: DeskMail): Promise<void> {
    if (!isPlainAddress(ticket.requester)) return;
    const key = `ticket-ack ${ticket.id}`;
    const messageId = this.d.anchors.messageId(desk, ticket.number, key);
    const text = desk.acknowledgementText
      .replaceAll('{key}', ticket.key)
      .replaceAll('{subject}', mail.parsed.subject.replace(/[\r\n]+/g, ' '));
    const raw = await this.compose(desk, ticket, {
      to: ticket.requester,
      cc: [],
      text,
      messageId,
      automatic: true,
    });
    const queuedId = await this.queue(desk, ticket, raw, [ticket.requester], messageId, key);
    await this.d.store.append({
      ticketId: ticket.id,
      entry: {
        id: newMessageId(),
        kind: 'acknowledgement',
        messageId: null,
        outboundId: queuedId,
        headerMessageId: messageId.slice(1, -1),
        from: this.d.anchors.address(desk, ticket.number),
        fromName: desk.fromName,
        to: [ticket.requester],
        cc: [],
        subject: replySubject(ticket.subject),
        text,
        strippedText: text,
        html: null,
        attachments: [],
        author: null,
        note: null,
      },
      raw,
      change: {},
      now: new Date(this.d.now()).toISOString(),
      events: [
        {
          id: `${ticket.id}:acknowledged`,
          type: 'ticket:replied',
          ticketId: ticket.id,
          data: { key: ticket.key, kind: 'acknowledgement', outboundId: queuedId },
        },
      ],
    });
  }
}
