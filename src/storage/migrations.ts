// Numbered SQL migrations, one folder per engine (001_x.sql, 002_y.sql ...). A change both engines
// need has the same number in both; an engine-only change (PostgreSQL 004, 005) takes the next free
// number there, so numbers line up only while the engines change together.
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
