// Every write the PostgreSQL adapter makes. Each op takes a pool or a checked-out client, so the
// spool committer can run several inside one transaction.
import type pg from 'pg';
import type { SpoolEntry } from '../../domain/message.ts';
import { cleanTag } from '../../domain/tags.ts';
import { asBuffer } from '../../runtime/thread-bytes.ts';
import { normalize } from '../../search/text.ts';
import type { ParsedRecord, RetentionLimits, Selection } from '../ports.ts';
import { storedOf } from '../rows.ts';
import { cleanTags } from '../search-columns.ts';
import { compileSearch } from './search-sql.ts';

export type Db = pg.Pool | pg.PoolClient;

/** Rows deleted per prune step, so no transaction holds locks for long. */
export const PRUNE_BATCH = 2000;

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
      const n = params.push(
        e.id,
        e.envelope.receivedAt,
        e.raw.byteLength,
        pgJson(e.envelope),
        asBuffer(e.raw),
      );
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

/** Ids of tags with these names' normal forms, created with these spellings when new. */
async function tagIds(db: Db, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const norms = names.map(normalize);
  await db.query(
    `INSERT INTO tags (name, norm) SELECT * FROM unnest($1::text[], $2::text[])
     ON CONFLICT (norm) DO NOTHING`,
    [names.map(pgText), norms.map(pgText)],
  );
  const { rows } = await db.query<{ id: string }>('SELECT id FROM tags WHERE norm = ANY($1::text[])', [
    norms.map(pgText),
  ]);
  return rows.map((r) => r.id);
}

/** Rewrites the denormalised tag list of these messages from message_tags. */
async function refreshTags(db: Db, seqs: readonly (string | number)[]): Promise<void> {
  if (seqs.length === 0) return;
  await db.query(
    `UPDATE messages m SET tags = coalesce((
       SELECT jsonb_agg(t.name ORDER BY t.norm COLLATE "C", t.name COLLATE "C")
       FROM message_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.seq = m.seq), '[]'::jsonb)
     WHERE m.seq = ANY($1::bigint[])`,
    [seqs],
  );
}

async function pruneUnusedTags(db: Db): Promise<void> {
  await db.query(
    'DELETE FROM tags t WHERE NOT EXISTS (SELECT 1 FROM message_tags mt WHERE mt.tag_id = t.id)',
  );
}

async function addTags(db: Db, seq: string, names: readonly string[]): Promise<void> {
  const ids = await tagIds(db, cleanTags(names));
  if (ids.length === 0) return;
  await db.query(
    `INSERT INTO message_tags (seq, tag_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`,
    [seq, ids],
  );
  await refreshTags(db, [seq]);
}

/** Records a parse outcome; a message deleted meanwhile is simply not found. */
export async function saveParsed(db: Db, record: ParsedRecord): Promise<void> {
  const { id, result } = record;
  if (!result.ok) {
    const { rows } = await db.query<{ seq: string }>(
      "UPDATE messages SET parse_state = 'failed', parse_error = $2 WHERE id = $1 RETURNING seq",
      [id, pgText(result.error)],
    );
    if (rows[0] && record.tags?.length) await addTags(db, rows[0].seq, record.tags);
    return;
  }
  const { json, search: d, columns: c } = storedOf(result);
  const { rows } = await db.query<{ seq: string }>(
    `WITH m AS (
       UPDATE messages SET parse_state = 'parsed', parse_error = NULL, message_id = $2, subject = $3,
         from_addr = $4::jsonb, to_addrs = $5::jsonb, cc_addrs = $6::jsonb, bcc_addrs = $7::jsonb,
         reply_to = $8::jsonb, snippet = $9, attachment_count = $10, inline_count = $11
       WHERE id = $1 RETURNING seq),
     b AS (
       INSERT INTO message_body (seq, parsed) SELECT seq, $12::json FROM m
       ON CONFLICT (seq) DO UPDATE SET parsed = EXCLUDED.parsed),
     s AS (
       INSERT INTO message_search (seq, s_from, s_to, s_cc, s_bcc, s_reply_to, s_subject, s_message_id, s_headers)
       SELECT seq, $13, $14, $15, $16, $17, $18, $19, $20 FROM m
       ON CONFLICT (seq) DO UPDATE SET s_from = EXCLUDED.s_from, s_to = EXCLUDED.s_to, s_cc = EXCLUDED.s_cc,
         s_bcc = EXCLUDED.s_bcc, s_reply_to = EXCLUDED.s_reply_to, s_subject = EXCLUDED.s_subject,
         s_message_id = EXCLUDED.s_message_id, s_headers = EXCLUDED.s_headers)
     INSERT INTO message_words (seq, words) SELECT seq, to_tsvector('simple', $21) FROM m
     ON CONFLICT (seq) DO UPDATE SET words = EXCLUDED.words
     RETURNING seq`,
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
      c.inline_count,
      json,
      pgText(d.from),
      pgText(d.to),
      pgText(d.cc),
      pgText(d.bcc),
      pgText(d.replyTo),
      pgText(d.subject),
      pgText(d.messageId),
      pgText(d.headers),
      pgText(d.words),
    ],
  );
  if (rows[0] && record.tags?.length) await addTags(db, rows[0].seq, record.tags);
}

