// Reports about our mail that come back as mail: a DSN saying a delivery that was accepted failed
// later (or is delayed), or an ARF complaint from a mailbox provider's feedback loop. Each is matched
// to the message it is about by the Message-ID of the original it carries, and recorded on it as
// events with stable ids (the report's id and its position), so reading a report twice records it
// once. A failed recipient whose status says the address does not exist, and a complainant, go on
// the suppression list.
//
// Trust: a report only acts on a message whose Message-ID it quotes, and only on that message's own
// recipients. Our Message-IDs carry a random id, so only someone who received the mail can name it;
// a report about an unknown message, or about someone who was not a recipient, changes nothing.
import type { ParsedMessage } from '../domain/message.ts';
import type { Logger } from '../observability/logger.ts';
import type { LateEvent, OutboundView, Storage } from '../storage/ports.ts';
import { isHardBounce } from './bounce-notice.ts';
import { announcesReport, parseReport, type Report } from './reports.ts';

export interface ReportIntakeDeps {
  storage: Storage;
  logger: Logger;
  now?: () => number;
}

/** A message just saved with its parse. */
export interface SavedMessage {
  id: string;
  raw: Uint8Array;
  parsed: ParsedMessage;
}

/** What reading one message as a report led to (for tests and logs). */
export type IntakeOutcome =
  | { kind: 'not-a-report' | 'own-message' | 'unreadable' }
  | { kind: 'unmatched'; report: Report['kind']; originalMessageId: string | null }
  | { kind: 'recorded'; report: Report['kind']; outboundId: string; events: number; suppressed: string[] };

/** The report's address, if it is one of the message's recipients (compared without case). */
function recipientOf(view: OutboundView, ...candidates: (string | null)[]): string | null {
  for (const c of candidates) {
    if (!c) continue;
    const found = view.rcptTo.find((r) => r.toLowerCase() === c.toLowerCase());
    if (found) return found;
  }
  return null;
}

function deliveryOf(view: OutboundView, recipient: string | null): string | null {
  if (!recipient) return null;
  const lower = recipient.toLowerCase();
  return view.deliveries.find((d) => d.recipients.some((r) => r.address.toLowerCase() === lower))?.id ?? null;
}

export class ReportIntake {
  private readonly deps: ReportIntakeDeps;

  constructor(deps: ReportIntakeDeps) {
    this.deps = deps;
  }

  /** Reads each saved message that is a report; ordinary mail costs one header look-up. */
  async inspect(saved: readonly SavedMessage[]): Promise<void> {
    for (const m of saved) {
      if (!announcesReport(m.parsed)) continue;
      try {
        const outcome = await this.read(m);
        this.deps.logger.info({ message: m.id, ...outcome }, 'delivery report read');
      } catch (err) {
        this.deps.logger.warn({ message: m.id, err }, 'reading a delivery report failed; kept as a message');
      }
    }
  }

  /** Matches one message's report to the mail it is about and records what it says. */
  async read(m: SavedMessage): Promise<IntakeOutcome> {
    const { storage } = this.deps;
    if (!announcesReport(m.parsed)) return { kind: 'not-a-report' };
    // Our own mail captured in the inbox (a DSN we sent) has its outbound message's id.
    if (await storage.outbound.get(m.id)) return { kind: 'own-message' };
    const report = await parseReport(m.raw);
    if (!report) return { kind: 'unreadable' };
    const outboundId = report.originalMessageId
      ? await storage.outbound.findByHeaderMessageId(report.originalMessageId)
      : null;
    const view = outboundId ? await storage.outbound.get(outboundId) : null;
    if (!view) return { kind: 'unmatched', report: report.kind, originalMessageId: report.originalMessageId };

    const at = new Date((this.deps.now ?? Date.now)()).toISOString();
    const { events, suppress } =
      report.kind === 'dsn' ? this.fromDsn(m.id, report, view, at) : this.fromArf(m.id, report, view, at);
    const added = await storage.outbound.addEvents(view.id, events);
    // Suppress only when the report is new: an operator who took the address off the list is not
    // overruled by the same report read again.
    const suppressed: string[] = [];
    if (added > 0) {
      for (const s of suppress) {
        await storage.outbound.suppress({ ...s, createdAt: at, expiresAt: null });
        suppressed.push(s.address);
      }
    }
    return { kind: 'recorded', report: report.kind, outboundId: view.id, events: added, suppressed };
  }

  private fromDsn(
    reportId: string,
    report: Extract<Report, { kind: 'dsn' }>,
    view: OutboundView,
    at: string,
  ): { events: LateEvent[]; suppress: { address: string; reason: 'hard-bounce'; detail: string }[] } {
    const events: LateEvent[] = [];
    const suppress: { address: string; reason: 'hard-bounce'; detail: string }[] = [];
    for (const [i, r] of report.recipients.entries()) {
      if (r.action !== 'failed' && r.action !== 'delayed') continue;
      // A forwarded address fails under another name: Original-Recipient, then Final-Recipient,
      // then, for a message with one recipient, that one.
      const recipient =
        recipientOf(view, r.originalRecipient, r.recipient) ??
        (view.rcptTo.length === 1 ? view.rcptTo[0]! : null);
      // The reply as a server would have given it, so the bounce rules read it the same way.
      const reply = r.diagnostic ?? (r.status ? `${r.status[0]}00 ${r.status}` : '');
      const hard = r.action === 'failed' && recipient !== null && isHardBounce(reply);
      events.push({
        id: `${reportId}.${i}`,
        type: r.action === 'failed' ? 'delivery:bounced' : 'delivery:delayed',
        at,
        deliveryId: deliveryOf(view, recipient),
        data: {
          via: 'dsn',
          report: reportId,
          recipient: recipient ?? r.recipient,
          matched: recipient !== null,
          status: r.status,
          reply,
          remoteMta: r.remoteMta,
          reportingMta: report.reportingMta,
          suppressed: hard,
        },
      });
      if (hard && recipient)
        suppress.push({ address: recipient, reason: 'hard-bounce', detail: `DSN: ${reply}` });
    }
    return { events, suppress };
  }

  private fromArf(
    reportId: string,
    report: Extract<Report, { kind: 'arf' }>,
    view: OutboundView,
    at: string,
  ): { events: LateEvent[]; suppress: { address: string; reason: 'complaint'; detail: string }[] } {
    // Feedback loops often redact the recipient; with one recipient there is no doubt who it was.
    const named = report.originalRcptTo.flatMap((a) => recipientOf(view, a) ?? []);
    const recipients = named.length > 0 ? named : view.rcptTo.length === 1 ? [view.rcptTo[0]!] : [];
    // "not-spam" takes a complaint back: recorded, but nobody is suppressed for it.
    const complaint = report.feedbackType !== 'not-spam';
    const events: LateEvent[] = [
      {
        id: `${reportId}.0`,
        type: 'message:complained',
        at,
        deliveryId: deliveryOf(view, recipients[0] ?? null),
        data: {
          via: 'arf',
          report: reportId,
          feedbackType: report.feedbackType,
          userAgent: report.userAgent,
          recipients,
          suppressed: complaint && recipients.length > 0,
        },
      },
    ];
    const detail = `ARF ${report.feedbackType} report${report.userAgent ? ` from ${report.userAgent}` : ''}`;
    const suppress = complaint
      ? recipients.map((address) => ({ address, reason: 'complaint' as const, detail }))
      : [];
    return { events, suppress };
  }
}
