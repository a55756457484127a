// PostgreSQL side of the route store. Saves take an advisory lock so that the count of routes and
// the insert of a new one are atomic across nodes.
import type pg from 'pg';
import type { Route } from '../../domain/route.ts';
import type { RouteStore } from '../ports.ts';
import { inTransaction } from './transaction.ts';

/** Serialises route creation across nodes (the limit on their number). */
const SAVE_LOCK_KEY = 0x726f7574; // 'rout' in ASCII

interface RouteRow {
  id: string;
  name: string;
  priority: number;
  enabled: boolean;
  match: Route['match'];
  conditions: Route['conditions'];
  actions: Route['actions'];
  created_at: Date;
  updated_at: Date;
}

function toRoute(r: RouteRow): Route {
  return {
    id: r.id,
    name: r.name,
    priority: r.priority,
    enabled: r.enabled,
    match: r.match,
    conditions: r.conditions,
    actions: r.actions,
    source: 'api',
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

export class PostgresRoutes implements RouteStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  async routes(): Promise<Route[]> {
    const { rows } = await this.pool.query<RouteRow>('SELECT * FROM routes ORDER BY priority, id');
    return rows.map(toRoute);
  }

  async route(id: string): Promise<Route | null> {
    const { rows } = await this.pool.query<RouteRow>('SELECT * FROM routes WHERE id = $1', [id]);
    return rows[0] ? toRoute(rows[0]) : null;
  }

  saveRoute(r: Route, maxRoutes: number): Promise<boolean> {
    return inTransaction(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [SAVE_LOCK_KEY]);
      const { rows } = await c.query<{ exists: boolean; n: string }>(
        'SELECT EXISTS (SELECT 1 FROM routes WHERE id = $1) AS exists, (SELECT count(*) FROM routes) AS n',
        [r.id],
      );
      if (!rows[0]!.exists && Number(rows[0]!.n) >= maxRoutes) return false;
      await c.query(
        `INSERT INTO routes (id, name, priority, enabled, match, conditions, actions, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, priority = EXCLUDED.priority,
           enabled = EXCLUDED.enabled, match = EXCLUDED.match, conditions = EXCLUDED.conditions,
           actions = EXCLUDED.actions, updated_at = EXCLUDED.updated_at`,
        [
          r.id,
          r.name,
          r.priority,
          r.enabled,
          r.match,
          JSON.stringify(r.conditions),
          JSON.stringify(r.actions),
          r.createdAt,
          r.updatedAt,
        ],
      );
      return true;
    });
  }

  async deleteRoute(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM routes WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }

  async routesVersion(): Promise<string> {
    const { rows } = await this.pool.query<{ n: string; at: Date | null }>(
      'SELECT count(*) AS n, max(updated_at) AS at FROM routes',
    );
    return `${rows[0]!.n}:${rows[0]!.at?.toISOString() ?? ''}`;
  }
}
