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
  /** The inbox the message is filed in (--inbox); absent from older servers and Mailpit. */
  Inbox?: string;
}

/** One inbox of GET /api/v1/inboxes. */
export interface InboxInfo {
  Name: string;
  Users: string[];
  Recipients: string[];
  Messages: number;
  Unread: number;
}

export interface InboxList {
  Inboxes: InboxInfo[];
  /** These credentials see only the one inbox listed. */
  Scoped: boolean;
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
  /** Mailroom: the SMTP envelope, with the inbox the message is filed in. */
  Envelope?: Pick<Envelope, 'Inbox'>;
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

/** The door a message came in by (its envelope's listener). */
export type Listener = 'smtp' | 'submission' | 'smtps' | 'api' | 'imap' | 'pop3';

/** Our sender checks of a received message: one result per method, DKIM one per signature. */
export interface SenderAuth {
  SPF: string;
  DKIM: string[];
  DMARC: string;
  ARC: string;
  /** Our Authentication-Results field as stored (RFC 8601), folded onto one line. */
  Header: string;
}

/** One step routing recorded: route:matched|timed-out|skipped, action:succeeded|failed, webhook:disabled. */
export interface RoutingEvent {
  ID: string;
  At: string;
  Type: string;
  RouteID: string | null;
  Data: Record<string, unknown>;
}

/** One action a matched route started (a job with retries). */
export interface ActionJob {
  /** <message ID>:<route ID>:<action index> */
  ID: string;
  MessageID: string;
  RouteID: string;
  Index: number;
  Type: string;
  State: 'pending' | 'running' | 'succeeded' | 'failed';
  Attempts: number;
  NextAttemptAt: string | null;
  ExpiresAt: string;
  LastError: string | null;
  Captures: Record<string, string>;
  CreatedAt: string;
  UpdatedAt: string;
}

/** GET /api/v1/message/{ID}/routing: the sender checks and what routing did with the message. */
export interface MessageRouting {
  Listener: Listener | string;
  /** Null when the sender was not checked. */
  Authentication: SenderAuth | null;
  Events: RoutingEvent[];
  Actions: ActionJob[];
}

/** One route of GET /api/v1/routes (the fields the UI reads). */
export interface InboundRoute {
  ID: string;
  Name: string;
  Priority: number;
  Enabled: boolean;
  Source: 'config' | 'api';
}

/** POST /api/v1/routes/test: a dry run of the routes in force on a message. */
export interface RouteTestResult {
  Outcome: string;
  StoppedBy: string | null;
  Routes: {
    ID: string;
    Name: string;
    Matched: boolean;
    Reason: string;
    TimedOut: boolean;
    Captures: Record<string, string>;
    Recipient: string | null;
    Actions: { Type: string; WouldDo: string }[];
  }[];
}

/** A support desk's ticket (GET /api/v1/tickets). */
export type TicketState = 'open' | 'pending' | 'solved' | 'closed';
export const TICKET_STATES: readonly TicketState[] = ['open', 'pending', 'solved', 'closed'];

export interface Ticket {
  ID: string;
  Key: string;
  Desk: string;
  Number: number;
  Subject: string;
  Requester: Address;
  Participants: string[];
  State: TicketState;
  Assignee: string | null;
  Tags: string[];
  Address: string;
  CreatedAt: string;
  UpdatedAt: string;
  Entries: number;
}

export type EntryKind = 'customer' | 'automatic' | 'bounce' | 'agent' | 'note' | 'acknowledgement';

/** One entry of a ticket's conversation, oldest first. */
export interface TicketEntry {
  ID: string;
  Kind: EntryKind;
  MessageID: string | null;
  OutboundID: string | null;
  HeaderMessageID: string | null;
  From: Address;
  To: string[];
  Cc: string[];
  Subject: string;
  Text: string;
  StrippedText: string;
  HasHTML: boolean;
  Attachments: {
    PartID: string;
    FileName: string;
    ContentType: string;
    Size: number;
    Inline: boolean;
    ContentID: string;
  }[];
  Author: string | null;
  Note: string | null;
  HasSource: boolean;
  At: string;
}

export interface TicketWithEntries extends Ticket {
  Conversation: TicketEntry[];
}

export interface TicketList {
  total: number;
  start: number;
  tickets: Ticket[];
}

/** A configured support desk (GET /api/v1/tickets/desks). */
export interface Desk {
  Name: string;
  Domain: string;
  Intake: string;
  Prefix: string;
  Acknowledge: boolean;
  FromName: string;
}

/** A message a desk held back instead of threading it (GET /api/v1/tickets/held). */
export interface HeldMessage {
  MessageID: string;
  Desk: string;
  TicketID: string | null;
  Reason: string;
  From: string;
  Subject: string;
  At: string;
  Resolution: string | null;
  ResolvedAt: string | null;
}

export interface TicketFilter {
  states: TicketState[];
  /** null: everyone's; '': unassigned; else that agent's. */
  assignee: string | null;
  tag: string;
  query: string;
}

export interface TicketPatch {
  State?: TicketState;
  Assignee?: string | null;
  Tags?: string[];
}

/** GET /api/v1/message/{ID}/extract: the links of a message and its likely one-time codes. */
export interface ExtractResult {
  Links: ExtractedLink[];
  Codes: ExtractedCode[];
  Truncated: boolean;
}

export interface ExtractedLink {
  URL: string;
  Text: string;
  Context: string;
  Kind: 'link' | 'image' | 'stylesheet';
  Scheme: string;
  Sources: ('html' | 'text')[];
  Count: number;
  Target: string | null;
}

export interface ExtractedCode {
  Code: string;
  Kind: 'numeric' | 'alphanumeric';
  Score: number;
  Context: string;
  Sources: ('subject' | 'text' | 'html')[];
  Reasons: string[];
}

/** GET /api/v1/message/{ID}/link-check (Mailpit's shape plus Blocked, Redirects, Location). */
export interface LinkCheckResult {
  Errors: number;
  Links: LinkStatus[];
}

export interface LinkStatus {
  URL: string;
  StatusCode: number;
  Status: string;
  Blocked: boolean;
  Redirects: { URL: string; StatusCode: number }[];
  Location: string | null;
}

/** GET /api/v1/message/{ID}/html-check (Mailpit's shape plus Families, Truncated, DataDate). */
export interface HtmlCheckResult {
  Platforms: Record<string, string[]>;
  Total: { Nodes: number; Tests: number; Supported: number; Partial: number; Unsupported: number };
  Warnings: HtmlCheckWarning[];
  Families: HtmlCheckFamily[];
  Truncated: boolean;
  DataDate: string;
}

export type ClientSupport = 'yes' | 'no' | 'partial' | 'unknown';

export interface HtmlCheckWarning {
  Slug: string;
  Title: string;
  Description: string;
  URL: string;
  Category: string;
  Tags: string[];
  Keywords: string;
  NotesByNumber: Record<string, string>;
  Results: {
    Name: string;
    Family: string;
    Platform: string;
    Version: string;
    Support: ClientSupport;
    NoteNumber: string;
    NoteNumbers: string[];
  }[];
  Score: { Found: number; Supported: number; Partial: number; Unsupported: number };
}

export interface HtmlCheckFamily {
  Family: string;
  Name: string;
  Clients: string[];
  Score: number;
  Supported: number;
  Partial: number;
  Unsupported: number;
  Coverage: number;
  PartialFeatures: number;
  UnsupportedFeatures: number;
}

/** GET /api/v1/message/{ID}/list-unsubscribe (RFC 2369, RFC 8058). */
export interface ListUnsubscribeCheck {
  Present: boolean;
  Header: string;
  Post: string;
  URIs: {
    URI: string;
    Scheme: string;
    Valid: boolean;
    Mailto: { Address: string; Subject: string; Body: string } | null;
  }[];
  OneClick: boolean;
  DKIM: { Signatures: number; CoveringDomains: string[] };
  Errors: string[];
  Warnings: string[];
}
