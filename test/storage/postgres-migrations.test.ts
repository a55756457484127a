// PostgreSQL-only: upgrading a store written under older migrations keeps what was searchable.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { parseSearch } from '../../src/search/query.ts';
import { readMigrations } from '../../src/storage/migrations.ts';
import { PostgresStorage } from '../../src/storage/postgres/store.ts';
import { freshPostgresDatabase } from '../helpers/backends.ts';

const MIGRATIONS = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../src/storage/postgres/migrations',
);

/**
 * A vector of a few KB with the phrase in it: over PostgreSQL's 2 KB TOAST threshold, under the
 * ~8 KB that fits in a heap row.
 */
function longText(i: number): string {
  const filler = Array.from({ length: 300 }, (_, k) => `word${(k * 7 + i) % 199}`).join(' ');
  return `${filler} your parcel has shipped today ${filler.split(' ').reverse().join(' ')}`;
}

/** A database at migration `upTo`, as an older Mailroom left it. */
async function databaseAt(client: pg.Client, upTo: number): Promise<void> {
  await client.query(
    'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)',
  );
  for (const m of readMigrations(MIGRATIONS).filter((x) => x.version <= upTo)) {
    await client.query(m.sql);
    await client.query('INSERT INTO schema_migrations VALUES ($1, $2, now())', [m.version, m.name]);
  }
}

describe('postgres migrations', () => {
  it('005 moves the word vectors of stored messages into their own rows, still searchable', async () => {
    const db = await freshPostgresDatabase();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await databaseAt(client, 4);
      for (let i = 0; i < 3; i++) {
        const id = `m${i}`;
        await client.query(
          `INSERT INTO messages (id, received_at, size, envelope, parse_state, subject)
           VALUES ($1, now(), 10, '{}', 'parsed', $2)`,
          [id, `old ${i}`],
        );
        // The third has no phrase: the upgrade must not make every old message match.
        const words = i < 2 ? longText(i) : `nothing here ${i}`;
        await client.query(
          `INSERT INTO message_search (seq, words)
           SELECT seq, to_tsvector('simple', $2) FROM messages WHERE id = $1`,
          [id, words],
        );
      }
      const toastOf = async (table: string) =>
        (
          await client.query<{ bytes: string }>(
            'SELECT pg_relation_size(reltoastrelid)::text AS bytes FROM pg_class WHERE relname = $1',
            [table],
          )
        ).rows[0]?.bytes;
      // Before: the long vectors went out of line, into the TOAST table.
      assert.notEqual(await toastOf('message_search'), '0');

      const storage = await PostgresStorage.open(db.url);
      try {
        const hits = await storage.list({ start: 0, limit: 10, query: parseSearch('"has shipped"') });
        assert.deepEqual(hits.messages.map((m) => m.subject).sort(), ['old 0', 'old 1']);
        const word = await storage.list({ start: 0, limit: 10, query: parseSearch('nothing') });
        assert.deepEqual(
          word.messages.map((m) => m.subject),
          ['old 2'],
        );
      } finally {
        await storage.close();
      }

      // After: the vectors (199 filler words and the 5 of the sentence) sit in the heap rows of
      // message_words, and nothing went to TOAST.
      const kept = await client.query(
        `SELECT 1 FROM message_words w JOIN messages m USING (seq)
         WHERE m.id IN ('m0', 'm1') AND length(w.words) = 204`,
      );
      assert.equal(kept.rowCount, 2);
      assert.equal(await toastOf('message_words'), '0');
      const column = await client.query(
        `SELECT 1 FROM information_schema.columns WHERE table_name = 'message_search' AND column_name = 'words'`,
      );
      assert.equal(column.rowCount, 0);
    } finally {
      await client.end();
      await db.drop();
    }
  });
});
