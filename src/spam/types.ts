// Shared shapes for spam scoring. `SpamResult` is the body of Mailpit's
// `GET /api/v1/message/{ID}/sa-check` (its SpamAssassinResponse: IsSpam, Error, Score, Rules with
// Score, Name, Description, keys in that order) plus Mailroom's `Engine`, so Mailpit clients keep
// working whichever daemon scored the message.
//
// Error contract: a checker never reports a failure inside a result; `check()` rejects with a
// `SpamCheckError`. The HTTP layer turns that into Mailpit's answer for a failed check (status 200
// with `Error` set) through `spamErrorResult()`.

/** The daemon that produced a result. */
export type SpamEngine = 'spamassassin' | 'rspamd';

/** One rule (SpamAssassin) or symbol (Rspamd) that matched. */
export interface SpamRule {
  /** Points this rule added; negative for rules that point to ham. */
  Score: number;
  /** Rule or symbol name, e.g. `GTUBE`, `MISSING_DATE`. */
  Name: string;
  /** Human description; empty when the daemon has none. */
  Description: string;
}

/** Mailpit's sa-check body plus the engine that scored the message. */
export interface SpamResult {
  /** The daemon's verdict (see each checker for how it is decided). */
  IsSpam: boolean;
  /** Empty on success; the failure's message in results built by `spamErrorResult()`. */
  Error: string;
  /** Total score of the message. */
  Score: number;
  /** Rules that matched; empty when none did or when the check failed. */
  Rules: SpamRule[];
  Engine: SpamEngine;
}

/**
 * What the SMTP session knew about a message. Rspamd takes these as request headers; spamd has
 * no way to receive them and reads the message's own Received headers instead.
 */
export interface SpamContext {
  /** Connecting client's address (IPv4 or IPv6). */
  clientIp?: string;
  /** Name the client gave in HELO/EHLO. */
  helo?: string;
  /** Envelope sender (MAIL FROM); '' is the null reverse-path `<>`. */
  mailFrom?: string;
  /** Envelope recipients (RCPT TO). */
  rcptTo?: string[];
  /** SMTP AUTH user; null or absent when the client did not authenticate. */
  authUser?: string | null;
}

/** Scores raw messages with one spam daemon. */
export interface SpamChecker {
  readonly engine: SpamEngine;
  /**
   * Scores one message (the raw RFC 5322 bytes as received). Rejects with a `SpamCheckError`
   * when the daemon cannot be reached, does not answer before the deadline, answers something
   * that is not its protocol, or when `signal` aborts.
   */
  check(raw: Uint8Array, context: SpamContext, signal?: AbortSignal): Promise<SpamResult>;
}

/**
 * Why a check failed: `unavailable` (cannot connect), `timeout` (no full answer before the
 * deadline), `protocol` (an answer that is not what the daemon's protocol allows, or an error
 * status from the daemon), `aborted` (the caller's signal fired).
 */
export type SpamErrorKind = 'unavailable' | 'timeout' | 'protocol' | 'aborted';

/** A failed check. `message` is meant for users: it names the daemon and what went wrong. */
export class SpamCheckError extends Error {
  readonly engine: SpamEngine;
  readonly kind: SpamErrorKind;

  constructor(engine: SpamEngine, kind: SpamErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpamCheckError';
    this.engine = engine;
    this.kind = kind;
  }
}

/**
 * The sa-check body for a failed check, as Mailpit answers it: not spam, score 0, no rules and
 * the reason in `Error`. (Mailpit sends `"Rules": null` here; an empty list is kept so clients
 * can always iterate.)
 */
export function spamErrorResult(engine: SpamEngine, err: unknown): SpamResult {
  const message = err instanceof Error ? err.message : String(err);
  return { IsSpam: false, Error: message || 'spam check failed', Score: 0, Rules: [], Engine: engine };
}
