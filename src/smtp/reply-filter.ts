// smtp-server replies that we re-word through the table: its own wording either picks a generic
// enhanced code from the basic code (421 → 4.4.2 for a line that is too long) or closes the
// session with a 421 where RFC 5321 §4.2.2 names 500 ("command line too long").
import type { ReplyReason } from './replies.ts';

const BUILTIN: { code: number; match: RegExp; reason: ReplyReason }[] = [
  // The parser refuses lines over maxCommandLength (we set it to the AUTH limit) and stops.
  { code: 421, match: /command line too long/i, reason: 'command-too-long' },
  { code: 421, match: /^Timeout/, reason: 'idle-timeout' },
  { code: 421, match: /too many unrecognized commands/i, reason: 'too-many-bad-commands' },
  { code: 538, match: /STARTTLS/, reason: 'tls-required-for-auth' },
  // A command line parsed before the greeting (the session refuses the client; see session.ts).
  { code: 421, match: /You talk too soon/, reason: 'early-talker' },
];

/** The table reason replacing smtp-server's own reply, or null to send it as it is. */
export function rewriteBuiltinReply(code: number, data: unknown): ReplyReason | null {
  if (typeof data !== 'string') return null;
  return BUILTIN.find((b) => b.code === code && b.match.test(data))?.reason ?? null;
}
