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
