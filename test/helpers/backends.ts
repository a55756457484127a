// Storage backends for contract tests. Every suite runs once per backend; PostgreSQL gets a fresh
// database per suite on the server named by MAILROOM_TEST_DATABASE_URL (default: local server on
// 127.0.0.1:5432). A missing server fails the suite loudly: it is never skipped.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import pg from 'pg';
import type { Storage } from '../../src/storage/ports.ts';
import { PostgresStorage } from '../../src/storage/postgres/store.ts';
import { SqliteStorage } from '../../src/storage/sqlite/store.ts';

export const TEST_PG_URL =
  process.env.MAILROOM_TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** A fresh, empty, migrated store plus the settings that reach it, and a cleanup. */
  create(): Promise<{ storage: Storage; dataDir: string; databaseUrl: string; cleanup(): Promise<void> }>;
}

export function tempDir(prefix = 'mailroom-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Creates an empty PostgreSQL database and returns its URL and a function that drops it. */
export async function freshPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `mailroom_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    async create() {
      const dataDir = tempDir();
      const storage = await SqliteStorage.open(dataDir);
      return {
        storage,
        dataDir,
        databaseUrl: '',
        async cleanup() {
          await storage.close();
          fs.rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    async create() {
      const db = await freshPostgresDatabase();
      const storage = await PostgresStorage.open(db.url);
      const dataDir = tempDir();
      return {
        storage,
        dataDir,
        databaseUrl: db.url,
        async cleanup() {
          await storage.close();
          await db.drop();
          fs.rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  },
];

/**
 * Inside a describe(): a SQLite store in a fresh directory, opened before the suite and closed and
 * removed after it. Returns its getter (the store exists once the suite's hooks ran).
 */
export function sqliteForSuite(): () => SqliteStorage {
  const dir = tempDir();
  let storage: SqliteStorage | null = null;
  before(async () => {
    storage = await SqliteStorage.open(dir);
  });
  after(async () => {
    await storage?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => storage!;
}
