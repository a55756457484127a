/** The door a message came in by: an SMTP listener, the API, or a polled mailbox. */
export type Listener = 'smtp' | 'submission' | 'smtps' | 'api' | 'imap' | 'pop3';

/** What the SMTP session knew when the message was accepted; stored with the raw bytes. */
export interface Envelope {
  /** MAIL FROM address; '' for the null reverse-path (bounces). */
  mailFrom: string;
  rcptTo: string[];
  clientIp: string;
  clientPort: number;
  /** The name the client gave in HELO/EHLO. */
  helo: string;
  /** Negotiated TLS, or null for a clear-text session. */
  tls: { protocol: string; cipher: string } | null;
  /** The authenticated user name, or null. */
  authUser: string | null;
  listener: Listener;
  /** ISO 8601 with milliseconds, UTC. */
  receivedAt: string;
  /** The SMTP session id, for correlating logs. */
  sessionId: string;
  /**
   * The inbox the message was filed in when accepted (domain/inbox.ts); absent: the default one.
   * Stored with the envelope, and indexed by the adapters as a column generated from it.
   */
  inbox?: string;
}

export interface Address {
  Name: string;
  Address: string;
}

export interface AttachmentMeta {
  /** Stable id of the MIME part inside this message, used by the part endpoint. */
  PartID: string;
  FileName: string;
  ContentType: string;
  ContentID: string;
  Size: number;
  Checksums: { MD5: string; SHA1: string; SHA256: string };
}

/** Everything the parser extracts; the raw bytes stay the source of truth. */
export interface ParsedMessage {
  messageId: string;
  subject: string;
  /** The Date header as ISO 8601, or null when absent or unparseable. */
  date: string | null;
  from: Address | null;
  to: Address[];
  cc: Address[];
  bcc: Address[];
  replyTo: Address[];
  returnPath: string;
  text: string;
  html: string;
  /** Short plain-text preview for lists. */
  snippet: string;
  attachments: AttachmentMeta[];
  inline: AttachmentMeta[];
  listUnsubscribe: { header: string; links: string[]; post: string; errors: string };
  /**
   * Header fields in order as `[lower-case name, value]`, values unfolded but not decoded; capped
   * (see mime/extract.ts). Absent in parses stored before it existed.
   */
  headers?: [string, string][];
}

export type ParseState = 'pending' | 'parsed' | 'failed';

/** The outcome of parsing one message: what it holds, or why it could not be read. */
export type ParseResult =
  | { ok: true; parsed: ParsedMessage }
  /** `retryable`: the failure may not recur (a time budget missed on a busy machine). */
  | { ok: false; error: string; retryable?: boolean };

/** A message as the spool receives it: committed durably before the client hears 250. */
export interface SpoolEntry {
  id: string;
  envelope: Envelope;
  raw: Uint8Array;
}

/** Listing row: summary fields only (no bodies). */
export interface MessageSummary {
  id: string;
  seq: number;
  receivedAt: string;
  size: number;
  read: boolean;
  envelope: Envelope;
  parseState: ParseState;
  parseError: string | null;
  messageId: string;
  subject: string;
  from: Address | null;
  to: Address[];
  cc: Address[];
  bcc: Address[];
  replyTo: Address[];
  snippet: string;
  attachmentCount: number;
  inlineCount: number;
  /** Tag names, sorted case-insensitively. */
  tags: string[];
}

/** A whole stored message: summary plus the parsed body (null until parsed, or when parsing failed). */
export interface StoredMessage extends MessageSummary {
  parsed: ParsedMessage | null;
}
