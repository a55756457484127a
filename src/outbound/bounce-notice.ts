// What follows a delivery that failed for good: a DSN to the sender (RFC 3464), queued like any
// other message, and hard bounces put on the suppression list so the next send does not try them.
import { newMessageId } from '../domain/ids.ts';
import type { ClaimedDelivery, OutboundStore } from '../storage/ports.ts';
import { classifyReply, replyCode } from './bounce-rules.ts';
import { composeDsn, shouldSendDsn } from './dsn.ts';
import type { RecipientResult } from './transport.ts';

export interface FailedDelivery {
  claimed: ClaimedDelivery;
  /** The message as queued (its header section goes into the DSN), or null if it is gone. */
  raw: Uint8Array | null;
  /** The recipients that were tried and failed: bounced, or still deferred when it expired. */
  failed: RecipientResult[];
  state: 'bounced' | 'expired';
  now: number;
}

/** A reply that says the address itself does not exist (not a full mailbox, not a policy). */
export function isHardBounce(reply: string): boolean {
  const c = classifyReply(reply);
  return c.action === 'bounce' && (c.category === 'mailbox-unknown' || c.category === 'domain-unknown');
}

function headerSection(raw: Uint8Array | null): string {
  if (!raw) return '';
  const text = Buffer.from(raw).toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  return end < 0 ? text : text.slice(0, end + 2);
}

/** RFC 3463 status for the DSN: the reply's own enhanced code, else one that says what happened. */
function statusOf(r: RecipientResult, state: FailedDelivery['state']): string {
  if (state === 'expired') return '4.4.7';
  const { code, enhanced } = replyCode(r.reply);
  return enhanced ?? (code !== null && code >= 500 ? '5.0.0' : '4.0.0');
}

export interface BounceNoticeDeps {
  queue: OutboundStore;
  /** Our host name: Reporting-MTA and the DSN's Message-ID. */
  hostname: string;
  lifetimeMs: number;
  onQueued: (id: string) => void;
}

/** Queues the DSN for a failed delivery; returns its id, or null when none is due (null sender). */
export async function queueBounceNotice(deps: BounceNoticeDeps, f: FailedDelivery): Promise<string | null> {
  if (f.failed.length === 0 || !shouldSendDsn(f.claimed.mailFrom)) return null;
  const now = new Date(f.now);
  const dsn = composeDsn({
    reportingMta: deps.hostname,
    originalMailFrom: f.claimed.mailFrom,
    arrivalDate: new Date(f.claimed.queuedAt),
    now,
    recipients: f.failed.map((r) => ({
      address: r.address,
      action: 'failed',
      status: statusOf(r, f.state),
      diagnostic: r.reply,
      lastAttempt: now,
    })),
    originalHeaders: headerSection(f.raw),
    messageIdHost: deps.hostname,
  });
  const id = newMessageId();
  const at = now.toISOString();
  await deps.queue.enqueue({
    id,
    mailFrom: dsn.mailFrom,
    rcptTo: dsn.rcptTo,
    raw: dsn.raw,
    headerMessageId: dsn.messageId,
    source: 'system',
    client: { ip: '', authUser: null },
    tags: [],
    metadata: { dsnFor: f.claimed.delivery.outboundId },
    queuedAt: at,
    sendAt: at,
    expiresAt: new Date(f.now + deps.lifetimeMs).toISOString(),
  });
  deps.onQueued(id);
  return id;
}
