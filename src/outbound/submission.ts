// Mail from authenticated SMTP users, queued for delivery. As a message submission agent may
// (RFC 6409 §8.1, §8.3), a missing Date or Message-ID is added; nothing else in the message is
// touched. The user's right to the sender was checked at MAIL FROM.
import { randomUUID } from 'node:crypto';
import { newMessageId } from '../domain/ids.ts';
import type { Envelope } from '../domain/message.ts';
import type { OutboundStore } from '../storage/ports.ts';

export interface SubmissionDeps {
  queue: OutboundStore;
  hostname: string;
  lifetimeMs: number;
  now: () => number;
  sign?: (raw: Buffer, from: string) => Promise<Buffer>;
  onQueued: (id: string) => void;
}

/** The header section: up to and including the CRLF before the first empty line. */
function headerEnd(text: string): number {
  const end = text.indexOf('\r\n\r\n');
  return end < 0 ? text.length : end + 2;
}

/** The message with Date and Message-ID added when missing, and its Message-ID. */
export function withSubmissionHeaders(
  raw: Uint8Array,
  hostname: string,
  now: Date,
): { raw: Buffer; messageId: string } {
  const text = Buffer.from(raw).toString('latin1');
  const headers = text.slice(0, headerEnd(text));
  const found = /^message-id:[ \t]*(<[^>\r\n]*>)/im.exec(headers)?.[1];
  const added: string[] = [];
  if (!/^date:/im.test(headers)) added.push(`Date: ${now.toUTCString().replace('GMT', '+0000')}`);
  const messageId = found ?? `<${randomUUID()}@${hostname}>`;
  if (!found) added.push(`Message-ID: ${messageId}`);
  const prefix = added.length ? `${added.join('\r\n')}\r\n` : '';
  return { raw: Buffer.concat([Buffer.from(prefix, 'latin1'), Buffer.from(raw)]), messageId };
}

export async function queueSubmission(
  deps: SubmissionDeps,
  envelope: Envelope,
  raw: Uint8Array,
): Promise<string> {
  const now = deps.now();
  const prepared = withSubmissionHeaders(raw, deps.hostname, new Date(now));
  const bytes = deps.sign ? await deps.sign(prepared.raw, envelope.mailFrom) : prepared.raw;
  const id = newMessageId();
  const at = new Date(now).toISOString();
  await deps.queue.enqueue({
    id,
    mailFrom: envelope.mailFrom,
    rcptTo: envelope.rcptTo,
    raw: bytes,
    headerMessageId: prepared.messageId,
    source: 'submission',
    client: { ip: envelope.clientIp, authUser: envelope.authUser },
    tags: [],
    metadata: {},
    queuedAt: at,
    sendAt: at,
    expiresAt: new Date(now + deps.lifetimeMs).toISOString(),
  });
  deps.onQueued(id);
  return id;
}
