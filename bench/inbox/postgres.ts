// bench/inbox: a throw-away PostgreSQL database per benchmark run, on the server named by
// MAILROOM_BENCH_DATABASE_URL (default: the local server on 127.0.0.1:5432).
import pg from 'pg';

export const BENCH_PG_URL =
  process.env.MAILROOM_BENCH_DATABASE_URL || 'postgres://root@127.0.0.1:5432/postgres';

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: BENCH_PG_URL });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(
      `cannot reach PostgreSQL for the benchmark (set MAILROOM_BENCH_DATABASE_URL): ${(err as Error).message}`,
    );
  }
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Creates an empty database with a random name; `drop` removes it (and any open sessions). */
export async function scratchDatabase(): Promise<ScratchDatabase> {
  const name = `mailroom_bench_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(BENCH_PG_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * A server with autovacuum on (PostgreSQL's default) vacuums and analyses the tables a fill has
 * just rewritten; one with it off never does, and plans then rest on no statistics at all. On such
 * a server the benchmark runs VACUUM (ANALYZE) itself once, and says so; otherwise it does nothing.
 */
export async function vacuumUnlessAutovacuum(url: string): Promise<string | null> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ on: string }>("SELECT current_setting('autovacuum') AS on");
    if (rows[0]?.on === 'on') return null;
    const started = performance.now();
    await c.query('VACUUM (ANALYZE)');
    return `autovacuum is off on this PostgreSQL server: ran VACUUM (ANALYZE) after the fill, as autovacuum would have (${((performance.now() - started) / 1000).toFixed(1)} s)`;
  } finally {
    await c.end();
  }
}
