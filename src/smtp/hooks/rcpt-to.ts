// RCPT TO stage: the recipient cap. Further recipients get a temporary failure and the ones
// already accepted stay, so the client delivers the rest in a later transaction
// (RFC 5321 §4.5.3.1.10).
import { checkAddress } from '../../outbound/addresses.ts';
import { hasNonAsciiLocalPart } from './mail-from.ts';
import type { SessionFacts, Verdict } from './types.ts';
import { ACCEPT, defer, reject } from './types.ts';

export interface RcptToInput extends SessionFacts {
  address: string;
  smtpUtf8: boolean;
  /** Recipients accepted so far in this transaction. */
  accepted: readonly string[];
  /** The message will be queued for delivery: only plain local@domain recipients go out. */
  outbound: boolean;
}

export type RcptToHook = (input: RcptToInput) => Verdict | Promise<Verdict>;

export function createRcptToHook(limits: { maxRecipients: number }): RcptToHook {
  return (input) => {
    if (!input.smtpUtf8 && hasNonAsciiLocalPart(input.address)) return reject('non-ascii-address');
    // The same checks as the send API: no percent hack, bang path, quoted local part, address
    // literal or internal-looking domain ever reaches the queue (the open-relay tricks).
    if (input.outbound && !checkAddress(input.address).ok) return reject('recipient-not-deliverable');
    // A repeated recipient replaces the earlier entry in smtp-server, so it never counts twice.
    const repeated = input.accepted.some((a) => a.toLowerCase() === input.address.toLowerCase());
    if (!repeated && input.accepted.length >= limits.maxRecipients) return defer('too-many-recipients');
    return ACCEPT;
  };
}
