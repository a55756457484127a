// The automatic reply itself (RFC 3834 §3.1), written by nodemailer's MailComposer, which encodes
// what needs encoding: a non-ASCII subject as RFC 2047 encoded-words, a non-ASCII or long-lined
// body as quoted-printable or base64 under text/plain; charset=utf-8. File and URL access are off,
// as in outbound/compose.ts, although only strings reach it here.
import { randomUUID } from 'node:crypto';
import type { MailComposerOptions } from 'nodemailer/lib/mail-composer/index.js';
import { build } from '../../outbound/compose.ts';

/** The placeholder an action's subject may hold for the original's: "Re: {{subject}}". */
export const SUBJECT_PLACEHOLDER = '{{subject}}';
/** How much of the original subject goes into ours: enough to recognise it, never a huge field. */
const MAX_ORIGINAL_SUBJECT = 200;
/** References kept from the original's, newest last (RFC 5322 §3.6.4 lets a responder trim them). */
const MAX_REFERENCES = 20;

export interface ReplyInput {
  from: string;
  to: string;
  /** The action's subject, placeholder not yet filled. */
  subject: string;
  text: string;
  /** The original's subject, decoded. */
  originalSubject: string;
  /** The original's Message-ID without angle brackets, '' when it had none. */
  originalMessageId: string;
  /** The original's References field, as received ('' when absent). */
  originalReferences: string;
  hostname: string;
  now: Date;
}

export interface ComposedReply {
  raw: Buffer;
  /** With angle brackets. */
  messageId: string;
}

/**
 * The action's subject with `{{subject}}` replaced by the original one, line breaks and other
 * controls made spaces so nothing the sender wrote can start a header field of its own. Without
 * the placeholder, the action's subject is used as it is.
 */
export function replySubject(template: string, original: string): string {
  const clean = original
    .replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ')
    .trim()
    .slice(0, MAX_ORIGINAL_SUBJECT);
  return template.split(SUBJECT_PLACEHOLDER).join(clean);
}

/** RFC 5322 §3.6.4: the parent's References (or nothing), then the parent's Message-ID. */
export function replyReferences(original: string, parentId: string): string[] {
  const ids = original.match(/<[^<>\s]+>/g) ?? [];
  return [...ids.slice(-(MAX_REFERENCES - 1)), `<${parentId}>`];
}

export async function composeReply(r: ReplyInput): Promise<ComposedReply> {
  const messageId = `<${randomUUID()}@${r.hostname}>`;
  const threading: Partial<MailComposerOptions> =
    r.originalMessageId === ''
      ? {}
      : {
          inReplyTo: `<${r.originalMessageId}>`,
          references: replyReferences(r.originalReferences, r.originalMessageId),
        };
  const mail: MailComposerOptions = {
    from: { name: '', address: r.from },
    to: { name: '', address: r.to },
    subject: replySubject(r.subject, r.originalSubject),
    // RFC 2046 §4.1.1: CRLF line breaks in text.
    text: r.text.replace(/\r\n|\r|\n/g, '\r\n'),
    ...threading,
    headers: [
      // RFC 3834 §5: what every responder (ours included, rules.ts) checks before answering.
      { key: 'Auto-Submitted', value: 'auto-replied' },
      // Exchange and Outlook do not read Auto-Submitted; this keeps their out-of-office replies
      // from answering ours. No Precedence field: it was never standardised, RFC 3834 makes
      // Auto-Submitted the marker, and "bulk" hurts how some receivers file the reply.
      { key: 'X-Auto-Response-Suppress', value: 'All' },
    ],
    messageId,
    date: r.now,
    disableFileAccess: true,
    disableUrlAccess: true,
    newline: 'win',
  };
  return { raw: await build(mail), messageId };
}
