// Maps stored rows to domain objects; shared by both adapters (JSON columns arrive as text in
// SQLite and as parsed values in PostgreSQL, so callers pass them through `json`).
import type { Address, Envelope, MessageSummary, ParsedMessage, ParseState } from '../domain/message.ts';
import type { SearchDocument } from '../search/ast.ts';
import { messageSearchDocument } from '../search/text.ts';

export interface SummaryRow {
  seq: number | string | bigint;
  id: string;
  received_at: string | Date;
  size: number | string | bigint;
  envelope: unknown;
  read: number | boolean;
  parse_state: string;
  parse_error: string | null;
  message_id: string;
  subject: string;
  from_addr: unknown;
  to_addrs: unknown;
  cc_addrs: unknown;
  bcc_addrs: unknown;
  reply_to: unknown;
  snippet: string;
  attachment_count: number | string | bigint;
  inline_count: number | string | bigint;
  tags: unknown;
}

export const SUMMARY_COLUMNS =
  'seq, id, received_at, size, envelope, read, parse_state, parse_error, message_id, subject, from_addr, ' +
  'to_addrs, cc_addrs, bcc_addrs, reply_to, snippet, attachment_count, inline_count, tags';

function json<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

export function toSummary(r: SummaryRow): MessageSummary {
  return {
    id: r.id,
    seq: Number(r.seq),
    receivedAt: r.received_at instanceof Date ? r.received_at.toISOString() : r.received_at,
    size: Number(r.size),
    read: Boolean(r.read),
    envelope: json<Envelope>(r.envelope),
    parseState: r.parse_state as ParseState,
    parseError: r.parse_error,
    messageId: r.message_id,
    subject: r.subject,
    from: r.from_addr == null ? null : json<Address>(r.from_addr),
    to: json<Address[]>(r.to_addrs),
    cc: json<Address[]>(r.cc_addrs),
    bcc: json<Address[]>(r.bcc_addrs),
    replyTo: json<Address[]>(r.reply_to),
    snippet: r.snippet,
    attachmentCount: Number(r.attachment_count),
    inlineCount: Number(r.inline_count),
    tags: json<string[]>(r.tags),
  };
}

export function parsedBody(v: unknown): ParsedMessage {
  return json<ParsedMessage>(v);
}

/** Column values that saveParsed writes from a parse result. */
export function summaryColumns(p: ParsedMessage): SummaryColumns {
  return {
    message_id: p.messageId,
    subject: p.subject,
    from_addr: p.from ? JSON.stringify(p.from) : null,
    to_addrs: JSON.stringify(p.to),
    cc_addrs: JSON.stringify(p.cc),
    bcc_addrs: JSON.stringify(p.bcc),
    reply_to: JSON.stringify(p.replyTo),
    snippet: p.snippet,
    attachment_count: p.attachments.length,
    inline_count: p.inline.length,
  };
}

export interface SummaryColumns {
  message_id: string;
  subject: string;
  from_addr: string | null;
  to_addrs: string;
  cc_addrs: string;
  bcc_addrs: string;
  reply_to: string;
  snippet: string;
  attachment_count: number;
  inline_count: number;
}

/**
 * A parse in the form the store keeps: the parsed message as JSON, its search document and its
 * listing columns. The parse thread makes it, so neither the main thread nor the writer handles
 * the parsed object itself (only flat strings cross threads; docs/adr/0015-ingest-first.md).
 */
export interface StoredParse {
  json: string;
  search: SearchDocument;
  columns: SummaryColumns;
}

export function storedParse(parsed: ParsedMessage): StoredParse {
  return {
    json: JSON.stringify(parsed),
    search: messageSearchDocument(parsed),
    columns: summaryColumns(parsed),
  };
}

/** The stored form of a successful parse, made here when the caller passed the parsed message. */
export function storedOf(
  result: { ok: true; parsed: ParsedMessage } | { ok: true; stored: StoredParse },
): StoredParse {
  return 'stored' in result ? result.stored : storedParse(result.parsed);
}
