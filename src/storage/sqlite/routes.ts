// SQLite side of the route store: reads on the calling thread's connection, writes through the
// writer thread (route-ops.ts).
import type { DatabaseSync } from 'node:sqlite';
import type { Route } from '../../domain/route.ts';
import type { RouteStore } from '../ports.ts';
import { type RouteRow, toRoute } from './route-sql.ts';
import { stmt } from './statements.ts';
import type { SqliteWriter } from './writer.ts';

export class SqliteRoutes implements RouteStore {
  private readonly db: DatabaseSync;
  private readonly writer: SqliteWriter;

  constructor(db: DatabaseSync, writer: SqliteWriter) {
    this.db = db;
    this.writer = writer;
  }

  async routes(): Promise<Route[]> {
    const rows = stmt(this.db, 'SELECT * FROM routes ORDER BY priority, id').all() as unknown as RouteRow[];
    return rows.map(toRoute);
  }

  async route(id: string): Promise<Route | null> {
    const row = stmt(this.db, 'SELECT * FROM routes WHERE id = ?').get(id) as unknown as RouteRow | undefined;
    return row ? toRoute(row) : null;
  }

  saveRoute(route: Route, maxRoutes: number): Promise<boolean> {
    return this.writer.run('saveRoute', { route, maxRoutes });
  }

  deleteRoute(id: string): Promise<boolean> {
    return this.writer.run('deleteRoute', { id });
  }

  async routesVersion(): Promise<string> {
    const r = stmt(this.db, 'SELECT count(*) AS n, max(updated_at) AS at FROM routes').get() as {
      n: number;
      at: string | null;
    };
    return `${r.n}:${r.at ?? ''}`;
  }
}
