// Every write the SQLite adapter makes, run inside the writer thread. Each op receives the open
// database and plain (structured-clone) arguments; the writer wraps a batch of ops in one transaction.
import type { DatabaseSync } from 'node:sqlite';
import type { SpoolEntry } from '../../domain/message.ts';
import { cleanTag } from '../../domain/tags.ts';
import type { SearchDocument, SearchQuery } from '../../search/ast.ts';
import { normalize } from '../../search/text.ts';
import type { ParsedRecord, RenameTagOutcome, RetentionLimits, Selection } from '../ports.ts';
import { storedOf } from '../rows.ts';
import { cleanTags } from '../search-columns.ts';
import { apiKeyOps } from './api-key-ops.ts';
import { inboundOps } from './inbound-ops.ts';
import { intakeOps } from './intake-ops.ts';
import { outboundOps } from './outbound-ops.ts';
import { routeOps } from './route-ops.ts';
import { compileSearch } from './search-sql.ts';
import { stmt } from './statements.ts';
import { ticketOps } from './ticket-ops.ts';

export type SaveParsedArgs = readonly ParsedRecord[];

/** Rows deleted per prune step: bounded transactions, so ingest never waits long behind one. */
export const PRUNE_BATCH = 2000;

/**
 * Ids travel as one JSON array parameter: any number of them fits (a `?` per id stops at SQLite's
 * 32,766-variable limit), and the statement text stays fixed, so it is prepared once.
 */
const ID_LIST = '(SELECT value FROM json_each(?))';

/** Refreshes the denormalised tag list of one message from message_tags. */
function refreshTags(db: DatabaseSync, seq: number): string[] {
  const rows = stmt(
    db,
    'SELECT t.name FROM message_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.seq = ? ORDER BY t.norm, t.name',
  ).all(seq) as { name: string }[];
  const names = rows.map((r) => r.name);
  stmt(db, 'UPDATE messages SET tags = ? WHERE seq = ?').run(JSON.stringify(names), seq);
  return names;
}

/** The id of the tag with this name's normal form, created with this spelling if new. */
function tagId(db: DatabaseSync, name: string): number {
  const norm = normalize(name);
  stmt(db, 'INSERT INTO tags (name, norm) VALUES (?, ?) ON CONFLICT (norm) DO NOTHING').run(name, norm);
  return (stmt(db, 'SELECT id FROM tags WHERE norm = ?').get(norm) as { id: number }).id;
}

function addTags(db: DatabaseSync, seq: number, names: readonly string[]): void {
  const clean = cleanTags(names);
  if (clean.length === 0) return;
  const link = stmt(db, 'INSERT OR IGNORE INTO message_tags (seq, tag_id) VALUES (?, ?)');
  for (const name of clean) link.run(seq, tagId(db, name));
  refreshTags(db, seq);
}

function pruneUnusedTags(db: DatabaseSync): void {
  stmt(
    db,
    'DELETE FROM tags WHERE NOT EXISTS (SELECT 1 FROM message_tags mt WHERE mt.tag_id = tags.id)',
  ).run();
}

/** The `x-…` lines of a normalised header text: what the trigram index holds of the headers. */
export function customHeaderLines(headers: string): string {
  return headers
    .split('\n')
    .filter((line) => line.startsWith('x-'))
    .join('\n');
}

