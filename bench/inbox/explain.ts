// bench/inbox: where a slow request spends its time. For each request that missed its target, the
// statements the storage adapter runs for it are timed one by one against the benchmark's own
// store, with their query plans. They are the adapters' own (src/storage/postgres/list-sql.ts,
// src/storage/sqlite/list-sql.ts). Diagnostics only: the server's numbers are the ones measured
// over HTTP.
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { parseSearch } from '../../src/search/query.ts';
import { listStatements } from '../../src/storage/postgres/list-sql.ts';
import { listStatements as sqliteListStatements } from '../../src/storage/sqlite/list-sql.ts';
import { registerSearchFunctions } from '../../src/storage/sqlite/search-sql.ts';
import { median } from './latency.ts';

export interface StatementCost {
  label: string;
  medianMs: number;
  rows: number;
  plan: string[];
}

export interface Diagnosis {
  request: string;
  statements: StatementCost[];
}

interface Statement {
  label: string;
  sql: string;
  params: (string | number | unknown)[];
}

const RUNS = 5;
function sqliteStatements(search: string | null, start: number, limit: number): Statement[] {
  const query = search ? parseSearch(search) : undefined;
  return sqliteListStatements({ start, limit, query });
}

/** Times the SQLite statements behind each request in the database file `file` (opened read-only). */
export function diagnoseSqlite(
  file: string,
  requests: { label: string; search: string | null; start: number }[],
): Diagnosis[] {
  const db = new DatabaseSync(file, { readOnly: true });
  registerSearchFunctions(db);
  try {
    return requests.map((r) => ({
      request: r.label,
      statements: sqliteStatements(r.search, r.start, 50).map((s) => {
        const stmt = db.prepare(s.sql);
        const params = s.params as (string | number)[];
        const times: number[] = [];
        let rows = 0;
        for (let i = 0; i < RUNS; i++) {
          const t0 = performance.now();
          rows = stmt.all(...params).length;
          times.push(performance.now() - t0);
        }
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${s.sql}`).all(...params) as { detail: string }[]).map(
          (p) => p.detail,
        );
        return { label: s.label, medianMs: median(times), rows, plan };
      }),
    }));
  } finally {
    db.close();
  }
}

function postgresStatements(search: string | null, start: number, limit: number): Statement[] {
  const query = search ? parseSearch(search) : undefined;
  return listStatements({ start, limit, query });
}

/** Times the PostgreSQL statements behind each request, with EXPLAIN ANALYZE plans. */
export async function diagnosePostgres(
  url: string,
  requests: { label: string; search: string | null; start: number }[],
): Promise<Diagnosis[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const out: Diagnosis[] = [];
    for (const r of requests) {
      const statements: StatementCost[] = [];
      for (const s of postgresStatements(r.search, r.start, 50)) {
        const times: number[] = [];
        let rows = 0;
        for (let i = 0; i < RUNS; i++) {
          const t0 = performance.now();
          rows = (await c.query(s.sql, s.params)).rowCount ?? 0;
          times.push(performance.now() - t0);
        }
        const plan = (await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${s.sql}`, s.params)).rows.map(
          (p: Record<string, string>) => p['QUERY PLAN'] ?? '',
        );
        statements.push({ label: s.label, medianMs: median(times), rows, plan });
      }
      out.push({ request: r.label, statements });
    }
    return out;
  } finally {
    await c.end();
  }
}

/** Plan lines printed per statement; the JSON results keep every line. */
const PLAN_LINES = 8;

/** Human-readable lines for a diagnosis (plans cut short; the JSON results have them whole). */
export function formatDiagnoses(engine: string, ds: Diagnosis[]): string {
  const lines: string[] = [];
  for (const d of ds) {
    lines.push(`\n${engine}: ${d.request}, statement by statement (median of ${RUNS}, one connection):`);
    for (const s of d.statements) {
      lines.push(`  ${s.medianMs.toFixed(2).padStart(9)} ms  ${s.label} (${s.rows} rows)`);
      for (const p of s.plan.slice(0, PLAN_LINES)) lines.push(`               ${p}`);
      if (s.plan.length > PLAN_LINES)
        lines.push(`               … ${s.plan.length - PLAN_LINES} more plan lines in the JSON`);
    }
  }
  return lines.join('\n');
}
