// Writes of the route store, run in the SQLite writer thread: the count of routes and the insert
// of a new one cannot be split by another save.
import type { DatabaseSync } from 'node:sqlite';
import type { Route } from '../../domain/route.ts';
import { stmt } from './statements.ts';

export const routeOps = {
  saveRoute(db: DatabaseSync, args: { route: Route; maxRoutes: number }): boolean {
    const r = args.route;
    const exists = stmt(db, 'SELECT 1 AS x FROM routes WHERE id = ?').get(r.id) !== undefined;
    if (!exists) {
      const { n } = stmt(db, 'SELECT count(*) AS n FROM routes').get() as { n: number };
      if (n >= args.maxRoutes) return false;
    }
    stmt(
      db,
      `INSERT INTO routes (id, name, priority, enabled, match, conditions, actions, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, priority = excluded.priority,
         enabled = excluded.enabled, match = excluded.match, conditions = excluded.conditions,
         actions = excluded.actions, updated_at = excluded.updated_at`,
    ).run(
      r.id,
      r.name,
      r.priority,
      r.enabled ? 1 : 0,
      r.match,
      JSON.stringify(r.conditions),
      JSON.stringify(r.actions),
      r.createdAt,
      r.updatedAt,
    );
    return true;
  },

  deleteRoute(db: DatabaseSync, args: { id: string }): boolean {
    return stmt(db, 'DELETE FROM routes WHERE id = ?').run(args.id).changes > 0;
  },
} as const;