/** `fresh`: the message was never parsed, so its full-text rows do not exist yet. */
function saveSearch(db: DatabaseSync, seq: number, d: SearchDocument, fresh: boolean): void {
  stmt(
    db,
    `INSERT OR REPLACE INTO message_search
       (seq, s_from, s_to, s_cc, s_bcc, s_reply_to, s_subject, s_message_id, s_headers)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(seq, d.from, d.to, d.cc, d.bcc, d.replyTo, d.subject, d.messageId, d.headers);
  // A full-text delete looks the row up in both indexes; a first parse has nothing to delete.
  if (!fresh) stmt(db, 'DELETE FROM message_fts WHERE rowid = ?').run(seq);
  stmt(db, 'INSERT INTO message_fts (rowid, words) VALUES (?, ?)').run(seq, d.words);
  if (!fresh) stmt(db, 'DELETE FROM message_fields WHERE rowid = ?').run(seq);
  stmt(
    db,
    `INSERT INTO message_fields (rowid, s_from, s_to, s_cc, s_bcc, s_reply_to, s_subject, s_message_id, s_xheaders)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(seq, d.from, d.to, d.cc, d.bcc, d.replyTo, d.subject, d.messageId, customHeaderLines(d.headers));
}

function saveOneParsed(db: DatabaseSync, record: ParsedRecord): number {
  const { id, result } = record;
  const row = stmt(db, 'SELECT seq, parse_state FROM messages WHERE id = ?').get(id) as
    | { seq: number; parse_state: string }
    | undefined;
  if (!row) return 0; // deleted while it was being parsed
  if (!result.ok) {
    stmt(db, "UPDATE messages SET parse_state = 'failed', parse_error = ? WHERE seq = ?").run(
      result.error,
      row.seq,
    );
    if (record.tags?.length) addTags(db, row.seq, record.tags);
    return 1;
  }
  const { json, search, columns: c } = storedOf(result);
  stmt(
    db,
    `UPDATE messages SET parse_state = 'parsed', parse_error = NULL, message_id = ?, subject = ?, from_addr = ?,
     to_addrs = ?, cc_addrs = ?, bcc_addrs = ?, reply_to = ?, snippet = ?, attachment_count = ?, inline_count = ?
     WHERE seq = ?`,
  ).run(
    c.message_id,
    c.subject,
    c.from_addr,
    c.to_addrs,
    c.cc_addrs,
    c.bcc_addrs,
    c.reply_to,
    c.snippet,
    c.attachment_count,
    c.inline_count,
    row.seq,
  );
  stmt(db, 'INSERT OR REPLACE INTO message_body (seq, parsed) VALUES (?, ?)').run(row.seq, json);
  // Only a save sets a message's state, in the same transaction as its full-text rows.
  saveSearch(db, row.seq, search, row.parse_state === 'pending');
  if (record.tags?.length) addTags(db, row.seq, record.tags);
  return 1;
}

/** The seq and id of every selected message. */
function selectedRows(db: DatabaseSync, selection: Selection, extra = '1'): { seq: number; id: string }[] {
  if (selection === 'all') {
    return stmt(db, `SELECT seq, id FROM messages m WHERE ${extra}`).all() as { seq: number; id: string }[];
  }
  if (Array.isArray(selection)) {
    if (selection.length === 0) return [];
    return stmt(db, `SELECT seq, id FROM messages m WHERE id IN ${ID_LIST} AND ${extra}`).all(
      JSON.stringify(selection),
    ) as { seq: number; id: string }[];
  }
  const q = compileSearch((selection as { query: SearchQuery }).query);
  const join = q.joinSearch ? 'LEFT JOIN message_search s ON s.seq = m.seq' : '';
  return db
    .prepare(`SELECT m.seq, m.id FROM messages m ${join} WHERE ${q.where} AND ${extra}`)
    .all(...q.params) as { seq: number; id: string }[];
}

/** Deletes messages and everything stored with them. */
function deleteSeqs(db: DatabaseSync, seqs: readonly number[]): void {
  if (seqs.length === 0) return;
  const list = JSON.stringify(seqs);
  for (const table of ['message_raw', 'message_body', 'message_search', 'message_tags', 'messages']) {
    stmt(db, `DELETE FROM ${table} WHERE seq IN ${ID_LIST}`).run(list);
  }
  stmt(db, `DELETE FROM message_fts WHERE rowid IN ${ID_LIST}`).run(list);
  stmt(db, `DELETE FROM message_fields WHERE rowid IN ${ID_LIST}`).run(list);
  pruneUnusedTags(db);
}

export const writeOps = {
  appendSpool(db: DatabaseSync, entries: SpoolEntry[]): number {
    const insertMessage = stmt(
      db,
      'INSERT INTO messages (id, received_at, size, envelope) VALUES (?, ?, ?, ?) RETURNING seq',
    );
    const insertRaw = stmt(db, 'INSERT INTO message_raw (seq, raw) VALUES (?, ?)');
    for (const e of entries) {
      const row = insertMessage.get(
        e.id,
        e.envelope.receivedAt,
        e.raw.byteLength,
        JSON.stringify(e.envelope),
      ) as {
        seq: number;
      };
      insertRaw.run(row.seq, e.raw);
    }
    return entries.length;
  },

  saveParsed(db: DatabaseSync, results: SaveParsedArgs): number {
    let saved = 0;
    for (const record of results) saved += saveOneParsed(db, record);
    return saved;
  },

  setRead(db: DatabaseSync, { selection, read }: { selection: Selection; read: boolean }): string[] {
    const flag = read ? 1 : 0;
    const rows = selectedRows(db, selection, `m.read <> ${flag}`);
    if (rows.length === 0) return [];
    stmt(db, `UPDATE messages SET read = ? WHERE seq IN ${ID_LIST}`).run(
      flag,
      JSON.stringify(rows.map((r) => r.seq)),
    );
    return rows.map((r) => r.id);
  },

  delete(db: DatabaseSync, { selection }: { selection: Selection }): string[] {
    if (selection === 'all') {
      const ids = (stmt(db, 'SELECT id FROM messages').all() as { id: string }[]).map((r) => r.id);
      db.exec(`DELETE FROM message_raw; DELETE FROM message_body; DELETE FROM message_search;
        DELETE FROM message_tags; DELETE FROM tags; DELETE FROM messages;
        INSERT INTO message_fts (message_fts) VALUES ('delete-all');
        INSERT INTO message_fields (message_fields) VALUES ('delete-all');`);
      return ids;
    }
    const rows = selectedRows(db, selection);
    deleteSeqs(
      db,
      rows.map((r) => r.seq),
    );
    return rows.map((r) => r.id);
  },

  setTags(db: DatabaseSync, { ids, tags }: { ids: readonly string[]; tags: readonly string[] }) {
    const changed = new Map<string, string[]>();
    const wanted = cleanTags(tags);
    const wantedIds = wanted.map((name) => tagId(db, name));
    for (const { seq, id } of selectedRows(db, ids)) {
      const before = (stmt(db, 'SELECT tags FROM messages WHERE seq = ?').get(seq) as { tags: string }).tags;
      stmt(db, 'DELETE FROM message_tags WHERE seq = ?').run(seq);
      const link = stmt(db, 'INSERT OR IGNORE INTO message_tags (seq, tag_id) VALUES (?, ?)');
      for (const t of wantedIds) link.run(seq, t);
      const after = refreshTags(db, seq);
      if (JSON.stringify(after) !== before) changed.set(id, after);
    }
    pruneUnusedTags(db);
    return changed;
  },

  renameTag(db: DatabaseSync, { from, to }: { from: string; to: string }): RenameTagOutcome {
    const name = cleanTag(to);
    if (!name) throw new Error(`invalid tag name: ${to}`);
    const found = stmt(db, 'SELECT id FROM tags WHERE name = ?').get(from) as { id: number } | undefined;
    if (!found) return 'not-found';
    const norm = normalize(name);
    const clash = stmt(db, 'SELECT id FROM tags WHERE norm = ? AND id <> ?').get(norm, found.id);
    if (clash) return 'exists';
    stmt(db, 'UPDATE tags SET name = ?, norm = ? WHERE id = ?').run(name, norm, found.id);
    const seqs = stmt(db, 'SELECT seq FROM message_tags WHERE tag_id = ?').all(found.id) as { seq: number }[];
    for (const { seq } of seqs) refreshTags(db, seq);
    return 'renamed';
  },

  deleteTag(db: DatabaseSync, { name }: { name: string }): boolean {
    const found = stmt(db, 'SELECT id FROM tags WHERE name = ?').get(name) as { id: number } | undefined;
    if (!found) return false;
    const seqs = stmt(db, 'SELECT seq FROM message_tags WHERE tag_id = ?').all(found.id) as { seq: number }[];
    stmt(db, 'DELETE FROM message_tags WHERE tag_id = ?').run(found.id);
    stmt(db, 'DELETE FROM tags WHERE id = ?').run(found.id);
    for (const { seq } of seqs) refreshTags(db, seq);
    return true;
  },

  /** One bounded step of retention: the oldest messages beyond any limit. Returns how many went. */
  prune(db: DatabaseSync, limits: RetentionLimits): number {
    const victims = new Set<number>();
    const take = (rows: { seq: number }[]) => {
      for (const r of rows) if (victims.size < PRUNE_BATCH) victims.add(r.seq);
    };
    if (limits.maxMessages > 0) {
      take(
        stmt(db, 'SELECT seq FROM messages ORDER BY seq DESC LIMIT ? OFFSET ?').all(
          PRUNE_BATCH,
          limits.maxMessages,
        ) as { seq: number }[],
      );
    }
    if (limits.maxAgeMs > 0 && victims.size < PRUNE_BATCH) {
      const cutoff = new Date(limits.now - limits.maxAgeMs).toISOString();
      take(
        stmt(db, 'SELECT seq FROM messages WHERE received_at < ? ORDER BY seq LIMIT ?').all(
          cutoff,
          PRUNE_BATCH,
        ) as { seq: number }[],
      );
    }
    if (limits.maxBytes > 0 && victims.size < PRUNE_BATCH) {
      take(
        stmt(
          db,
          `SELECT seq FROM (SELECT seq, sum(size) OVER (ORDER BY seq DESC) AS kept FROM messages)
           WHERE kept > ? ORDER BY seq LIMIT ?`,
        ).all(limits.maxBytes, PRUNE_BATCH) as { seq: number }[],
      );
    }
    deleteSeqs(db, [...victims]);
    return victims.size;
  },
  ...outboundOps,
  ...apiKeyOps,
  ...routeOps,
  ...inboundOps,
  importMessage(db: DatabaseSync, a: { entry: SpoolEntry; keys: readonly string[]; now: string }) {
    return intakeOps.importMessage(db, a, writeOps.appendSpool);
  },
  claimAutoReply: intakeOps.claimAutoReply,
  recordWebhookOutcome: intakeOps.recordWebhookOutcome,
  enableWebhookEndpoint: intakeOps.enableWebhookEndpoint,
  ...ticketOps,
} as const;

export type WriteOps = typeof writeOps;
export type WriteOpName = keyof WriteOps;

/**
 * Ops whose result can be rebuilt from durable data: a parse result lost in a power cut leaves
 * its message 'pending', and it is parsed again. A batch of only these commits without fsync
 * (synchronous=NORMAL); the next durable commit fsyncs the WAL, and everything before it with it.
 */
export const REBUILDABLE_OPS: ReadonlySet<WriteOpName> = new Set<WriteOpName>(['saveParsed']);

/**
 * Ops committed at once but without an fsync of their own: the routing cursor and its lease. Lost
 * in a power cut (never in a process crash: WAL commits reach the OS at once), the cursor moves
 * back and those messages are routed again, which records nothing twice (event and job ids are
 * derived from the message, and inserted ON CONFLICT DO NOTHING). Anything that happened after
 * them durably (a job claimed or done) was fsynced with them, as the WAL is written in order.
 * Without this, routing paid two fsyncs per pass, each message's when mail comes one at a time.
 */
export const UNSYNCED_OPS: ReadonlySet<WriteOpName> = new Set<WriteOpName>(['takeRouting', 'commitRouting']);
