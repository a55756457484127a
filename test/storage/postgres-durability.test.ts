// PostgreSQL-only: spool commits wait for the WAL flush even where the database is set not to.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { createPool } from '../../src/storage/postgres/open.ts';
import { freshPostgresDatabase } from '../helpers/backends.ts';

describe('postgres synchronous_commit', () => {
  it('raises off to on for Mailroom connections, and keeps stronger settings', async () => {
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
        const { rows } = await pool.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
        assert.equal(rows[0]?.synchronous_commit, expected, `configured ${configured}`);
        await pool.end();
      }
    } finally {
      await admin.end();
      await db.drop();
    }
  });
});
