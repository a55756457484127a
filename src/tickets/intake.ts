// A desk's intake: what happens to one received message addressed to a desk.
//   our own mail come back ............................ nothing (said in the outcome)
//   a delivery report about one of our replies ......... a bounce entry on that ticket, no reopen
//   a verified anchor (signed address, our Message-ID)
//     from a participant ............................... an entry on that ticket (a customer reply
//                                                        reopens a solved or pending ticket; a reply
//                                                        to a closed one opens a follow-up)
//     from anyone else ................................. a new ticket if it was also sent to the
//                                                        intake address, else held, with the reason
//   no anchor, sent to the intake address .............. a new ticket (acknowledged if configured)
//   no anchor otherwise (a guessed or unsigned ticket address) held
// Automatic mail (out-of-office, auto-submitted, bulk, mailer daemons) is kept but never reopens,
// acknowledges or changes the requester; beyond the desk's caps it is held. The subject is never
// read for a ticket number. The same message (or Message-ID) twice is one entry.
import { newMessageId } from '../domain/ids.ts';
import type { NewTicketEntry, Ticket, TicketAttachment } from '../domain/ticket.ts';
import { htmlToText } from '../mime/html-text.ts';
import { stripReply } from '../mime/reply-text.ts';
import { parseReport, reportType } from '../outbound/reports.ts';
import type { TicketStore } from '../storage/ticket-ports.ts';
import type { Anchors } from './anchors.ts';
import { type DeskMail, isOwnMail, namedAddresses, readForDesk, referencesOf } from './classify.ts';
import type { Desk } from './desk.ts';

export interface IntakeDeps {
  store: TicketStore;
  anchors: Anchors;
  now: () => number;
  /**
   * Sends the acknowledgement of a new ticket to its requester (through the outbound queue) and
   * records it on the ticket; at most once per ticket however often it is called.
   */
  acknowledge: (desk: Desk, ticket: Ticket, mail: DeskMail) => Promise<void>;
}

export type IntakeOutcome =
  | { kind: 'opened' | 'appended' | 'duplicate'; ticket: Ticket; detail: string }
  | { kind: 'held' | 'own'; detail: string };

const HOUR = 3_600_000;

/** Who wrote the message: its From address, else the return path. */
function senderOf(mail: DeskMail): string {
  return mail.parsed.from?.Address ?? mail.mailFrom;
}

function entryOf(mail: DeskMail, kind: NewTicketEntry['kind'], note: string | null): NewTicketEntry {
  const p = mail.parsed;
  const text = p.text !== '' ? p.text : htmlToText(p.html);
  const attachments: TicketAttachment[] = [
    ...p.attachments.map((a) => ({ a, inline: false })),
    ...p.inline.map((a) => ({ a, inline: true })),
  ].map(({ a, inline }) => ({
    partId: a.PartID,
    filename: a.FileName,
    contentType: a.ContentType,
    size: a.Size,
    inline,
    contentId: a.ContentID,
  }));
  return {
    id: newMessageId(),
    kind,
    messageId: mail.id,
    outboundId: null,
    headerMessageId: p.messageId || null,
    from: senderOf(mail),
    fromName: p.from?.Name ?? '',
    to: p.to.map((a) => a.Address),
    cc: p.cc.map((a) => a.Address),
    subject: p.subject,
    text,
    strippedText: stripReply({ text: p.text, html: p.html, subject: p.subject }).reply,
    html: p.html || null,
    attachments,
    author: null,
    note,
  };
}

export class DeskIntake {
  private readonly d: IntakeDeps;
  /** The intake under way per desk: one message at a time each (see take()). */
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(deps: IntakeDeps) {
    this.d = deps;
  }

