// RCPT TO stage: the recipient cap. Further recipients get a temporary failure and the ones
// already accepted stay, so the client delivers the rest in a later transaction
// (RFC 5321 §4.5.3.1.10).
import { checkAddress } from '../../outbound/addresses.ts';
import { hasNonAsciiLocalPart } from './mail-from.ts';
import type { SessionFacts, Verdict } from './types.ts';
import { ACCEPT, defer, reject } from './types.ts';

export interface RcptToInput extends SessionFacts {
  address: string;
  /** MAIL FROM of this transaction, '' for the null sender. */
  mailFrom: string;
  smtpUtf8: boolean;
  /** Recipients accepted so far in this transaction. */
  accepted: readonly string[];
  /** The message will be queued for delivery: only plain local@domain recipients go out. */
  outbound: boolean;
}

export type RcptToHook = (input: RcptToInput) => Verdict | Promise<Verdict>;

/** What the routes say about a recipient of the MX door (see Router.envelope). */
export type RecipientCheck = (
  mailFrom: string,
  rcpt: string,
) => Promise<{ kind: 'accept' | 'unknown' } | { kind: 'reject'; code: number; text: string }>;

export function createRcptToHook(
  limits: { maxRecipients: number; localDomains: readonly string[] },
  recipients?: RecipientCheck,
): RcptToHook {
  const local = new Set(limits.localDomains.map((d) => d.toLowerCase()));
  return async (input) => {
    if (!input.smtpUtf8 && hasNonAsciiLocalPart(input.address)) return reject('non-ascii-address');
    // The same checks as the send API: no percent hack, bang path, quoted local part, address
    // literal or internal-looking domain ever reaches the queue (the open-relay tricks).
    if (input.outbound && !checkAddress(input.address).ok) return reject('recipient-not-deliverable');
    // A repeated recipient replaces the earlier entry in the session, so it never counts twice.
    const repeated = input.accepted.some((a) => a.toLowerCase() === input.address.toLowerCase());
    if (!repeated && input.accepted.length >= limits.maxRecipients) return defer('too-many-recipients');
    // MX mode: with local domains set, unauthenticated mail must be for one of them, and for an
    // address some route takes (RFC 5321 §3.6.2: no relay; §3.3: refuse unknown users at RCPT).
    if (local.size > 0 && !input.outbound) {
      const domain = input.address.slice(input.address.lastIndexOf('@') + 1).toLowerCase();
      if (!local.has(domain)) return reject('relay-denied');
      if (recipients) {
        const said = await recipients(input.mailFrom, input.address);
        if (said.kind === 'unknown') return reject('unknown-recipient');
        if (said.kind === 'reject') {
          const refusal = said.code >= 500 ? reject('route-reject') : defer('route-reject');
          return { ...refusal, reply: { code: said.code, text: said.text } };
        }
      }
    }
    return ACCEPT;
  };
}
