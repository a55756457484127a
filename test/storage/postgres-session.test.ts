// PostgreSQL-only: the session settings Mailroom's pool asks for, and the server settings it warns about.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPool } from '../../src/storage/postgres/open.ts';
import { PostgresStorage } from '../../src/storage/postgres/store.ts';
import { freshPostgresDatabase } from '../helpers/backends.ts';

describe('postgres sessions', () => {
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  before(async () => {
    db = await freshPostgresDatabase();
  });
  after(async () => {
    await db.drop();
  });

  it('plan for SSDs (random_page_cost 1.1), so analysed search tables still use their GIN indexes', async () => {
    const pool = createPool(db.url, { size: 1 });
    try {
      const { rows } = await pool.query<{ random_page_cost: string }>('SHOW random_page_cost');
      assert.equal(rows[0]?.random_page_cost, '1.1');
    } finally {
      await pool.end();
    }
  });

  it('leave the planner alone when the database URL sets its own options', async () => {
    const url = new URL(db.url);
    url.searchParams.set('options', '-c random_page_cost=2.5');
    const pool = createPool(url.href, { size: 1 });
    try {
      const { rows } = await pool.query<{ random_page_cost: string }>('SHOW random_page_cost');
      assert.equal(rows[0]?.random_page_cost, '2.5');
    } finally {
      await pool.end();
    }
  });

  it('warn exactly when the server runs without autovacuum', async () => {
    const storage = await PostgresStorage.open(db.url);
    try {
      const pool = createPool(db.url, { size: 1 });
      const { rows } = await pool.query<{ on: string }>("SELECT current_setting('autovacuum') AS on");
      await pool.end();
      const warnings = await storage.serverWarnings();
      if (rows[0]?.on === 'on') assert.deepEqual(warnings, []);
      else assert.match(warnings.join('\n'), /autovacuum is off/);
    } finally {
      await storage.close();
    }
  });
});
