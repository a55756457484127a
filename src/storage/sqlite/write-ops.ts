// Every write the SQLite adapter makes, run inside the writer thread. Each op receives the open
// database and plain (structured-clone) arguments; the writer wraps a batch of ops in one transaction.
import type { DatabaseSync } from 'node:sqlite';
import type { SpoolEntry } from '../../domain/message.ts';
import type { ParseResult } from '../ports.ts';
import { summaryColumns } from '../rows.ts';
import { stmt } from './statements.ts';

export type SaveParsedArgs = readonly { id: string; result: ParseResult }[];

type Ids = readonly string[] | 'all';

/**
 * Ids travel as one JSON array parameter: any number of them fits (a `?` per id stops at SQLite's
 * 32,766-variable limit), and the statement text stays fixed, so it is prepared once.
 */
const ID_LIST = '(SELECT value FROM json_each(?))';

function saveOneParsed(db: DatabaseSync, id: string, result: ParseResult): number {
  const row = stmt(db, 'SELECT seq FROM messages WHERE id = ?').get(id) as { seq: number } | undefined;
  if (!row) return 0; // deleted while it was being parsed
  if (!result.ok) {
    stmt(db, "UPDATE messages SET parse_state = 'failed', parse_error = ? WHERE seq = ?").run(
      result.error,
      row.seq,
    );
    return 1;
  }
  const c = summaryColumns(result.parsed);
  stmt(
    db,
    `UPDATE messages SET parse_state = 'parsed', parse_error = NULL, message_id = ?, subject = ?, from_addr = ?,
     to_addrs = ?, cc_addrs = ?, bcc_addrs = ?, reply_to = ?, snippet = ?, attachment_count = ? WHERE seq = ?`,
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
    row.seq,
  );
  stmt(db, 'INSERT OR REPLACE INTO message_body (seq, parsed) VALUES (?, ?)').run(
    row.seq,
    JSON.stringify(result.parsed),
  );
  return 1;
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
    for (const { id, result } of results) saved += saveOneParsed(db, id, result);
    return saved;
  },

  setRead(db: DatabaseSync, { ids, read }: { ids: Ids; read: boolean }): number {
    const flag = read ? 1 : 0;
    if (ids === 'all')
      return Number(stmt(db, 'UPDATE messages SET read = ? WHERE read <> ?').run(flag, flag).changes);
    if (ids.length === 0) return 0;
    return Number(
      stmt(db, `UPDATE messages SET read = ? WHERE read <> ? AND id IN ${ID_LIST}`).run(
        flag,
        flag,
        JSON.stringify(ids),
      ).changes,
    );
  },

  delete(db: DatabaseSync, { ids }: { ids: Ids }): number {
    if (ids === 'all') {
      db.exec('DELETE FROM message_raw; DELETE FROM message_body;');
      return Number(stmt(db, 'DELETE FROM messages').run().changes);
    }
    if (ids.length === 0) return 0;
    const list = JSON.stringify(ids);
    const seqs = `(SELECT seq FROM messages WHERE id IN ${ID_LIST})`;
    stmt(db, `DELETE FROM message_raw WHERE seq IN ${seqs}`).run(list);
    stmt(db, `DELETE FROM message_body WHERE seq IN ${seqs}`).run(list);
    return Number(stmt(db, `DELETE FROM messages WHERE id IN ${ID_LIST}`).run(list).changes);
  },
} as const;

export type WriteOps = typeof writeOps;
export type WriteOpName = keyof WriteOps;

/**
 * Ops whose result can be rebuilt from durable data: a parse result lost in a power cut leaves
 * its message 'pending', and it is parsed again. A batch of only these commits without fsync
 * (synchronous=NORMAL); the next durable commit fsyncs the WAL, and everything before it with it.
 */
export const REBUILDABLE_OPS: ReadonlySet<WriteOpName> = new Set<WriteOpName>(['saveParsed']);
