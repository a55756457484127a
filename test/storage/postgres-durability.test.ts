// PostgreSQL-only: spool commits wait for the WAL flush even where the database is set not to.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { createPool } from '../../src/storage/postgres/open.ts';
import { BEGIN_DURABLE } from '../../src/storage/postgres/spool-commit.ts';
import { freshPostgresDatabase } from '../helpers/backends.ts';

describe('postgres synchronous_commit', () => {
  it('spool transactions raise off and local to on, and keep stronger settings', async () => {
    const db = await freshPostgresDatabase();
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    const name = new URL(db.url).pathname.slice(1);
    try {
      for (const [configured, expected] of [
        ['off', 'on'],
        ['local', 'on'],
        ['remote_apply', 'remote_apply'],
      ] as const) {
        await admin.query(`ALTER DATABASE ${name} SET synchronous_commit = '${configured}'`);
        const pool = createPool(db.url, { size: 1 });
        const client = await pool.connect();
        await client.query(BEGIN_DURABLE);
        const { rows } = await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
        await client.query('ROLLBACK');
        // Only the spool transaction is raised; the session keeps the configured value.
        const after = await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
        client.release();
        assert.equal(rows[0]?.synchronous_commit, expected, `configured ${configured}`);
        assert.equal(after.rows[0]?.synchronous_commit, configured);
        await pool.end();
      }
    } finally {
      await admin.end();
      await db.drop();
    }
  });
});
