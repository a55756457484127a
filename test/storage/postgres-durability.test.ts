// PostgreSQL-only: Mailroom's sessions commit durably even where the database is set not to.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { createPool } from '../../src/storage/postgres/open.ts';
import { freshPostgresDatabase } from '../helpers/backends.ts';

describe('postgres synchronous_commit', () => {
  it('sessions raise off and local to on, keep other settings, and pin them against reloads', async () => {
    const db = await freshPostgresDatabase();
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    const name = new URL(db.url).pathname.slice(1);
    const show = async (c: pg.ClientBase) =>
      (await c.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]?.synchronous_commit;
    try {
      for (const [configured, expected] of [
        ['off', 'on'],
        ['local', 'on'],
        ['remote_write', 'remote_write'],
        ['remote_apply', 'remote_apply'],
      ] as const) {
        await admin.query(`ALTER DATABASE ${name} SET synchronous_commit = '${configured}'`);
        // A plain connection sees the configured value; a Mailroom session sees its own.
        const plain = new pg.Client({ connectionString: db.url });
        await plain.connect();
        assert.equal(await show(plain), configured);
        await plain.end();
        const pool = createPool(db.url, { size: 1 });
        const client = await pool.connect();
        assert.equal(await show(client), expected, `configured ${configured}`);
        // Set for the session: a value from a lower source (the database, a reloaded file) no
        // longer applies to it.
        const { rows } = await client.query<{ source: string }>(
          "SELECT source FROM pg_settings WHERE name = 'synchronous_commit'",
        );
        assert.equal(rows[0]?.source, 'session');
        client.release();
        await pool.end();
      }
    } finally {
      await admin.end();
      await db.drop();
    }
  });
});
