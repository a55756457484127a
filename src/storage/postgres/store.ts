// PostgreSQL adapter of the storage port: several Mailroom nodes may share one database. Reads go
// through a small pool; spool appends are group-committed (see spool-commit.ts).
import type pg from 'pg';
import type { Envelope, MessageSummary, SpoolEntry, StoredMessage } from '../../domain/message.ts';
import { GroupCommitter } from '../group-commit.ts';
import type { InboundStore } from '../inbound-ports.ts';
import type {
  ApiKeyStore,
  InboxCount,
  ListQuery,
  ListResult,
  OutboundStore,
  ParsedRecord,
  RenameTagOutcome,
  RetentionLimits,
  RouteStore,
  Selection,
  Storage,
  StorageCapabilities,
  StoreStats,
  TagCount,
} from '../ports.ts';
import { parsedBody, SUMMARY_COLUMNS, type SummaryRow, toSummary } from '../rows.ts';
import type { TicketStore } from '../ticket-ports.ts';
import { PostgresApiKeys } from './api-keys.ts';
import { PostgresInbound } from './inbound.ts';
import { inboxCounts, listPlan, MAILBOX_COUNTS, type Statement, TAG_NAMES } from './list-sql.ts';
import { createPool, migrate, type PoolOptions } from './open.ts';
import { PostgresOutbound } from './outbound.ts';
import { retryTransient } from './retry.ts';
import { PostgresRoutes } from './routes.ts';
import { flushSpool, type SpoolCall } from './spool-commit.ts';
import { PostgresTickets } from './tickets.ts';
import { inTransaction } from './transaction.ts';
import {
  deleteMessages,
  deleteTag,
  PRUNE_BATCH,
  pruneStep,
  renameTag,
  saveParsed,
  setRead,
  setTags,
} from './write-ops.ts';

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

  readonly outbound: OutboundStore;
  readonly apiKeys: ApiKeyStore;
  readonly routes: RouteStore;
  readonly inbound: InboundStore;
  readonly tickets: TicketStore;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
    this.outbound = new PostgresOutbound(pool);
    this.apiKeys = new PostgresApiKeys(pool);
    this.routes = new PostgresRoutes(pool);
    this.inbound = new PostgresInbound(pool);
    this.tickets = new PostgresTickets(pool);
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

  /**
   * Server settings Mailroom depends on that are not as PostgreSQL ships them, one sentence each.
   * Without autovacuum, the tables Mailroom rewrites all the time (every message is inserted, then
   * updated when parsed, read and tagged) bloat and are never analysed, and searches slow down.
   */
  async serverWarnings(): Promise<string[]> {
    const { rows } = await this.pool.query<{ autovacuum: string }>(
      "SELECT current_setting('autovacuum') AS autovacuum",
    );
    const warnings: string[] = [];
    if (rows[0]?.autovacuum !== 'on') {
      warnings.push(
        'autovacuum is off on this PostgreSQL server: Mailroom tables will bloat and searches slow down; turn it on, or run VACUUM (ANALYZE) regularly',
      );
    }
    return warnings;
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

  async saveParsed(results: readonly ParsedRecord[]): Promise<void> {
    if (results.length === 0) return;
    return retryTransient(() => this.saveParsedBatch(results));
  }

  /** One transaction for the batch: one commit instead of one per message. */
  private async saveParsedBatch(results: readonly ParsedRecord[]): Promise<void> {
    await this.inTransaction(async (client) => {
      // Parse results can be rebuilt from the raw bytes: no need to wait for the WAL flush (a crash
      // leaves the message pending, and it is parsed again). See ADR 0004.
      await client.query('SET LOCAL synchronous_commit = off');
      for (const record of results) await saveParsed(client, record);
    });
  }

  async list(q: ListQuery): Promise<ListResult> {
    const plan = listPlan(q);
    const totals = q.inbox === undefined ? MAILBOX_COUNTS : inboxCounts(q.inbox);
    const countsQuery = this.pool.query<{ total: string; unread: string }>(totals.sql, totals.params);
    const run = (s: Statement) => this.pool.query<SummaryRow>(s.sql, s.params);
    if (plan.kind === 'all' || plan.kind === 'read-state') {
      const [page, counts] = await Promise.all([run(plan.page), countsQuery]);
      const total = int(counts.rows[0]?.total);
      const unread = int(counts.rows[0]?.unread);
      const matched = plan.kind === 'all' ? total : plan.read ? total - unread : unread;
      const matchedUnread = plan.kind === 'all' ? unread : plan.read ? 0 : unread;
      return { total, unread, matched, matchedUnread, messages: page.rows.map(toSummary) };
    }
    if (plan.kind === 'cheap') {
      const [page, matched, counts] = await Promise.all([
        run(plan.page),
        this.pool.query<{ n: string; unread: string }>(plan.count.sql, plan.count.params),
        countsQuery,
      ]);
      return {
        total: int(counts.rows[0]?.total),
        unread: int(counts.rows[0]?.unread),
        matched: int(matched.rows[0]?.n),
        matchedUnread: int(matched.rows[0]?.unread),
        messages: page.rows.map(toSummary),
      };
    }
    const [result, counts] = await Promise.all([
      this.pool.query<SummaryRow & { hits_total: string; hits_unread: string }>(
        plan.combined.sql,
        plan.combined.params,
      ),
      countsQuery,
    ]);
    const first = result.rows[0];
    return {
      total: int(counts.rows[0]?.total),
      unread: int(counts.rows[0]?.unread),
      matched: int(first?.hits_total),
      matchedUnread: int(first?.hits_unread),
      // With no row on the page, the one row holds the totals and NULL columns.
      messages: result.rows.filter((r) => r.seq !== null).map(toSummary),
    };
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

  async summaries(ids: readonly string[]): Promise<MessageSummary[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<SummaryRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM messages WHERE id = ANY($1::text[]) ORDER BY seq DESC`,
      [ids],
    );
    return rows.map(toSummary);
  }

  async toParse(ids: readonly string[]): Promise<SpoolEntry[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<{ id: string; envelope: Envelope; raw: Buffer }>(
      `SELECT m.id, m.envelope, r.raw FROM messages m JOIN message_raw r ON r.seq = m.seq
        WHERE m.id = ANY($1::text[])`,
      [ids],
    );
    return rows.map((r) => ({ id: r.id, envelope: r.envelope, raw: r.raw }));
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

  setRead(selection: Selection, read: boolean): Promise<string[]> {
    return retryTransient(() => setRead(this.pool, selection, read));
  }

  delete(selection: Selection): Promise<string[]> {
    // Each chunk commits on its own (see write-ops.ts); a retry finds only what is left.
    return retryTransient(() => deleteMessages(this.pool, selection));
  }

  async tags(): Promise<string[]> {
    const { rows } = await this.pool.query<{ name: string }>(TAG_NAMES.sql);
    return rows.map((r) => r.name);
  }

  async tagCounts(): Promise<TagCount[]> {
    const { rows } = await this.pool.query<{ name: string; messages: string }>(
      `SELECT t.name, count(mt.seq) AS messages FROM tags t LEFT JOIN message_tags mt ON mt.tag_id = t.id
       GROUP BY t.id ORDER BY t.norm COLLATE "C", t.name COLLATE "C"`,
    );
    return rows.map((r) => ({ name: r.name, messages: int(r.messages) }));
  }

  setTags(ids: readonly string[], tags: readonly string[]): Promise<Map<string, string[]>> {
    return retryTransient(() => this.inTransaction((db) => setTags(db, ids, tags)));
  }

  renameTag(from: string, to: string): Promise<RenameTagOutcome> {
    return retryTransient(() => this.inTransaction((db) => renameTag(db, from, to)));
  }

  deleteTag(name: string): Promise<boolean> {
    return retryTransient(() => this.inTransaction((db) => deleteTag(db, name)));
  }

  async prune(limits: RetentionLimits): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await retryTransient(() => this.inTransaction((db) => pruneStep(db, limits)));
      total += n;
      if (n < PRUNE_BATCH) return total;
    }
  }

  /** Runs `fn` in one transaction on a checked-out client. */
  private inTransaction<T>(fn: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn);
  }

  async stats(): Promise<StoreStats> {
    const { rows } = await this.pool.query<{ n: string; unread: string; bytes: string; db: string }>(
      `SELECT coalesce(sum(total), 0) AS n, coalesce(sum(unread), 0) AS unread, coalesce(sum(bytes), 0) AS bytes,
              pg_database_size(current_database()) AS db
       FROM mailbox_counts`,
    );
    const r = rows[0];
    return { messages: int(r?.n), unread: int(r?.unread), bytes: int(r?.bytes), databaseBytes: int(r?.db) };
  }

  async inboxCounts(): Promise<InboxCount[]> {
    const { rows } = await this.pool.query<{ inbox: string; messages: string; unread: string }>(
      `SELECT inbox, count(*) AS messages, count(*) FILTER (WHERE NOT read) AS unread
       FROM messages GROUP BY inbox ORDER BY inbox COLLATE "C"`,
    );
    return rows.map((r) => ({ inbox: r.inbox, messages: int(r.messages), unread: int(r.unread) }));
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    await this.pool.end();
  }
}