  /**
   * Files one message on the desk. Messages of one desk are taken one after the other: the caps
   * (acknowledgements per address, automatic mail per sender and per ticket) count what earlier
   * messages recorded, so two of a burst taken side by side (the action runner runs jobs
   * concurrently) would both pass a cap that only one may.
   */
  take(desk: Desk, mail: DeskMail, raw: Uint8Array): Promise<IntakeOutcome> {
    const before = this.tails.get(desk.name) ?? Promise.resolve();
    const run = before.then(
      () => this.takeNow(desk, mail, raw),
      () => this.takeNow(desk, mail, raw),
    );
    const tail = run.catch(() => undefined);
    this.tails.set(desk.name, tail);
    void tail.then(() => {
      if (this.tails.get(desk.name) === tail) this.tails.delete(desk.name);
    });
    return run;
  }

  private async takeNow(desk: Desk, mail: DeskMail, raw: Uint8Array): Promise<IntakeOutcome> {
    const { anchors, store } = this.d;
    if (isOwnMail(anchors, mail.parsed))
      return {
        kind: 'own',
        detail: `our own mail (Message-ID ${mail.parsed.messageId}) came back: not added`,
      };
    const bounce = await this.bounce(desk, mail, raw);
    if (bounce) return bounce;

    const reading = readForDesk(anchors, desk, mail);
    const sender = senderOf(mail).toLowerCase();
    const automatic = reading.automatic;
    let whyNew: string | null = null;
    if (reading.anchor) {
      const ticket = await store.byNumber(desk.name, reading.anchor.number);
      const key = anchors.key(desk, reading.anchor.number);
      if (!ticket) {
        whyNew = `${key} (named by ${reading.anchor.how}) does not exist`;
      } else if (!ticket.participants.includes(sender)) {
        whyNew = `${sender} is not a participant of ${key} (named by ${reading.anchor.how})`;
        if (!reading.toIntake) return this.hold(desk, mail, ticket.id, whyNew);
      } else if (ticket.state === 'closed' && !automatic) {
        return this.open(desk, mail, raw, null, `${key} is closed (a follow-up of it)`);
      } else {
        return this.append(desk, ticket, mail, raw, automatic, reading.anchor.how);
      }
    } else if (!reading.toIntake) {
      const named = reading.unverified.length > 0 ? ` (sent to ${reading.unverified.join(', ')})` : '';
      return this.hold(
        desk,
        mail,
        null,
        `no verifiable anchor${named}: neither a signed reply address nor a Message-ID of ours in In-Reply-To or References`,
      );
    }
    if (!reading.toIntake && whyNew) return this.hold(desk, mail, null, whyNew);
    return this.open(desk, mail, raw, automatic, whyNew);
  }

  /**
   * An agent adds a held message to a ticket: its sender becomes a participant. Automatic mail
   * stays automatic (no reopen).
   */
  async attachHeld(desk: Desk, ticket: Ticket, mail: DeskMail, raw: Uint8Array): Promise<{ ticket: Ticket }> {
    const automatic = readForDesk(this.d.anchors, desk, mail).automatic;
    const sender = senderOf(mail).toLowerCase();
    // A customer reply adds everyone it names (the sender included); automatic mail adds its sender only.
    const r = automatic
      ? await this.appendEntry(
          ticket,
          mail,
          raw,
          entryOf(mail, 'automatic', automatic),
          { addParticipants: [sender] },
          'automatic mail an agent attached',
        )
      : await this.append(desk, ticket, mail, raw, null, 'an agent attaching it');
    if (!('ticket' in r)) throw new Error(r.detail);
    return { ticket: r.ticket };
  }

  /** An agent opens a new ticket from a held message (no acknowledgement: the agent decided). */
  async openHeld(desk: Desk, mail: DeskMail, raw: Uint8Array): Promise<{ ticket: Ticket }> {
    const automatic = readForDesk(this.d.anchors, desk, mail).automatic;
    const r = await this.open(desk, mail, raw, automatic, 'an agent opened it from a held message', false);
    if (!('ticket' in r)) throw new Error(r.detail);
    return { ticket: r.ticket };
  }

