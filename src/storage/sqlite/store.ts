// SQLite adapter of the storage port: reads on the calling thread through a read-only WAL
// connection, writes through the writer thread (see writer-worker.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { Envelope, MessageSummary, SpoolEntry, StoredMessage } from '../../domain/message.ts';
import { copyFor } from '../../runtime/thread-bytes.ts';
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
import { SqliteApiKeys } from './api-keys.ts';
import { SqliteInbound } from './inbound.ts';
import { inboxCounts, listPlan, MAILBOX_COUNTS, TAG_NAMES } from './list-sql.ts';
import { openDatabase } from './open.ts';
import { SqliteOutbound } from './outbound.ts';
import { SqliteRoutes } from './routes.ts';
import { registerSearchFunctions } from './search-sql.ts';
import { stmt } from './statements.ts';
import { SqliteTickets } from './tickets.ts';
import { PRUNE_BATCH } from './write-ops.ts';
import { SqliteWriter } from './writer.ts';

export class SqliteStorage implements Storage {
  readonly capabilities: StorageCapabilities = { engine: 'sqlite', multiNode: false, listenNotify: false };
  private readonly file: string;
  private readonly db: DatabaseSync;
  private readonly writer: SqliteWriter;
  readonly outbound: OutboundStore;
  readonly apiKeys: ApiKeyStore;
  readonly routes: RouteStore;
  readonly inbound: InboundStore;
  readonly tickets: TicketStore;

  private constructor(file: string, db: DatabaseSync, writer: SqliteWriter) {
    this.file = file;
    this.db = db;
    this.writer = writer;
    this.outbound = new SqliteOutbound(db, writer);
    this.apiKeys = new SqliteApiKeys(db, writer);
    this.routes = new SqliteRoutes(db, writer);
    this.inbound = new SqliteInbound(db, writer);
    this.tickets = new SqliteTickets(db, writer);
  }

  static async open(dataDir: string): Promise<SqliteStorage> {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const file = path.join(dataDir, 'mailroom.db');
    const writer = await SqliteWriter.start(file);
    const db = openDatabase(file, { readOnly: true });
    registerSearchFunctions(db);
    return new SqliteStorage(file, db, writer);
  }

  /** Called with the spool appends in each commit and its duration (for metrics). */
  set onCommit(fn: ((size: number, ms: number) => void) | null) {
    this.writer.onBatch = fn;
  }

  async appendSpool(entries: SpoolEntry[]): Promise<void> {
    // The writer thread gets its own copy, transferred without a second copy; the caller keeps its
    // buffer intact (a small Buffer is a view into a shared pool that must never be detached).
    // Large messages are in shared memory: the writer reads them where they are.
    const transfer: ArrayBuffer[] = [];
    const owned = entries.map((e) => ({ ...e, raw: copyFor(e.raw, transfer) }));
    await this.writer.run('appendSpool', owned, transfer);
  }

