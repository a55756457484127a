// PostgreSQL adapter of the storage port: several Mailroom nodes may share one database. Reads go
// through a small pool; spool appends are group-committed (see spool-commit.ts).
import type pg from 'pg';
import type { SpoolEntry, StoredMessage } from '../../domain/message.ts';
import { GroupCommitter } from '../group-commit.ts';
import type {
  ListQuery,
  ListResult,
  ParseResult,
  Storage,
  StorageCapabilities,
  StoreStats,
} from '../ports.ts';
import { parsedBody, SUMMARY_COLUMNS, type SummaryRow, toSummary } from '../rows.ts';
import { createPool, migrate, type PoolOptions } from './open.ts';
import { retryTransient } from './retry.ts';
import { flushSpool, type SpoolCall } from './spool-commit.ts';
import { deleteMessages, saveParsed, setRead } from './write-ops.ts';

/** BIGINT and numeric arrive as strings (they may exceed 2^53); counts and sizes here never do. */
function int(v: string | number | null | undefined): number {
  return v == null ? 0 : Number(v);
}

export class PostgresStorage implements Storage {
  readonly capabilities: StorageCapabilities = { engine: 'postgres', multiNode: true, listenNotify: true };
  private readonly pool: pg.Pool;
  private readonly committer: GroupCommitter<SpoolCall>;
  /** Appends not yet answered; close() lets them finish before ending the pool. */
  private readonly inFlight = new Set<Promise<void>>();

  private constructor(pool: pg.Pool) {
    this.pool = pool;
    this.committer = new GroupCommitter((calls) => flushSpool(pool, calls));
  }

  /** Connects and applies migrations; safe when several nodes start together. */
  static async open(databaseUrl: string, opts: PoolOptions = {}): Promise<PostgresStorage> {
    const pool = createPool(databaseUrl, opts);
    try {
      await migrate(pool);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PostgresStorage(pool);
  }

  /** Called with each committed batch's size (appendSpool calls) and duration (for metrics). */
  set onCommit(fn: ((size: number, ms: number) => void) | null) {
    this.committer.onBatch = fn;
  }

  async appendSpool(entries: SpoolEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const call: SpoolCall = { entries, error: null };
    const done = this.committer.submit(call);
    this.inFlight.add(done);
    try {
      await done;
    } finally {
      this.inFlight.delete(done);
    }
    // The shared commit succeeded, but this call's own rows may have been rolled back alone.
    if (call.error) throw call.error;
  }

  async pendingParse(limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      "SELECT id FROM messages WHERE parse_state = 'pending' ORDER BY seq LIMIT $1",
      [limit],
    );
    return rows.map((r) => r.id);
  }

  async saveParsed(results: readonly { id: string; result: ParseResult }[]): Promise<void> {
    if (results.length === 0) return;
    if (results.length === 1) return saveParsed(this.pool, results[0]!.id, results[0]!.result);
    return retryTransient(() => this.saveParsedBatch(results));
  }

  /** One transaction for the batch: one commit instead of one per message. */
  private async saveParsedBatch(results: readonly { id: string; result: ParseResult }[]): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Parse results can be rebuilt from the raw bytes: no need to wait for the WAL flush (a crash
      // leaves the message pending, and it is parsed again). See ADR 0004.
      await client.query('SET LOCAL synchronous_commit = off');
      for (const { id, result } of results) await saveParsed(client, id, result);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async list(q: ListQuery): Promise<ListResult> {
    const [page, counts] = await Promise.all([
      this.pool.query<SummaryRow>(
        `SELECT ${SUMMARY_COLUMNS} FROM messages ORDER BY seq DESC LIMIT $1 OFFSET $2`,
        [q.limit, q.start],
      ),
      this.pool.query<{ total: string; unread: string }>(
        'SELECT count(*) AS total, count(*) FILTER (WHERE NOT read) AS unread FROM messages',
      ),
    ]);
    const c = counts.rows[0];
    return { total: int(c?.total), unread: int(c?.unread), messages: page.rows.map(toSummary) };
  }

  async get(id: string): Promise<StoredMessage | null> {
    const { rows } = await this.pool.query<SummaryRow & { parsed: unknown }>(
      `SELECT ${SUMMARY_COLUMNS}, b.parsed FROM messages LEFT JOIN message_body b USING (seq) WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    return { ...toSummary(row), parsed: row.parsed == null ? null : parsedBody(row.parsed) };
  }

  async getRaw(id: string): Promise<Uint8Array | null> {
    const { rows } = await this.pool.query<{ raw: Buffer }>(
      'SELECT r.raw FROM messages m JOIN message_raw r ON r.seq = m.seq WHERE m.id = $1',
      [id],
    );
    return rows[0]?.raw ?? null;
  }

  async latestId(): Promise<string | null> {
    const { rows } = await this.pool.query<{ id: string }>(
      'SELECT id FROM messages ORDER BY seq DESC LIMIT 1',
    );
    return rows[0]?.id ?? null;
  }

  setRead(ids: readonly string[] | 'all', read: boolean): Promise<number> {
    return retryTransient(() => setRead(this.pool, ids, read));
  }

  delete(ids: readonly string[] | 'all'): Promise<number> {
    return retryTransient(() => deleteMessages(this.pool, ids));
  }

  async stats(): Promise<StoreStats> {
    const { rows } = await this.pool.query<{ n: string; unread: string; bytes: string; db: string }>(
      `SELECT count(*) AS n, count(*) FILTER (WHERE NOT read) AS unread, coalesce(sum(size), 0) AS bytes,
              pg_database_size(current_database()) AS db
       FROM messages`,
    );
    const r = rows[0];
    return { messages: int(r?.n), unread: int(r?.unread), bytes: int(r?.bytes), databaseBytes: int(r?.db) };
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    await this.pool.end();
  }
}
