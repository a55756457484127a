// Maps domain objects to Mailpit's API v1 JSON shapes (PascalCase field names, as Mailpit's Go
// structs serialise). Mailroom adds `Envelope`, `ParseState` and `ParseError`, which Mailpit
// clients ignore.

import { inboxOf } from '../../../domain/inbox.ts';
import type { Address, Envelope, MessageSummary, ParseState } from '../../../domain/message.ts';
import type { ListResult } from '../../../storage/ports.ts';

export interface EnvelopeJson {
  MailFrom: string;
  RcptTo: string[];
  ClientIP: string;
  ClientPort: number;
  Helo: string;
  TLS: { Protocol: string; Cipher: string } | null;
  AuthUser: string | null;
  Listener: string;
  ReceivedAt: string;
  SessionID: string;
  /** The inbox the message is filed in (domain/inbox.ts). */
  Inbox: string;
}

export function presentEnvelope(e: Envelope): EnvelopeJson {
  return {
    MailFrom: e.mailFrom,
    RcptTo: [...e.rcptTo],
    ClientIP: e.clientIp,
    ClientPort: e.clientPort,
    Helo: e.helo,
    TLS: e.tls ? { Protocol: e.tls.protocol, Cipher: e.tls.cipher } : null,
    AuthUser: e.authUser,
    Listener: e.listener,
    ReceivedAt: e.receivedAt,
    SessionID: e.sessionId,
    Inbox: inboxOf(e),
  };
}

export interface MessageSummaryJson {
  ID: string;
  MessageID: string;
  Read: boolean;
  From: Address | null;
  To: Address[];
  Cc: Address[];
  Bcc: Address[];
  ReplyTo: Address[];
  Subject: string;
  Created: string;
  Username: string;
  Tags: string[];
  Size: number;
  Attachments: number;
  Snippet: string;
  Envelope: EnvelopeJson;
  ParseState: ParseState;
  ParseError: string | null;
}

/** Mailpit's MessageSummary. A message not (yet) parsed lists with the empty values storage holds. */
export function presentSummary(m: MessageSummary): MessageSummaryJson {
  return {
    ID: m.id,
    MessageID: m.messageId,
    Read: m.read,
    From: m.from,
    To: m.to,
    Cc: m.cc,
    Bcc: m.bcc,
    ReplyTo: m.replyTo,
    Subject: m.subject,
    Created: m.receivedAt,
    // Mailpit's Username is the SMTP AUTH user; '' when the session did not authenticate.
    Username: m.envelope.authUser ?? '',
    Tags: m.tags,
    Size: m.size,
    Attachments: m.attachmentCount,
    Snippet: m.snippet,
    Envelope: presentEnvelope(m.envelope),
    ParseState: m.parseState,
    ParseError: m.parseError,
  };
}

/** Mailpit's MessagesSummary. Without search, the "matching" counts equal the mailbox totals. */
export function presentList(result: ListResult, start: number, tags: string[]) {
  return {
    total: result.total,
    unread: result.unread,
    // Mailpit keeps `count` (messages in this page) for older clients.
    count: result.messages.length,
    messages_count: result.matched,
    messages_unread: result.matchedUnread,
    start,
    tags,
    messages: result.messages.map(presentSummary),
  };
}
