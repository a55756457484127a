// The parsed form of a Mailpit-syntax search ("from:ann subject:\"order 42\" -is:read ..."). Pure
// types: `query.ts` builds them from text, each storage adapter compiles them to SQL, and
// `match.ts` evaluates them against one message in memory (tag rules), with the same meaning.

/** Address and text fields searched by substring (Mailpit's `field:value`). */
export type SearchField = 'from' | 'to' | 'cc' | 'bcc' | 'reply-to' | 'addressed' | 'subject' | 'message-id';

export type SearchTerm =
  /**
   * Words looked up in the full-text index. `words` are normalised tokens (see text.ts); each
   * matches a word of the message that starts with it, unless `phrase`, where the words must
   * appear in this order, next to each other, as whole words.
   */
  | { kind: 'text'; words: string[]; phrase: boolean }
  /** Case-insensitive substring of a field; `value` is already normalised (text.ts `normalize`). */
  | { kind: 'field'; field: SearchField; value: string }
  /**
   * `header:Name:value`: some header called `name` (lower case) whose normalised value contains
   * `value`; an empty `value` means the header is present.
   */
  | { kind: 'header'; name: string; value: string }
  /** A tag, compared case-insensitively. */
  | { kind: 'tag'; name: string }
  /** The inbox the message was filed in (domain/inbox.ts), by its exact lower-case name. */
  | { kind: 'inbox'; name: string }
  | { kind: 'is'; state: 'read' | 'unread' | 'tagged' }
  | { kind: 'has'; what: 'attachment' | 'inline' }
  /** Received time (epoch ms): `after` means at or after `at`, `before` at or before. */
  | { kind: 'date'; op: 'before' | 'after'; at: number }
  /** Raw size in bytes: `larger` is strictly greater than `bytes`, `smaller` strictly less. */
  | { kind: 'size'; op: 'larger' | 'smaller'; bytes: number };

export interface SearchClause {
  /** `-term` or `!term`: the message must not match. */
  negate: boolean;
  term: SearchTerm;
}

/** Every clause must hold (AND). No clauses matches every message. */
export interface SearchQuery {
  clauses: SearchClause[];
}

/**
 * What the search looks at in one message, already normalised where the field says so. Built by
 * `text.ts` (`searchDocument`) from a parsed message; stored as columns by the adapters and read by
 * `match.ts` for tag rules.
 */
export interface SearchDocument {
  /** Normalised "name <address>" strings per address field, joined with newlines. */
  from: string;
  to: string;
  cc: string;
  bcc: string;
  replyTo: string;
  subject: string;
  messageId: string;
  /** Normalised header lines, `name: value`, names in lower case, one per line. */
  headers: string;
  /** Space-separated normalised tokens for the full-text index (subject, addresses, text, file names). */
  words: string;
}

/** `query` limited to one inbox: the inbox clause first, so every evaluator can use it to narrow. */
export function withinInbox(query: SearchQuery | undefined, inbox: string): SearchQuery {
  return { clauses: [{ negate: false, term: { kind: 'inbox', name: inbox } }, ...(query?.clauses ?? [])] };
}
