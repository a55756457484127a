// MAIL FROM stage. The session has already checked the path syntax and a declared SIZE
// (./commands.ts); this adds the rules about who may send what.
import type { SessionFacts, Verdict } from './types.ts';
import { ACCEPT, reject } from './types.ts';

export interface MailFromInput extends SessionFacts {
  /** '' for the null reverse-path. */
  address: string;
  /** The client gave the SMTPUTF8 parameter (RFC 6531 §3.4). */
  smtpUtf8: boolean;
  /** This listener requires AUTH before a transaction. */
  requireAuth: boolean;
  /** The message will be queued for delivery (an authenticated user, a transport that sends). */
  outbound: boolean;
}

export type MailFromHook = (input: MailFromInput) => Verdict | Promise<Verdict>;

/** True when the local part (before the last @) has a non-ASCII character. */
export function hasNonAsciiLocalPart(address: string): boolean {
  const at = address.lastIndexOf('@');
  return !/^[\x00-\x7f]*$/.test(at === -1 ? address : address.slice(0, at));
}

/** `domain` is `allowed` or below it; '*' allows every domain. */
export function senderAllowed(address: string, allowed: readonly string[]): boolean {
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  return allowed.some((a) => a === '*' || domain === a || domain.endsWith(`.${a}`));
}

/** `senderDomains` gives each user's allowed sender domains (none for an unknown user). */
export function createMailFromHook(
  senderDomains: (user: string) => readonly string[] = () => [],
): MailFromHook {
  return (input) => {
    // A listener that requires AUTH refuses a transaction without it, also when no users are
    // configured (then AUTH is not even offered).
    if (input.requireAuth && !input.authUser) return reject('auth-required');
    // RFC 6531 §3.5: non-ASCII mailbox names only with SMTPUTF8. The domain is not checked:
    // The session has already turned A-labels into U-labels, so raw and encoded look alike.
    if (!input.smtpUtf8 && hasNonAsciiLocalPart(input.address)) return reject('non-ascii-address');
    // Mail that leaves must come from a domain the user was given, never from the null sender:
    // anyone else's domain would be forging it (and with --smtp-auth-accept-any, relaying).
    if (input.outbound && input.authUser) {
      if (input.address === '' || !senderAllowed(input.address, senderDomains(input.authUser))) {
        return reject('sender-not-allowed');
      }
    }
    return ACCEPT;
  };
}
