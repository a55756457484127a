// Every write the PostgreSQL adapter makes. Each op takes a pool or a checked-out client, so the
// spool committer can run several inside one transaction.
import type pg from 'pg';
import type { SpoolEntry } from '../../domain/message.ts';
import type { ParseResult } from '../ports.ts';
import { summaryColumns } from '../rows.ts';

export type Db = pg.Pool | pg.PoolClient;
type Ids = readonly string[] | 'all';

/** Rows per INSERT: five parameters each stays far below the protocol's 65535-parameter limit. */
const ROWS_PER_STATEMENT = 1000;

/**
 * PostgreSQL text (and jsonb) cannot hold U+0000, which SMTP input and decoded MIME parts can
 * contain. Summary and envelope copies get U+FFFD instead; the raw bytes (bytea) and the parsed
 * body (json, which keeps the \u0000 escape) stay exact.
 */
export function pgText(s: string): string {
  return s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s;
}

/** Replaces each escaped NUL in JSON text; an even run of backslashes before it is literal text. */
export function pgJsonText(json: string): string {
  return json.includes('\\u0000') ? json.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd') : json;
}

export function pgJson(value: unknown): string {
  return pgJsonText(JSON.stringify(value));
}

function bytes(raw: Uint8Array): Buffer {
  // A Buffer view without a copy; pg sends Buffers as binary parameters (no hex/escape encoding).
  return Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
}

/**
 * Inserts spool entries with one statement per chunk: a data-modifying CTE writes the messages,
 * and the outer INSERT stores each raw body under the seq the CTE returned. VALUES order sets seq
 * order, so entries of one call keep their order.
 */
export async function insertSpool(db: Db, entries: readonly SpoolEntry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += ROWS_PER_STATEMENT) {
    const chunk = entries.slice(i, i + ROWS_PER_STATEMENT);
    const params: unknown[] = [];
    const tuples = chunk.map((e) => {
      const n = params.push(e.id, e.envelope.receivedAt, e.raw.byteLength, pgJson(e.envelope), bytes(e.raw));
      return `($${n - 4}::text, $${n - 3}::timestamptz, $${n - 2}::bigint, $${n - 1}::jsonb, $${n}::bytea)`;
    });
    await db.query(
      `WITH v (id, received_at, size, envelope, raw) AS (VALUES ${tuples.join(', ')}),
       m AS (INSERT INTO messages (id, received_at, size, envelope)
             SELECT id, received_at, size, envelope FROM v RETURNING seq, id)
       INSERT INTO message_raw (seq, raw) SELECT m.seq, v.raw FROM m JOIN v ON v.id = m.id`,
      params,
    );
  }
}

/** Records a parse outcome in one statement; a message deleted meanwhile is simply not found. */
export async function saveParsed(db: Db, id: string, result: ParseResult): Promise<void> {
  if (!result.ok) {
    await db.query("UPDATE messages SET parse_state = 'failed', parse_error = $2 WHERE id = $1", [
      id,
      pgText(result.error),
    ]);
    return;
  }
  const c = summaryColumns(result.parsed);
  await db.query(
    `WITH m AS (
       UPDATE messages SET parse_state = 'parsed', parse_error = NULL, message_id = $2, subject = $3,
         from_addr = $4::jsonb, to_addrs = $5::jsonb, cc_addrs = $6::jsonb, bcc_addrs = $7::jsonb,
         reply_to = $8::jsonb, snippet = $9, attachment_count = $10
       WHERE id = $1 RETURNING seq)
     INSERT INTO message_body (seq, parsed) SELECT seq, $11::json FROM m
     ON CONFLICT (seq) DO UPDATE SET parsed = EXCLUDED.parsed`,
    [
      id,
      pgText(c.message_id),
      pgText(c.subject),
      c.from_addr === null ? null : pgJsonText(c.from_addr),
      pgJsonText(c.to_addrs),
      pgJsonText(c.cc_addrs),
      pgJsonText(c.bcc_addrs),
      pgJsonText(c.reply_to),
      pgText(c.snippet),
      c.attachment_count,
      JSON.stringify(result.parsed),
    ],
  );
}

/** Counts only rows whose flag actually changed, as the port promises. */
export async function setRead(db: Db, ids: Ids, read: boolean): Promise<number> {
  if (ids === 'all') {
    return (await db.query('UPDATE messages SET read = $1 WHERE read <> $1', [read])).rowCount ?? 0;
  }
  if (ids.length === 0) return 0;
  const res = await db.query('UPDATE messages SET read = $1 WHERE read <> $1 AND id = ANY($2::text[])', [
    read,
    ids,
  ]);
  return res.rowCount ?? 0;
}

/** Raw and parsed bodies go with their message through ON DELETE CASCADE. */
export async function deleteMessages(db: Db, ids: Ids): Promise<number> {
  if (ids === 'all') return (await db.query('DELETE FROM messages')).rowCount ?? 0;
  if (ids.length === 0) return 0;
  return (await db.query('DELETE FROM messages WHERE id = ANY($1::text[])', [ids])).rowCount ?? 0;
}
