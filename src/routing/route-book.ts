// The routes in force: those of the routes file and those stored through the API, compiled into
// one Router. The stored ones may change on any node; the book looks at the store's version at
// most every `recheckMs` and rebuilds the router when it moved.
import fs from 'node:fs';
import { z } from 'zod';
import type { Route } from '../domain/route.ts';
import type { RouteStore } from '../storage/ports.ts';
import { routeBody, routeFromBody, routeId } from './route-schema.ts';
import { Router, routeOrder } from './router.ts';

export interface RouteBookDeps {
  store: RouteStore;
  /** The routes file's routes (read-only through the API). */
  fileRoutes: readonly Route[];
  budgetMs: number;
  now: () => number;
  recheckMs?: number;
}

export class RouteBook {
  private readonly d: RouteBookDeps;
  private cached: { router: Router; version: string; checkedAt: number } | null = null;

  constructor(deps: RouteBookDeps) {
    this.d = deps;
    // A bad file route stops start-up with its name rather than failing every message later.
    new Router(deps.fileRoutes, { budgetMs: deps.budgetMs });
  }

  get fileRoutes(): readonly Route[] {
    return this.d.fileRoutes;
  }

  isFileRoute(id: string): boolean {
    return this.d.fileRoutes.some((r) => r.id === id);
  }

  /** Every route, file and stored, in evaluation order. */
  async all(): Promise<Route[]> {
    return [...this.d.fileRoutes, ...(await this.d.store.routes())].sort(routeOrder);
  }

  /** A router over the routes now in force. */
  async router(): Promise<Router> {
    const now = this.d.now();
    const c = this.cached;
    if (c && now - c.checkedAt < (this.d.recheckMs ?? 1000)) return c.router;
    const version = await this.d.store.routesVersion();
    if (c && c.version === version) {
      c.checkedAt = now;
      return c.router;
    }
    const router = new Router(await this.all(), { budgetMs: this.d.budgetMs });
    this.cached = { router, version, checkedAt: now };
    return router;
  }

  /** Forgets the router, so the next call rebuilds it (after a change made on this node). */
  invalidate(): void {
    this.cached = null;
  }
}

const fileRoute = z.intersection(z.object({ ID: routeId }), routeBody);

/** Reads the routes file: a JSON array of routes, each with its ID and the API's fields. */
export function loadRoutesFile(file: string, now: string): Route[] {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`routes file ${file}: ${(err as Error).message}`);
  }
  const parsed = z.array(fileRoute).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`routes file ${file}: at ${issue.path.join('.') || 'the top'}: ${issue.message}`);
  }
  const ids = new Set<string>();
  return parsed.data.map((r) => {
    if (ids.has(r.ID)) throw new Error(`routes file ${file}: route ${r.ID} appears twice`);
    ids.add(r.ID);
    const { ID, ...body } = r;
    return routeFromBody(ID, body, 'config', { createdAt: now, updatedAt: now });
  });
}
