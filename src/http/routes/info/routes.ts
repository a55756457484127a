// GET /api/v1/info: version, mailbox totals and runtime counters, in Mailpit's shape.
import { type Context, Hono } from 'hono';
import type { AppEnv, HttpDeps, RuntimeCounters } from '../../deps.ts';
import { mailboxFor } from '../../mailbox.ts';
import { openApiDocument } from '../../openapi/document.ts';
import { describeDatabase, presentInfo, presentWebUi } from './presenter.ts';

export function infoRoutes(deps: HttpDeps, counters: RuntimeCounters): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/info', async (c) => {
    const box = mailboxFor(deps.storage, c);
    return c.json(
      presentInfo({
        version: deps.version,
        database: describeDatabase(deps.storage.capabilities, deps.config),
        stats: await box.stats(),
        uptimeSeconds: Math.max(0, Math.floor((Date.now() - deps.startedAt) / 1000)),
        memoryBytes: process.memoryUsage().rss,
        messagesDeleted: counters.messagesDeleted,
        metrics: deps.metrics,
        // Tag counts run over every inbox: none for credentials limited to one.
        tags: box.inbox === null ? await deps.storage.tagCounts() : [],
      }),
    );
  });
  app.get('/webui', (c) => c.json(presentWebUi(deps.config)));
  let document: Record<string, unknown> | null = null;
  const openapi = (c: Context<AppEnv>) => {
    document ??= openApiDocument(deps.version);
    return c.json(document);
  };
  app.get('/openapi.json', openapi);
  // Where Mailpit serves its own API description.
  app.get('/swagger.json', openapi);
  return app;
}
