// Probes and metrics for orchestrators and Prometheus. /livez only says the process answers;
// /readyz also proves start-up finished and the database responds, so a load balancer can drain
// a node whose database is gone without restarting it.
import { Hono } from 'hono';
import type { AppEnv, HttpDeps } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';

/** A database that has not answered in this long counts as down for readiness. */
const PING_TIMEOUT_MS = 2000;

/** Prometheus text exposition format 0.0.4. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

async function pingWithin(ping: () => Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(deps: HttpDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/livez', (c) => c.text('ok'));

  app.get('/readyz', async (c) => {
    if (!deps.ready()) throw new HttpProblem('not-ready', 'Mailroom is starting up or shutting down.');
    try {
      await pingWithin(() => deps.storage.ping(), PING_TIMEOUT_MS);
    } catch (err) {
      c.get('log').warn({ err: (err as Error).message }, 'readiness: database ping failed');
      throw new HttpProblem('not-ready', 'The database does not respond.');
    }
    return c.text('ok');
  });

  app.get('/metrics', (c) =>
    c.body(deps.metrics.registry.render(), 200, { 'Content-Type': METRICS_CONTENT_TYPE }),
  );

  return app;
}
