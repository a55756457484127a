// Rows of the routes table, read by the reader (routes.ts) and the writer thread (route-ops.ts).
import type { Route } from '../../domain/route.ts';

export interface RouteRow {
  id: string;
  name: string;
  priority: number;
  enabled: number;
  match: Route['match'];
  conditions: string;
  actions: string;
  created_at: string;
  updated_at: string;
}

export function toRoute(r: RouteRow): Route {
  return {
    id: r.id,
    name: r.name,
    priority: r.priority,
    enabled: r.enabled === 1,
    match: r.match,
    conditions: JSON.parse(r.conditions) as Route['conditions'],
    actions: JSON.parse(r.actions) as Route['actions'],
    source: 'api',
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
