// What the rest of Mailroom asks of the MIME layer. The implementation parses in worker threads
// with time and memory budgets (parse-pool.ts); callers only see this interface.
import type { ParsedMessage } from '../domain/message.ts';
import type { StoredParse } from '../storage/rows.ts';

export interface PartContent {
  contentType: string;
  /** As declared by the message; never used as a path on disk. */
  filename: string;
  content: Uint8Array;
}

/** What the tagger reads of a parsed message besides its search document and listing columns. */
export interface TagFacts {
  /** X-Tags header values, as written. */
  xTags: string[];
  /** Addresses of To, Cc and Bcc. */
  addresses: string[];
}

/**
 * One message of a batch parse, in the form the store keeps (so only flat strings cross threads),
 * with what the tagger needs. `report`: the parsed message itself, only when it announces a
 * delivery or feedback report (the report intake reads those).
 */
export type BatchParse =
  | { ok: true; stored: StoredParse; facts: TagFacts; report?: ParsedMessage }
  | { ok: false; error: string; retryable?: boolean };

export interface MimeParser {
  /**
   * Parses raw bytes; rejects with an Error whose message explains the failure (bad MIME, timeout, memory).
   * The parser takes `raw`: a Uint8Array that owns its whole buffer is moved to a worker thread and
   * is empty afterwards, so pass a copy if you still need the bytes.
   */
  parse(raw: Uint8Array): Promise<ParsedMessage>;
  /**
   * Parses several messages in one round trip to a worker; each gets its own result, in order.
   * Unlike parse(), the caller keeps its buffers. Rejects only when the parser cannot take work
   * (closed, overloaded): then nothing was parsed and the messages should be tried again later.
   */
  parseBatch(raws: readonly Uint8Array[]): Promise<BatchParse[]>;
  /** The decoded content of one part, by the PartID that parse() reported; null when there is none. */
  extractPart(raw: Uint8Array, partId: string): Promise<PartContent | null>;
  close(): Promise<void>;
}

/** The parser cannot take work right now (closed, queue full, workers failing to start). */
export class ParserUnavailableError extends Error {
  override name = 'ParserUnavailableError';
}

/** A parse ran past its time budget: on a loaded machine the same message may well pass later. */
export class ParseTimeoutError extends Error {
  override name = 'ParseTimeoutError';
}