/** The seq and id of every selected message satisfying `extra` (SQL over `m`). */
export async function selectedRows(
  db: Db,
  selection: Selection,
  extra = 'true',
): Promise<{ seq: string; id: string }[]> {
  if (selection === 'all') {
    return (await db.query<{ seq: string; id: string }>(`SELECT seq, id FROM messages m WHERE ${extra}`))
      .rows;
  }
  if (Array.isArray(selection)) {
    if (selection.length === 0) return [];
    const { rows } = await db.query<{ seq: string; id: string }>(
      `SELECT seq, id FROM messages m WHERE id = ANY($1::text[]) AND ${extra}`,
      [selection],
    );
    return rows;
  }
  const q = compileSearch((selection as Exclude<Selection, 'all' | readonly string[]>).query);
  const { rows } = await db.query<{ seq: string; id: string }>(
    `SELECT m.seq, m.id FROM messages m WHERE ${q.where} AND ${extra}`,
    q.params,
  );
  return rows;
}

/**
 * Locks the rows of a bulk change in seq order, the order parse batches update them in: two
 * transactions that lock overlapping rows in the same order wait for each other instead of
 * deadlocking (a mark-read of 15,000 messages against a running parse backlog did). `$n` holds
 * the seqs.
 */
/** Rows per statement in bulk read-state changes and deletes. */
export const BULK_CHUNK = 1000;

function lockInOrder(n: number): string {
  return `SELECT seq FROM messages WHERE seq = ANY($${n}::bigint[]) ORDER BY seq FOR UPDATE`;
}

/** Returns the ids whose flag actually changed. */
export async function setRead(db: Db, selection: Selection, read: boolean): Promise<string[]> {
  if (selection === 'all') {
    const { rows } = await db.query<{ id: string }>(
      'UPDATE messages SET read = $1 WHERE read <> $1 RETURNING id',
      [read],
    );
    return rows.map((r) => r.id);
  }
  const rows = await selectedRows(db, selection, read ? 'NOT m.read' : 'm.read');
  const changed: string[] = [];
  // Chunks commit one by one: a running parse backlog updates the same rows, and one statement
  // over tens of thousands of rows would wait behind every batch of it.
  for (let i = 0; i < rows.length; i += BULK_CHUNK) {
    const res = await db.query<{ id: string }>(
      `UPDATE messages m SET read = $1 FROM (${lockInOrder(2)}) l WHERE m.seq = l.seq AND m.read <> $1 RETURNING m.id`,
      [read, rows.slice(i, i + BULK_CHUNK).map((r) => r.seq)],
    );
    for (const r of res.rows) changed.push(r.id);
  }
  return changed;
}

/** Raw and parsed bodies, search rows and tag links go with their message through ON DELETE CASCADE. */
export async function deleteMessages(db: Db, selection: Selection): Promise<string[]> {
  let ids: string[];
  if (selection === 'all') {
    ids = (await db.query<{ id: string }>('DELETE FROM messages RETURNING id')).rows.map((r) => r.id);
  } else {
    const rows = await selectedRows(db, selection);
    if (rows.length === 0) return [];
    ids = [];
    for (let i = 0; i < rows.length; i += BULK_CHUNK) {
      const res = await db.query<{ id: string }>(
        `DELETE FROM messages m USING (${lockInOrder(1)}) l WHERE m.seq = l.seq RETURNING m.id`,
        [rows.slice(i, i + BULK_CHUNK).map((r) => r.seq)],
      );
      for (const r of res.rows) ids.push(r.id);
    }
  }
  if (ids.length > 0) await pruneUnusedTags(db);
  return ids;
}

