// Inbound routes: list, read, create, replace, delete, and a dry run on a message. Routes from the
// routes file are listed but cannot be changed here.
import { Hono } from 'hono';
import { newMessageId } from '../../../domain/ids.ts';
import { ROUTE_LIMITS, type Route } from '../../../domain/route.ts';
import { readOwnResults } from '../../../ingest/auth-results-read.ts';
import type { MimeParser } from '../../../mime/types.ts';
import { dryRun } from '../../../routing/dry-run.ts';
import type { RouteBook } from '../../../routing/route-book.ts';
import { presentRoute, type RouteBody, routeFromBody } from '../../../routing/route-schema.ts';
import { RouteError, Router } from '../../../routing/router.ts';
import { routingMessage } from '../../../routing/routing-message.ts';
import type { RouteStore, Storage } from '../../../storage/ports.ts';
import type { AppEnv } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { readJsonBody, validate } from '../../validate.ts';
import { routeBody, routeId, routeTestBody } from './schema.ts';

export interface RouteApiDeps {
  store: RouteStore;
  book: RouteBook;
  messages: Pick<Storage, 'get'>;
  parser: MimeParser;
  budgetMs: number;
  /** Our host name, whose Authentication-Results a stored message's auth conditions read. */
  hostname: string;
  now: () => number;
}

export function inboundRouteRoutes(deps: RouteApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { store, book } = deps;

  const checked = (route: Route): Route => {
    try {
      new Router([route], { budgetMs: deps.budgetMs });
    } catch (err) {
      if (err instanceof RouteError) throw new HttpProblem('bad-request', `Invalid route: ${err.message}`);
      throw err;
    }
    return route;
  };

  const save = async (id: string, body: RouteBody): Promise<{ route: Route; created: boolean }> => {
    if (book.isFileRoute(id))
      throw new HttpProblem('conflict', `Route ${id} comes from the routes file; change it there.`);
    const now = new Date(deps.now()).toISOString();
    const before = await store.route(id);
    const route = checked(
      routeFromBody(id, body, 'api', { createdAt: before?.createdAt ?? now, updatedAt: now }),
    );
    if (!(await store.saveRoute(route, ROUTE_LIMITS.routes - book.fileRoutes.length)))
      throw new HttpProblem('conflict', `There are ${ROUTE_LIMITS.routes} routes already; delete one first.`);
    book.invalidate();
    return { route, created: before === null };
  };

  app.get('/routes', async (c) => c.json({ routes: (await book.all()).map(presentRoute) }));

  app.post('/routes/test', async (c) => {
    const body = validate(routeTestBody, await readJsonBody(c.req), 'route test');
    const m = await testMessage(deps, body);
    const router = body.Route
      ? new Router([checked(routeFromBody('tested', body.Route, 'api', { createdAt: '', updatedAt: '' }))], {
          budgetMs: deps.budgetMs,
        })
      : await book.router();
    const run = dryRun(router, m);
    return c.json({
      Outcome: run.outcome,
      StoppedBy: run.stoppedBy,
      Routes: run.routes.map((r) => ({
        ID: r.routeId,
        Name: r.name,
        Matched: r.matched,
        Reason: r.reason,
        TimedOut: r.timedOut,
        Captures: r.captures,
        Recipient: r.recipient,
        Actions: r.actions.map((a) => ({ Type: a.type, WouldDo: a.wouldDo })),
      })),
    });
  });

  app.post('/routes', async (c) => {
    const body = validate(routeBody, await readJsonBody(c.req), 'route');
    const { route } = await save(newMessageId(), body);
    return c.json(presentRoute(route), 201);
  });

  app.get('/routes/:id', async (c) => {
    const id = validate(routeId, c.req.param('id'), 'route ID');
    const route = (await book.all()).find((r) => r.id === id);
    if (!route) throw new HttpProblem('not-found', `There is no route ${id}.`);
    return c.json(presentRoute(route));
  });

  app.put('/routes/:id', async (c) => {
    const id = validate(routeId, c.req.param('id'), 'route ID');
    const body = validate(routeBody, await readJsonBody(c.req), 'route');
    const { route, created } = await save(id, body);
    return c.json(presentRoute(route), created ? 201 : 200);
  });

  app.delete('/routes/:id', async (c) => {
    const id = validate(routeId, c.req.param('id'), 'route ID');
    if (book.isFileRoute(id))
      throw new HttpProblem('conflict', `Route ${id} comes from the routes file; remove it there.`);
    if (!(await store.deleteRoute(id))) throw new HttpProblem('not-found', `There is no route ${id}.`);
    book.invalidate();
    return c.text('ok');
  });

  return app;
}

/** The message a dry run routes: a stored one as it arrived, or raw bytes with an envelope. */
async function testMessage(
  deps: RouteApiDeps,
  body: { Raw?: string; ID?: string; From?: string; To?: string[] },
) {
  if (body.ID !== undefined) {
    const stored = await deps.messages.get(body.ID);
    if (!stored) throw new HttpProblem('message-not-found', `There is no message ${body.ID}.`);
    if (!stored.parsed) throw new HttpProblem('conflict', `Message ${body.ID} is not parsed (yet).`);
    return routingMessage({
      mailFrom: stored.envelope.mailFrom,
      rcptTo: stored.envelope.rcptTo,
      size: stored.size,
      parsed: stored.parsed,
      auth: readOwnResults(stored.parsed.headers ?? [], deps.hostname),
    });
  }
  const raw = new TextEncoder().encode(body.Raw ?? '');
  const size = raw.byteLength;
  let parsed: Awaited<ReturnType<MimeParser['parse']>>;
  try {
    parsed = await deps.parser.parse(raw);
  } catch (err) {
    throw new HttpProblem('bad-request', `The message cannot be read: ${(err as Error).message}`);
  }
  const rcptTo = body.To ?? [...parsed.to, ...parsed.cc].map((a) => a.Address).filter((a) => a !== '');
  return routingMessage({ mailFrom: body.From ?? parsed.from?.Address ?? '', rcptTo, size, parsed });
}
