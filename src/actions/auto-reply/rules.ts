// When an automatic reply must not be sent (RFC 3834 §2 and common practice): never to a null
// sender or a mailer daemon, never to automatic, bulk or list mail, so two responders cannot
// answer each other forever.
import type { RoutingMessage } from '../../routing/conditions.ts';

const DAEMON =
  /^(mailer-daemon|postmaster|listserv|majordomo|noreply|no-reply|do-not-reply|donotreply)([+-].*)?@/i;

function header(m: RoutingMessage, name: string): string[] {
  return m.headers.filter(([n]) => n === name).map(([, v]) => v.trim());
}

/**
 * A plain local@domain to write into To (no quotes, spaces, brackets or controls): anything else
 * in a return path is too odd to answer, and MailComposer would reinterpret it.
 */
const PLAIN_ADDRESS = /^[^\s"<>()[\],;:\\@\x00-\x1f\x7f]+@[^\s"<>()[\],;:\\@\x00-\x1f\x7f]+$/u;

export function isPlainAddress(address: string): boolean {
  return PLAIN_ADDRESS.test(address);
}

/** Why no automatic reply may go to this message's sender, or null when one may. */
export function autoReplyRefusal(m: RoutingMessage): string | null {
  if (m.mailFrom === '') return 'the message has a null return path (a bounce or other automatic mail)';
  if (DAEMON.test(m.mailFrom)) return `the sender ${m.mailFrom} is a mailer daemon or does not take replies`;
  const auto = header(m, 'auto-submitted').find((v) => v.toLowerCase().split(';')[0]!.trim() !== 'no');
  if (auto !== undefined) return `it is automatic mail (Auto-Submitted: ${auto}, RFC 3834 §5)`;
  const precedence = header(m, 'precedence').find((v) => /^(bulk|junk|list)$/i.test(v));
  if (precedence !== undefined) return `it is bulk or list mail (Precedence: ${precedence})`;
  for (const name of ['list-id', 'list-unsubscribe', 'list-post']) {
    if (header(m, name).length > 0) return `it came through a mailing list (${name} present)`;
  }
  if (header(m, 'x-autoreply').length > 0 || header(m, 'x-autorespond').length > 0)
    return 'it is itself an automatic reply (X-Autoreply)';
  const suppress = header(m, 'x-auto-response-suppress').find((v) => /\b(all|oof|autoreply)\b/i.test(v));
  if (suppress !== undefined)
    return `the sender asked for no automatic replies (X-Auto-Response-Suppress: ${suppress})`;
  return null;
}