  async pendingParse(limit: number): Promise<string[]> {
    const rows = stmt(
      this.db,
      "SELECT id FROM messages WHERE parse_state = 'pending' ORDER BY seq LIMIT ?",
    ).all(limit) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async toParse(ids: readonly string[]): Promise<SpoolEntry[]> {
    if (ids.length === 0) return [];
    const rows = stmt(
      this.db,
      `SELECT m.id, m.envelope, r.raw FROM messages m JOIN message_raw r ON r.seq = m.seq
        WHERE m.id IN (SELECT value FROM json_each(?))`,
    ).all(JSON.stringify(ids)) as { id: string; envelope: string; raw: Uint8Array }[];
    return rows.map((r) => ({ id: r.id, envelope: JSON.parse(r.envelope) as Envelope, raw: r.raw }));
  }

  async saveParsed(results: readonly ParsedRecord[]): Promise<void> {
    await this.writer.run('saveParsed', results);
  }

  async list(q: ListQuery): Promise<ListResult> {
    const totals = q.inbox === undefined ? MAILBOX_COUNTS : inboxCounts(q.inbox);
    const counts = stmt(this.db, totals.sql).get(...totals.params) as { total: number; unread: number };
    const plan = listPlan(q);
    if (!plan.count) {
      const rows = stmt(this.db, plan.page.sql).all(...plan.page.params) as unknown as SummaryRow[];
      return {
        ...counts,
        matched: counts.total,
        matchedUnread: counts.unread,
        messages: rows.map(toSummary),
      };
    }
    // Search statements vary with the query, so they are prepared per call rather than cached.
    const rows = this.db.prepare(plan.page.sql).all(...plan.page.params) as unknown as SummaryRow[];
    const matched = this.db.prepare(plan.count.sql).get(...plan.count.params) as {
      n: number;
      unread: number;
    };
    return {
      ...counts,
      matched: matched.n,
      matchedUnread: matched.unread,
      messages: rows.map(toSummary),
    };
  }

  async get(id: string): Promise<StoredMessage | null> {
    const row = stmt(this.db, `SELECT ${SUMMARY_COLUMNS} FROM messages WHERE id = ?`).get(id) as unknown as
      | SummaryRow
      | undefined;
    if (!row) return null;
    const body = stmt(this.db, 'SELECT parsed FROM message_body WHERE seq = ?').get(row.seq) as
      | { parsed: string }
      | undefined;
    return { ...toSummary(row), parsed: body ? parsedBody(body.parsed) : null };
  }

  async summaries(ids: readonly string[]): Promise<MessageSummary[]> {
    if (ids.length === 0) return [];
    const rows = stmt(
      this.db,
      `SELECT ${SUMMARY_COLUMNS} FROM messages WHERE id IN (SELECT value FROM json_each(?)) ORDER BY seq DESC`,
    ).all(JSON.stringify(ids)) as unknown as SummaryRow[];
    return rows.map(toSummary);
  }

  async getRaw(id: string): Promise<Uint8Array | null> {
    const row = stmt(
      this.db,
      'SELECT r.raw FROM messages m JOIN message_raw r ON r.seq = m.seq WHERE m.id = ?',
    ).get(id) as { raw: Uint8Array } | undefined;
    return row ? row.raw : null;
  }

  async latestId(): Promise<string | null> {
    const row = stmt(this.db, 'SELECT id FROM messages ORDER BY seq DESC LIMIT 1').get() as
      | { id: string }
      | undefined;
    return row?.id ?? null;
  }

  setRead(selection: Selection, read: boolean): Promise<string[]> {
    return this.writer.run('setRead', { selection, read });
  }

  delete(selection: Selection): Promise<string[]> {
    return this.writer.run('delete', { selection });
  }

  async tags(): Promise<string[]> {
    const rows = stmt(this.db, TAG_NAMES.sql).all() as { name: string }[];
    return rows.map((r) => r.name);
  }

  async tagCounts(): Promise<TagCount[]> {
    const rows = stmt(
      this.db,
      `SELECT t.name AS name, count(mt.seq) AS messages FROM tags t
       LEFT JOIN message_tags mt ON mt.tag_id = t.id GROUP BY t.id ORDER BY t.norm, t.name`,
    ).all() as unknown as TagCount[];
    return rows.map((r) => ({ name: r.name, messages: r.messages }));
  }

  setTags(ids: readonly string[], tags: readonly string[]): Promise<Map<string, string[]>> {
    return this.writer.run('setTags', { ids, tags });
  }

  renameTag(from: string, to: string): Promise<RenameTagOutcome> {
    return this.writer.run('renameTag', { from, to });
  }

  deleteTag(name: string): Promise<boolean> {
    return this.writer.run('deleteTag', { name });
  }

  async prune(limits: RetentionLimits): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.writer.run('prune', limits);
      total += n;
      if (n < PRUNE_BATCH) return total;
    }
  }

  async stats(): Promise<StoreStats> {
    const r = stmt(
      this.db,
      'SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes, coalesce(sum(read = 0), 0) AS unread FROM messages',
    ).get() as { n: number; bytes: number; unread: number };
    let databaseBytes = 0;
    for (const suffix of ['', '-wal']) {
      try {
        databaseBytes += fs.statSync(this.file + suffix).size;
      } catch {}
    }
    return { messages: r.n, unread: r.unread, bytes: r.bytes, databaseBytes };
  }

  async inboxCounts(): Promise<InboxCount[]> {
    const rows = stmt(
      this.db,
      'SELECT inbox, count(*) AS messages, coalesce(sum(read = 0), 0) AS unread FROM messages GROUP BY inbox ORDER BY inbox',
    ).all() as unknown as InboxCount[];
    return rows.map((r) => ({ inbox: r.inbox, messages: Number(r.messages), unread: Number(r.unread) }));
  }

  async ping(): Promise<void> {
    stmt(this.db, 'SELECT 1').get();
  }

  async close(): Promise<void> {
    this.db.close();
    await this.writer.close();
  }
}