  private async bounce(desk: Desk, mail: DeskMail, raw: Uint8Array): Promise<IntakeOutcome | null> {
    const contentType = mail.parsed.headers?.find(([n]) => n === 'content-type')?.[1] ?? '';
    if (reportType(contentType) !== 'delivery-status') return null;
    const report = await parseReport(raw);
    if (report?.kind !== 'dsn' || !report.originalMessageId) return null;
    const ref = this.d.anchors.verifyMessageId(report.originalMessageId);
    if (!ref || ref.desk.name !== desk.name) return null;
    const ticket = await this.d.store.byNumber(desk.name, ref.number);
    if (!ticket) return null;
    const said = report.recipients
      .map(
        (r) =>
          `${r.recipient}: ${r.action}${r.diagnostic ? ` (${r.diagnostic})` : r.status ? ` (${r.status})` : ''}`,
      )
      .join('; ');
    const note = `delivery report about our reply ${report.originalMessageId}: ${said || 'no recipients named'}`;
    return this.appendEntry(ticket, mail, raw, entryOf(mail, 'bounce', note), {}, 'a bounce of our reply');
  }

  private async append(
    desk: Desk,
    ticket: Ticket,
    mail: DeskMail,
    raw: Uint8Array,
    automatic: string | null,
    how: string,
  ): Promise<IntakeOutcome> {
    if (automatic) {
      const capped = await this.automaticCap(desk, mail, ticket.id);
      if (capped) return this.hold(desk, mail, ticket.id, capped);
      return this.appendEntry(
        ticket,
        mail,
        raw,
        entryOf(mail, 'automatic', automatic),
        {},
        `automatic mail, by ${how}`,
      );
    }
    const reopen = ticket.state === 'solved' || ticket.state === 'pending';
    return this.appendEntry(
      ticket,
      mail,
      raw,
      entryOf(mail, 'customer', null),
      {
        ...(reopen ? { state: 'open' as const } : {}),
        addParticipants: namedAddresses(this.d.anchors, mail.parsed),
        ...(mail.parsed.messageId
          ? {
              lastCustomerMessageId: mail.parsed.messageId,
              lastCustomerReferences: referencesOf(mail.parsed),
            }
          : {}),
      },
      `a reply, by ${how}`,
    );
  }

  private async appendEntry(
    ticket: Ticket,
    mail: DeskMail,
    raw: Uint8Array,
    entry: NewTicketEntry,
    change: Parameters<TicketStore['append']>[0]['change'],
    what: string,
  ): Promise<IntakeOutcome> {
    const base = `${ticket.desk}:${mail.id}`;
    const events: Parameters<TicketStore['append']>[0]['events'] = [
      {
        id: `${base}:replied`,
        type: 'ticket:replied',
        ticketId: ticket.id,
        data: { key: ticket.key, entry: entry.id, kind: entry.kind, from: entry.from, messageId: mail.id },
      },
    ];
    if (change.state && change.state !== ticket.state) {
      events.push({
        id: `${base}:status`,
        type: 'ticket:status_changed',
        ticketId: ticket.id,
        data: {
          key: ticket.key,
          from: ticket.state,
          to: change.state,
          actor: null,
          reason: 'the customer replied',
        },
      });
    }
    const r = await this.d.store.append({
      ticketId: ticket.id,
      entry,
      raw,
      change,
      now: new Date(this.d.now()).toISOString(),
      events,
    });
    if (!r) return { kind: 'held', detail: `${ticket.key} was deleted while the message was taken in` };
    if (r.outcome === 'duplicate')
      return { kind: 'duplicate', ticket: r.ticket, detail: `already on ${r.ticket.key} (the same message)` };
    return { kind: 'appended', ticket: r.ticket, detail: `added to ${r.ticket.key} as ${what}` };
  }

