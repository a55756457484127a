// Opens the PostgreSQL connection pool Mailroom uses, and applies migrations once even when several
// nodes start at the same moment against one database.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { readMigrations } from '../migrations.ts';

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/**
 * Key of the session-level advisory lock that serialises migrators. Advisory locks are scoped to
 * the current database, so one constant serves every Mailroom database on a server.
 */
const MIGRATION_LOCK_KEY = 0x6d61696c; // 'mail' in ASCII

export interface PoolOptions {
  /** Connections; reads and spool commits share them. */
  size?: number;
  /** Errors of idle connections (a server restart, say); the pool drops those and reconnects. */
  onError?: (err: Error) => void;
}

/**
 * Planner settings for Mailroom's sessions, unless the URL sets `options` itself. PostgreSQL's
 * default random_page_cost (4) models spinning disks: with it, once a table is analysed, the
 * planner prefers scanning every `message_words` row (reading each vector, hundreds of ms at
 * 100,000 messages) over the GIN index and its ~12,000 hits (~15 ms). 1.1 is the usual value for SSDs.
 */
const SESSION_OPTIONS = '-c random_page_cost=1.1';

/**
 * Run on each new connection before it is used: every commit of a Mailroom session waits for the
 * WAL flush, so a write that returns (a spool commit before its 250, a recorded delivery) survives
 * a crash. Where the database or role sets synchronous_commit to off or local the session raises
 * it to on; any other value (remote_write, on, remote_apply) is kept. Either way the value is set
 * for the session, so a later reload of the server's configuration does not lower it. Durable
 * writes can then be single statements outside an explicit transaction (one round trip).
 */
export const DURABLE_SESSION =
  "SELECT set_config('synchronous_commit', CASE WHEN current_setting('synchronous_commit') IN ('off', 'local') " +
  "THEN 'on' ELSE current_setting('synchronous_commit') END, false)";

export function createPool(databaseUrl: string, opts: PoolOptions = {}): pg.Pool {
  const urlSetsOptions = (() => {
    try {
      return new URL(databaseUrl).searchParams.has('options');
    } catch {
      return false;
    }
  })();
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    ...(urlSetsOptions ? {} : { options: SESSION_OPTIONS }),
    max: opts.size ?? 8,
    application_name: 'mailroom',
    // A dead server or a half-open connection must fail a commit (the client hears 451 and retries)
    // rather than hang every SMTP session behind it.
    connectionTimeoutMillis: 10_000,
    query_timeout: 60_000,
    keepAlive: true,
    // A connection this fails on is closed and its checkout fails: never a session that may not flush.
    onConnect: (client) => client.query(DURABLE_SESSION),
  });
  // Without a listener an idle client's error event would crash the process; the pool already
  // discards that client, and the next query opens a fresh one.
  pool.on('error', (err) => opts.onError?.(err));
  return pool;
}

/** Applies pending migrations under an advisory lock; returns how many this call applied. */
export async function migrate(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await applyPending(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } catch (err) {
    failure = err as Error;
    throw err;
  } finally {
    // A connection that failed mid-migration may still hold the lock or an open transaction.
    client.release(failure);
  }
}

async function applyPending(client: pg.PoolClient): Promise<number> {
  // Created under the lock: two concurrent CREATE TABLE IF NOT EXISTS can still collide.
  await client.query(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)',
  );
  const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
  const done = new Set(rows.map((r) => r.version));
  let applied = 0;
  for (const m of readMigrations(MIGRATIONS_DIR)) {
    if (done.has(m.version)) continue;
    await client.query('BEGIN');
    try {
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())', [
        m.version,
        m.name,
      ]);
      await client.query('COMMIT');
      applied++;
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    }
  }
  return applied;
}
