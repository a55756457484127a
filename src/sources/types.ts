// The contract between the mail pollers (IMAP, POP3) and whoever stores what they import, plus the
// import keys both sides agree on. A message counts as imported once any of its keys is stored
// durably; the sink refuses a message whose keys it has seen ('duplicate'), which is what makes a
// poller's work idempotent across reconnects, restarts and server-side renumbering.
import { createHash } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from '../observability/logger.ts';

export interface ImportedMessage {
  /** The message exactly as the server handed it over (CRLF line ends). */
  raw: Uint8Array;
  /** Every key that identifies this message: a position key (UID or UIDL) and a content key. */
  keys: string[];
  /** `imap:<account>` or `pop3:<account>`. */
  source: string;
  /** When the server received it (IMAP INTERNALDATE), ISO 8601; absent when the server has no date. */
  receivedAt?: string;
}

export interface ImportSink {
  /** Which of these keys were already imported (durably). */
  importedAmong(keys: readonly string[]): Promise<Set<string>>;
  /**
   * Stores the message durably; 'duplicate' when any of its keys was imported before (nothing
   * stored then). Resolves only after a durable commit.
   */
  accept(message: ImportedMessage): Promise<'stored' | 'duplicate'>;
}

export type AfterImport = 'leave' | 'flag' | 'move' | 'delete';

export interface PollerAccount {
  /** Names the account in keys and logs; keep it stable, or everything is imported again. */
  name: string;
  protocol: 'imap' | 'pop3';
  host: string;
  port: number;
  tls: 'implicit' | 'starttls' | 'none';
  /** Verify the server certificate (name and chain); the CA can come in through PollerDeps.tls. */
  tlsVerify: boolean;
  user: string;
  password: string;
  /** IMAP: the mailbox polled, INBOX by default. */
  mailbox?: string;
  /** What happens on the server once the sink stored a message. POP3 knows only leave | delete. */
  afterImport: AfterImport;
  /** IMAP 'flag': the flag or keyword set, `\Seen` by default. */
  flag?: string;
  /** IMAP 'move': the target mailbox. */
  moveTo?: string;
  /** IMAP IDLE (RFC 2177); on by default when the server offers it. */
  idle?: boolean;
  pollIntervalMs: number;
  maxMessageBytes: number;
}

export interface PollResult {
  /** Messages the sink stored in this pass. */
  imported: number;
  /** Messages recognised as imported before (by any key) and not stored again. */
  duplicates: number;
}

export interface Poller {
  /** Polls in the background until stop(); errors are logged and retried with backoff. */
  start(): void;
  /** Ends the background loop and closes its connection. */
  stop(): Promise<void>;
  /** One pass now, resolved when done (tests, CLI); rejects when the pass fails. */
  pollOnce(): Promise<PollResult>;
}

/** Pauses; resolves early (without throwing) when the signal aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export interface PollerDeps {
  sink: ImportSink;
  logger: Logger;
  /** Extra TLS options (a CA for a private server, a servername), merged over tlsVerify. */
  tls?: ConnectionOptions;
  /** Replaces real timers in tests. */
  sleep?: Sleep;
  /** In [0, 1): the jitter of reconnect delays. */
  random?: () => number;
  /** Reconnect delays; 1 s doubling up to 5 min by default. */
  backoff?: BackoffPolicy;
  /** Deadline for connecting and for each command; 60 s by default. */
  timeoutMs?: number;
}

/** Keeps a key component from spilling into the next one: ':' and '%' are percent-encoded. */
function keyPart(value: string): string {
  return value.replace(/[%:]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function imapUidKey(account: string, mailbox: string, uidValidity: bigint, uid: number): string {
  return `imap:${keyPart(account)}:${keyPart(mailbox)}:${uidValidity}:${uid}`;
}

export function pop3UidlKey(account: string, uidl: string): string {
  return `pop3:${keyPart(account)}:${uidl}`;
}

/** The header section as RFC 3501 §6.4.5 BODY[HEADER] has it: up to and including the empty line. */
export function headerSection(raw: Uint8Array): Uint8Array {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (bytes[0] === 0x0a) return bytes.subarray(0, 1);
  if (bytes[0] === 0x0d && bytes[1] === 0x0a) return bytes.subarray(0, 2);
  const crlf = bytes.indexOf('\r\n\r\n');
  const lf = bytes.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return bytes;
  if (lf < 0 || (crlf >= 0 && crlf < lf)) return bytes.subarray(0, crlf + 4);
  return bytes.subarray(0, lf + 2);
}

/**
 * The content key: a SHA-256 of the header section plus the size of the whole message, scoped to
 * the account. Why not Message-ID + size: the header section holds the Message-ID and also the
 * trace fields each delivery adds (Received, Delivered-To, Return-Path), so a resent message or a
 * sender that reuses Message-IDs is not mistaken for one already imported, messages without a
 * Message-ID need no special case, and the same stored message listed under a new UIDVALIDITY or
 * new UIDLs hashes the same. Why not a hash of all bytes: this one can be computed from a
 * header-only fetch (BODY.PEEK[HEADER] and RFC822.SIZE), so a renumbered mailbox is recognised
 * without downloading every body again. Scoped to the account: one message delivered to two polled
 * mailboxes is two deliveries.
 */
export function contentKey(account: string, header: Uint8Array, size: number): string {
  const digest = createHash('sha256').update(header).digest('hex');
  return `content:${keyPart(account)}:${digest}:${size}`;
}

/** The content key of a complete message. */
export function contentKeyOf(account: string, raw: Uint8Array): string {
  return contentKey(account, headerSection(raw), raw.byteLength);
}

/** The TLS options for an account: verification as configured, then the caller's extras. */
export function tlsOptionsFor(
  account: PollerAccount,
  extra: ConnectionOptions | undefined,
): ConnectionOptions {
  return { rejectUnauthorized: account.tlsVerify, ...extra };
}
