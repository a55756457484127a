// The one table from a verdict reason to the SMTP reply: basic code (RFC 5321 §4.2), enhanced
// status code (RFC 3463, registry of RFC 5248) and text. Hooks and the session name a reason;
// only this file decides how it sounds on the wire. The session's own protocol replies (syntax
// 500/501/503/555, AUTH exchanges) carry their enhanced codes in session.ts.

export interface Reply {
  code: number;
  enhanced: string;
  text: string;
}

export const REPLIES = {
  // --- connect stage ---
  // 421 = service not available, closing channel (RFC 5321 §3.8); X.7.0 = other security or policy status.
  'too-many-connections-from-ip': {
    code: 421,
    enhanced: '4.7.0',
    text: 'Too many connections from your address, try again later',
  },
  // X.3.2 = system not accepting network messages (RFC 3463 §3.4): a capacity problem, not a policy one.
  'too-many-connections': { code: 421, enhanced: '4.3.2', text: 'Too many connections, try again later' },
  // A client must wait for the greeting before it sends (RFC 5321 §3.1, §4.3.1); one that talks
  // first is a spam engine that does not read replies (Postfix postscreen's pregreet test). 554
  // in place of the 220 = no SMTP service here (RFC 5321 §3.1); X.5.1 = invalid command (RFC 3463
  // §3.6). We close at once instead of waiting for QUIT.
  'early-talker': { code: 554, enhanced: '5.5.1', text: 'Protocol error: you spoke before the greeting' },

  // --- auth stage ---
  // 535 5.7.8 = authentication credentials invalid (RFC 4954 §6).
  'auth-failed': { code: 535, enhanced: '5.7.8', text: 'Authentication credentials invalid' },
  // Closing after repeated failures slows password guessing; 4.7.0 because a later session may succeed.
  'auth-too-many-failures': {
    code: 421,
    enhanced: '4.7.0',
    text: 'Too many failed authentication attempts, closing',
  },
  // 454 4.7.0 = temporary authentication failure (RFC 4954 §6), e.g. the auth hook failed.
  'auth-temporary-failure': {
    code: 454,
    enhanced: '4.7.0',
    text: 'Temporary authentication failure, try again later',
  },
  // 530 5.7.0 = authentication required (RFC 4954 §6).
  'auth-required': { code: 530, enhanced: '5.7.0', text: 'Authentication required' },

  // --- mail-from / rcpt-to stages ---
  // 550 5.7.1 = delivery not authorized (RFC 3463 §3.8): a domain this server is not the MX for,
  // from a client that did not authenticate. No open relay.
  'relay-denied': {
    code: 550,
    enhanced: '5.7.1',
    text: 'Relaying denied: this server does not take mail for that domain',
  },
  // 550 5.1.1 = bad destination mailbox address (RFC 3463 §3.2): no route takes mail for it.
  'unknown-recipient': { code: 550, enhanced: '5.1.1', text: 'No such recipient here' },
  // A route's own reject: its code and text replace these (see Refusal.reply).
  'route-reject': { code: 550, enhanced: '5.7.1', text: 'Message refused' },
  // 553 5.6.7 = non-ASCII address without the SMTPUTF8 parameter (RFC 6531 §3.5, RFC 5248 registry).
  'non-ascii-address': {
    code: 553,
    enhanced: '5.6.7',
    text: 'Non-ASCII address requires the SMTPUTF8 parameter',
  },
  // Outbound submission: 553 = mailbox name not allowed (RFC 5321 §4.2.2); X.7.1 = delivery not
  // authorized (RFC 3463 §3.8): this user may not send as that sender.
  'sender-not-allowed': {
    code: 553,
    enhanced: '5.7.1',
    text: 'You may not send mail from this sender address',
  },
  // X.1.3 = bad destination mailbox address syntax (RFC 3463 §3.2): percent hacks, bang paths,
  // source routes, quoted local parts and address literals are not delivered outbound.
  'recipient-not-deliverable': {
    code: 553,
    enhanced: '5.1.3',
    text: 'This recipient address form is not accepted for outbound delivery',
  },
  // 452 4.5.3 = too many recipients (RFC 5321 §4.5.3.1.10: the client sends the rest in another transaction).
  'too-many-recipients': { code: 452, enhanced: '4.5.3', text: 'Too many recipients for this message' },

  // --- data stage ---
  // 552 5.3.4 = message too big for system (RFC 3463 §3.4, RFC 1870 §6.1).
  'message-too-big': { code: 552, enhanced: '5.3.4', text: 'Message exceeds the maximum message size' },
  // Bare CR or LF is how SMTP smuggling hides a second message (RFC 5321 §2.3.8 forbids both outside
  // CRLF). 554 = transaction failed, the DATA failure reply of RFC 5321 §4.3.2; permanent because
  // resending the same bytes cannot succeed. X.6.0 = the content, not the envelope, is at fault (RFC 3463 §3.7).
  'bare-line-ending': {
    code: 554,
    enhanced: '5.6.0',
    text: 'Message contains a bare CR or LF; every line must end with CRLF (RFC 5321 section 2.3.8)',
  },
  // Text lines over --smtp-max-line-length (RFC 5321 §4.5.3.1.6 sets 1000); same class as above.
  'data-line-too-long': {
    code: 554,
    enhanced: '5.6.0',
    text: 'Message has a line longer than this server accepts',
  },
  queued: { code: 250, enhanced: '2.0.0', text: 'Ok: queued as' },

  // --- session ---
  // 500 covers "command line too long" (RFC 5321 §4.2.2); X.5.2 = syntax error (RFC 3463 §3.6).
  'command-too-long': { code: 500, enhanced: '5.5.2', text: 'Line too long (RFC 5321 section 4.5.3.1.4)' },
  'too-many-bad-commands': { code: 421, enhanced: '4.7.0', text: 'Too many bad commands, closing' },
  // X.4.2 = bad connection (RFC 3463 §3.5): every deadline ends the session the same way.
  'idle-timeout': { code: 421, enhanced: '4.4.2', text: 'Idle timeout, closing' },
  'command-timeout': { code: 421, enhanced: '4.4.2', text: 'Command not completed in time, closing' },
  'data-timeout': { code: 421, enhanced: '4.4.2', text: 'Message data not completed in time, closing' },
  'session-timeout': { code: 421, enhanced: '4.4.2', text: 'Session lasted too long, closing' },
  // X.3.2 = system not accepting network messages: the server is stopping (RFC 3463 §3.4).
  'shutting-down': { code: 421, enhanced: '4.3.2', text: 'Server shutting down, try again later' },
  // 538 5.7.11 = encryption required for requested authentication mechanism (RFC 4954 §6, RFC 5248).
  'tls-required-for-auth': { code: 538, enhanced: '5.7.11', text: 'Issue STARTTLS before AUTH' },

  // --- chaos (testing tools, ./chaos.ts): failures on purpose. The trigger's code replaces these
  // codes and the enhanced code's class follows it (chaosReply). ---
  // X.3.2 = system not accepting network messages (RFC 3463 §3.4): refused before the greeting.
  'chaos-connect': { code: 421, enhanced: '4.3.2', text: 'Simulated failure at connect (chaos testing)' },
  // 535 5.7.8 = authentication credentials invalid (RFC 4954 §6), Mailpit's default here.
  'chaos-auth': { code: 535, enhanced: '5.7.8', text: 'Simulated authentication failure (chaos testing)' },
  // X.3.0 = other or undefined mail system status (RFC 3463 §3.4): nothing wrong with the address or content.
  'chaos-mail-from': { code: 451, enhanced: '4.3.0', text: 'Simulated sender failure (chaos testing)' },
  'chaos-rcpt-to': { code: 451, enhanced: '4.3.0', text: 'Simulated recipient failure (chaos testing)' },
  'chaos-data': {
    code: 451,
    enhanced: '4.3.0',
    text: 'Simulated failure after DATA (chaos testing); the message was not stored',
  },

  // --- local failures: always temporary so the client retries (RFC 5321 §4.2.1) ---
  // 451 4.3.0 = local error in processing; a hook that threw or timed out lands here.
  'hook-failed': { code: 451, enhanced: '4.3.0', text: 'Temporary local problem, try again later' },
  'spool-failed': { code: 451, enhanced: '4.3.0', text: 'Could not store the message, try again later' },
} as const satisfies Record<string, Reply>;

export type ReplyReason = keyof typeof REPLIES;

/** The reply line's text part (enhanced code first), without the basic code. */
export function replyText(reason: ReplyReason, suffix = ''): string {
  const r: Reply = REPLIES[reason];
  return `${r.enhanced} ${r.text}${suffix ? ` ${suffix}` : ''}`;
}

export type ChaosReason = Extract<ReplyReason, `chaos-${string}`>;

/** A chaos failure's reply with the trigger's code: the table's subject and detail, the code's class. */
export function chaosReply(reason: ChaosReason, code: number): Reply {
  const base: Reply = REPLIES[reason];
  if (code === base.code) return base;
  // X.7.8 goes with 535 only (RFC 4954 §6); any other AUTH refusal is X.7.0, as 454 4.7.0 is.
  const detail = reason === 'chaos-auth' ? '7.0' : base.enhanced.slice(2);
  return { code, enhanced: `${Math.floor(code / 100)}.${detail}`, text: base.text };
}
