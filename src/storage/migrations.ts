// Numbered SQL migrations, one folder per engine (001_x.sql, 002_y.sql ...). Numbers are per
// engine: PostgreSQL has changes SQLite does not need (its 004–006), so one change can carry
// different numbers (the outbound queue is SQLite 004, PostgreSQL 007); each file names its twin.
import fs from 'node:fs';
import path from 'node:path';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function readMigrations(dir: string): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      version: Number(f.slice(0, 3)),
      name: f.slice(4, -4),
      sql: fs.readFileSync(path.join(dir, f), 'utf8'),
    }));
}
