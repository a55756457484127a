// The JSON shapes of the Mailpit-compatible API v1 (plus Mailroom's Envelope) that the UI reads.
// Fields the server may not send yet are optional, so the UI copes with older servers.

export interface Address {
  Name: string;
  Address: string;
}

/** Mailroom's SMTP envelope: what the session knew, including Bcc recipients (RCPT TO). */
export interface Envelope {
  MailFrom: string;
  RcptTo: string[];
  ClientIP: string;
  ClientPort?: number;
  Helo: string;
  TLS: { Protocol: string; Cipher: string } | null;
  AuthUser: string | null;
  Listener: string;
  ReceivedAt: string;
  SessionID?: string;
}

/** One row of a message list (Mailpit's MessageSummary). */
export interface Summary {
  ID: string;
  MessageID: string;
  Read: boolean;
  From: Address | null;
  To: Address[] | null;
  Cc: Address[] | null;
  Bcc: Address[] | null;
  ReplyTo: Address[] | null;
  Subject: string;
  Created: string;
  Username?: string;
  Tags: string[] | null;
  Size: number;
  Attachments: number;
  Snippet: string;
  /** Mailroom: 'pending' until the message is parsed (it is listed from the moment it is stored). */
  ParseState?: 'pending' | 'parsed' | 'failed';
}

/** GET /api/v1/messages and /api/v1/search. */
export interface ListResponse {
  total: number;
  unread: number;
  count: number;
  messages_count: number;
  messages_unread?: number;
  start: number;
  tags: string[] | null;
  messages: Summary[];
}

export interface Attachment {
  PartID: string;
  FileName: string;
  ContentType: string;
  ContentID: string;
  Size: number;
}

/** GET /api/v1/message/{ID}. */
export interface Message {
  ID: string;
  MessageID: string;
  From: Address | null;
  To: Address[] | null;
  Cc: Address[] | null;
  Bcc: Address[] | null;
  ReplyTo: Address[] | null;
  ReturnPath?: string;
  Subject: string;
  Date: string;
  Tags: string[] | null;
  Text: string;
  HTML: string;
  Size: number;
  Inline: Attachment[] | null;
  Attachments: Attachment[] | null;
  ListUnsubscribe?: { Header: string; Links: string[] | null; Errors: string; HeaderPost: string };
  Envelope?: Envelope;
  ParseState?: 'pending' | 'parsed' | 'failed';
  ParseError?: string | null;
}

/** GET /api/v1/message/{ID}/sa-check. */
export interface SpamResult {
  Error: string;
  IsSpam: boolean;
  Score: number;
  Rules: { Name: string; Score: number; Description: string }[] | null;
}

/** GET /api/v1/webui. */
export interface WebUiConfig {
  Label?: string;
  HideDeleteAllButton?: boolean;
  SpamAssassin?: boolean;
}

/** One message on the /api/events WebSocket. */
export type LiveEvent =
  | { Type: 'new'; Data: Summary }
  | { Type: 'update'; Data: { ID: string; Read?: boolean; Tags?: string[] } }
  | { Type: 'delete'; Data: { ID: string } }
  | { Type: 'truncate'; Data?: unknown }
  | { Type: 'prune'; Data?: unknown }
  | { Type: 'stats'; Data: { Total: number; Unread: number; Version?: string } };

/** GET /api/v1/outbound/{ID}: a message Mailroom queued for delivery, with every step. */
export interface Outbound {
  ID: string;
  Source: 'api' | 'submission' | 'system';
  QueuedAt: string;
  SendAt: string;
  Deliveries: {
    ID: string;
    Domain: string;
    State: string;
    Attempts: number;
    NextAttemptAt: string;
    LastReply: string | null;
    Recipients: { Address: string; State: string; Reply: string | null }[];
  }[];
  Events: {
    ID: string;
    Type: string;
    At: string;
    DeliveryID: string | null;
    Data: Record<string, unknown>;
  }[];
}
