// The JSON document webhooks and publish actions carry: the envelope, the addresses, the content,
// the headers and the attachments of a received message, with the route that matched it.

import type { Address, StoredMessage } from '../domain/message.ts';
import type { OwnAuthResults } from '../ingest/auth-results-read.ts';
import { stripReply } from '../mime/reply-text.ts';
import type { ActionJob } from '../storage/inbound-ports.ts';

export interface PayloadAttachment {
  PartID: string;
  FileName: string;
  ContentType: string;
  ContentID: string;
  Size: number;
  Inline: boolean;
  /** Base64 of the content, when the action asks for attachments inline. */
  Content?: string;
  /** A signed download URL, when the action asks for URLs: GET it without credentials until it expires. */
  URL?: string;
  /** Why there is no URL although the action asks for URLs (the server lacks the settings). */
  URLError?: string;
}

export interface InboundPayload {
  Event: 'message:routed';
  ID: string;
  ReceivedAt: string;
  Envelope: { From: string; To: string[]; ClientIP: string; Helo: string };
  MessageID: string;
  From: Address | null;
  To: Address[];
  Cc: Address[];
  ReplyTo: Address[];
  Subject: string;
  Date: string | null;
  Text: string;
  HTML: string;
  /** What the sender newly wrote: the text without quoted history and signature. */
  StrippedText: string;
  /** The signature cut from it, or null. */
  StrippedSignature: string | null;
  /** Header fields in order, names in lower case. */
  Headers: [string, string][];
  Attachments: PayloadAttachment[];
  /** Our sender checks, null when the message was not checked (not MX or polled mail). */
  Authentication: { SPF: string; DKIM: string[]; DMARC: string; ARC: string } | null;
  Route: { ID: string; Captures: Record<string, string>; Recipient: string | null };
}

export function buildPayload(
  m: StoredMessage,
  job: ActionJob,
  attachments: PayloadAttachment[],
  auth: OwnAuthResults | null = null,
): InboundPayload {
  const p = m.parsed;
  const reply = stripReply({ text: p?.text ?? '', html: p?.html ?? '', subject: m.subject });
  return {
    Event: 'message:routed',
    ID: m.id,
    ReceivedAt: m.receivedAt,
    Envelope: {
      From: m.envelope.mailFrom,
      To: m.envelope.rcptTo,
      ClientIP: m.envelope.clientIp,
      Helo: m.envelope.helo,
    },
    MessageID: m.messageId,
    From: m.from,
    To: m.to,
    Cc: m.cc,
    ReplyTo: m.replyTo,
    Subject: m.subject,
    Date: p?.date ?? null,
    Text: p?.text ?? '',
    HTML: p?.html ?? '',
    StrippedText: reply.reply,
    StrippedSignature: reply.signature,
    Headers: p?.headers ?? [],
    Attachments: attachments,
    Authentication: auth ? { SPF: auth.spf, DKIM: auth.dkim, DMARC: auth.dmarc, ARC: auth.arc } : null,
    Route: { ID: job.routeId, Captures: job.captures, Recipient: job.recipient },
  };
}

/** Attachment metadata, without content. */
export function attachmentList(m: StoredMessage): PayloadAttachment[] {
  const p = m.parsed;
  if (!p) return [];
  const meta = (inline: boolean) => (a: (typeof p.attachments)[number]) => ({
    PartID: a.PartID,
    FileName: a.FileName,
    ContentType: a.ContentType,
    ContentID: a.ContentID,
    Size: a.Size,
    Inline: inline,
  });
  return [...p.attachments.map(meta(false)), ...p.inline.map(meta(true))];
}
