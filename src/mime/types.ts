// What the rest of Mailroom asks of the MIME layer. The implementation parses in worker threads
// with time and memory budgets (parse-pool.ts); callers only see this interface.
import type { ParsedMessage } from '../domain/message.ts';

export interface PartContent {
  contentType: string;
  /** As declared by the message; never used as a path on disk. */
  filename: string;
  content: Uint8Array;
}

export interface MimeParser {
  /**
   * Parses raw bytes; rejects with an Error whose message explains the failure (bad MIME, timeout, memory).
   * The parser takes `raw`: a Uint8Array that owns its whole buffer is moved to a worker thread and
   * is empty afterwards, so pass a copy if you still need the bytes.
   */
  parse(raw: Uint8Array): Promise<ParsedMessage>;
  /** The decoded content of one part, by the PartID that parse() reported; null when there is none. */
  extractPart(raw: Uint8Array, partId: string): Promise<PartContent | null>;
  close(): Promise<void>;
}