/** Replaces the tags of these messages; returns each changed message's new tags. */
export async function setTags(
  db: Db,
  ids: readonly string[],
  tags: readonly string[],
): Promise<Map<string, string[]>> {
  const rows = await selectedRows(db, ids);
  const changed = new Map<string, string[]>();
  if (rows.length === 0) return changed;
  const seqs = rows.map((r) => r.seq);
  const before = await db.query<{ id: string; tags: string[] }>(
    'SELECT id, tags FROM messages WHERE seq = ANY($1::bigint[])',
    [seqs],
  );
  const tagIdList = await tagIds(db, cleanTags(tags));
  await db.query('DELETE FROM message_tags WHERE seq = ANY($1::bigint[])', [seqs]);
  if (tagIdList.length > 0) {
    await db.query(
      `INSERT INTO message_tags (seq, tag_id)
       SELECT s, t FROM unnest($1::bigint[]) s CROSS JOIN unnest($2::bigint[]) t ON CONFLICT DO NOTHING`,
      [seqs, tagIdList],
    );
  }
  await refreshTags(db, seqs);
  await pruneUnusedTags(db);
  const after = await db.query<{ id: string; tags: string[] }>(
    'SELECT id, tags FROM messages WHERE seq = ANY($1::bigint[])',
    [seqs],
  );
  const old = new Map(before.rows.map((r) => [r.id, JSON.stringify(r.tags)]));
  for (const r of after.rows) if (old.get(r.id) !== JSON.stringify(r.tags)) changed.set(r.id, r.tags);
  return changed;
}

export async function renameTag(
  db: Db,
  from: string,
  to: string,
): Promise<'renamed' | 'not-found' | 'exists'> {
  const name = cleanTag(to);
  if (!name) throw new Error(`invalid tag name: ${to}`);
  const found = await db.query<{ id: string }>('SELECT id FROM tags WHERE name = $1', [pgText(from)]);
  const id = found.rows[0]?.id;
  if (!id) return 'not-found';
  const norm = normalize(name);
  const clash = await db.query('SELECT 1 FROM tags WHERE norm = $1 AND id <> $2', [pgText(norm), id]);
  if ((clash.rowCount ?? 0) > 0) return 'exists';
  await db.query('UPDATE tags SET name = $1, norm = $2 WHERE id = $3', [pgText(name), pgText(norm), id]);
  const seqs = await db.query<{ seq: string }>('SELECT seq FROM message_tags WHERE tag_id = $1', [id]);
  await refreshTags(
    db,
    seqs.rows.map((r) => r.seq),
  );
  return 'renamed';
}

export async function deleteTag(db: Db, name: string): Promise<boolean> {
  const found = await db.query<{ id: string }>('SELECT id FROM tags WHERE name = $1', [pgText(name)]);
  const id = found.rows[0]?.id;
  if (!id) return false;
  const seqs = await db.query<{ seq: string }>('DELETE FROM message_tags WHERE tag_id = $1 RETURNING seq', [
    id,
  ]);
  await db.query('DELETE FROM tags WHERE id = $1', [id]);
  await refreshTags(
    db,
    seqs.rows.map((r) => r.seq),
  );
  return true;
}

/** One bounded retention step: the oldest messages beyond any limit. Returns how many went. */
export async function pruneStep(db: Db, limits: RetentionLimits): Promise<number> {
  const conditions: string[] = [];
  const params: unknown[] = [PRUNE_BATCH];
  if (limits.maxMessages > 0) {
    params.push(limits.maxMessages);
    conditions.push(
      `seq <= coalesce((SELECT seq FROM messages ORDER BY seq DESC OFFSET $${params.length} LIMIT 1), -1)`,
    );
  }
  if (limits.maxAgeMs > 0) {
    params.push(new Date(limits.now - limits.maxAgeMs).toISOString());
    conditions.push(`received_at < $${params.length}::timestamptz`);
  }
  if (limits.maxBytes > 0) {
    params.push(limits.maxBytes);
    conditions.push(
      `seq IN (SELECT seq FROM (SELECT seq, sum(size) OVER (ORDER BY seq DESC) AS kept FROM messages) k
               WHERE kept > $${params.length})`,
    );
  }
  if (conditions.length === 0) return 0;
  const res = await db.query(
    `DELETE FROM messages WHERE seq IN (
       SELECT seq FROM messages WHERE ${conditions.join(' OR ')} ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)`,
    params,
  );
  const n = res.rowCount ?? 0;
  if (n > 0) await pruneUnusedTags(db);
  return n;
}
