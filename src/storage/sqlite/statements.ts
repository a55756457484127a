// Compiled statements per connection: preparing costs more than running a small INSERT or SELECT,
// and the same few statements run for every message.
import type { DatabaseSync, StatementSync } from 'node:sqlite';

const statementCache = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

/** The prepared statement for `sql` on `db`, compiled once. Use only for SQL with a fixed text. */
export function stmt(db: DatabaseSync, sql: string): StatementSync {
  let cache = statementCache.get(db);
  if (!cache) {
    cache = new Map();
    statementCache.set(db, cache);
  }
  let s = cache.get(sql);
  if (!s) {
    s = db.prepare(sql);
    cache.set(sql, s);
  }
  return s;
}
