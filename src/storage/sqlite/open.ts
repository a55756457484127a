// Opens a SQLite database with the settings Mailroom relies on, and applies migrations.
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { readMigrations } from '../migrations.ts';
import { CHECKPOINT_PAGES } from './checkpoints.ts';

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

export function openDatabase(file: string, opts: { readOnly?: boolean } = {}): DatabaseSync {
  const db = new DatabaseSync(file, { readOnly: opts.readOnly ?? false, timeout: 5000 });
  if (!opts.readOnly) {
    // WAL lets readers on the main thread run while the writer thread commits. synchronous=FULL
    // fsyncs the WAL at every commit: a message acknowledged with 250 survives power loss.
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    // Checkpoint in bigger steps than the default 1000 pages; fewer, larger copies under load.
    // The writer defers them further during a burst (./checkpoints.ts).
    db.exec(`PRAGMA wal_autocheckpoint = ${CHECKPOINT_PAGES}`);
  }
  db.exec('PRAGMA foreign_keys = ON');
  return db;
}

export function migrate(db: DatabaseSync): number {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const appliedVersions = () =>
    new Set(
      (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
        (r) => r.version,
      ),
    );
  let applied = 0;
  for (const m of readMigrations(MIGRATIONS_DIR)) {
    if (appliedVersions().has(m.version)) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      // Checked again under the write lock: another process may have applied it meanwhile.
      if (appliedVersions().has(m.version)) {
        db.exec('ROLLBACK');
        continue;
      }
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
      db.exec('COMMIT');
      applied++;
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }
  return applied;
}