  private async open(
    desk: Desk,
    mail: DeskMail,
    raw: Uint8Array,
    automatic: string | null,
    whyNew: string | null,
    acknowledge = true,
  ): Promise<IntakeOutcome> {
    if (automatic && acknowledge) {
      const capped = await this.automaticCap(desk, mail, null);
      if (capped) return this.hold(desk, mail, null, capped);
    }
    const p = mail.parsed;
    const requester = (p.replyTo[0] ?? p.from ?? { Name: '', Address: mail.mailFrom }) as {
      Name: string;
      Address: string;
    };
    const id = newMessageId();
    const entry = entryOf(mail, automatic ? 'automatic' : 'customer', automatic);
    const r = await this.d.store.open({
      id,
      desk: desk.name,
      keyPrefix: desk.prefix,
      firstNumber: desk.firstNumber,
      subject:
        p.subject
          .replace(/[\r\n]+/g, ' ')
          .trim()
          .slice(0, 998) || '(no subject)',
      requester: requester.Address,
      requesterName: requester.Name,
      participants: namedAddresses(this.d.anchors, p),
      tags: [],
      entry,
      references: referencesOf(p),
      raw,
      now: new Date(this.d.now()).toISOString(),
      events: [
        {
          id: `${desk.name}:${mail.id}:created`,
          type: 'ticket:created',
          ticketId: id,
          data: {
            requester: requester.Address,
            subject: p.subject,
            messageId: mail.id,
            ...(automatic ? { automatic } : {}),
            ...(whyNew ? { reason: whyNew } : {}),
          },
        },
      ],
    });
    const ticket = r.ticket;
    if (r.outcome === 'duplicate') {
      // A run cut short after the ticket was opened but before its acknowledgement: send it now.
      if (!automatic && r.entry.kind === 'customer' && ticket.entryCount === 1)
        await this.ack(desk, ticket, mail);
      return { kind: 'duplicate', ticket, detail: `already on ${ticket.key} (the same message)` };
    }
    if (!automatic && acknowledge) await this.ack(desk, ticket, mail);
    const because = whyNew ? `; a new ticket because ${whyNew}` : '';
    return {
      kind: 'opened',
      ticket,
      detail: `opened ${ticket.key}${automatic ? ' (automatic mail)' : ''}${because}`,
    };
  }

  private async ack(desk: Desk, ticket: Ticket, mail: DeskMail): Promise<void> {
    if (!desk.acknowledge) return;
    const since = new Date(this.d.now() - HOUR).toISOString();
    const sent = await this.d.store.countEntries({ to: ticket.requester, kinds: ['acknowledgement'], since });
    if (sent >= desk.acknowledgementsPerHour) return;
    await this.d.acknowledge(desk, ticket, mail);
  }

  /** Why this automatic message is over a cap (then it is held), or null. */
  private async automaticCap(desk: Desk, mail: DeskMail, ticketId: string | null): Promise<string | null> {
    const now = this.d.now();
    const from = senderOf(mail).toLowerCase();
    const bySender = await this.d.store.countEntries({
      from,
      kinds: ['automatic'],
      since: new Date(now - HOUR).toISOString(),
    });
    if (bySender >= desk.automaticPerSenderPerHour)
      return `automatic mail: ${from} sent ${bySender} automatic messages in the last hour (cap ${desk.automaticPerSenderPerHour})`;
    if (ticketId) {
      const byTicket = await this.d.store.countEntries({
        ticketId,
        kinds: ['automatic'],
        since: new Date(now - 24 * HOUR).toISOString(),
      });
      if (byTicket >= desk.automaticPerTicketPerDay)
        return `automatic mail: the ticket got ${byTicket} automatic messages in the last day (cap ${desk.automaticPerTicketPerDay})`;
    }
    return null;
  }

  private async hold(
    desk: Desk,
    mail: DeskMail,
    ticketId: string | null,
    reason: string,
  ): Promise<IntakeOutcome> {
    const from = senderOf(mail);
    await this.d.store.hold(
      {
        messageId: mail.id,
        desk: desk.name,
        ticketId,
        reason,
        from,
        subject: mail.parsed.subject,
        at: new Date(this.d.now()).toISOString(),
      },
      {
        id: `${desk.name}:${mail.id}:held`,
        type: 'ticket:held',
        ticketId,
        data: { messageId: mail.id, from, subject: mail.parsed.subject, reason },
      },
    );
    return { kind: 'held', detail: `held: ${reason}` };
  }
}
