// The mailbox list endpoints of Mailpit's API v1: list (newest first), delete, set read state.
import { Hono } from 'hono';
import type { AppEnv, HttpDeps, RuntimeCounters } from '../../deps.ts';
import { readJsonBody, validate } from '../../validate.ts';
import { presentList } from './presenter.ts';
import { deleteBody, listQuery, readBody } from './schema.ts';

export function messagesRoutes(deps: HttpDeps, counters: RuntimeCounters): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { storage } = deps;

  app.get('/messages', async (c) => {
    const { start, limit } = validate(listQuery, c.req.query(), 'query');
    return c.json(presentList(await storage.list({ start, limit }), start));
  });

  app.delete('/messages', async (c) => {
    // Mailpit deletes everything when no IDs are given. Unlike Mailpit, a body that is not valid
    // JSON is refused (400) rather than read as "delete all": a typo must not empty the mailbox.
    const body = validate(deleteBody, await readJsonBody(c.req), 'body');
    const ids = body?.IDs?.length ? body.IDs : 'all';
    const deleted = await storage.delete(ids);
    counters.messagesDeleted += deleted;
    c.get('log').info({ deleted, all: ids === 'all' }, 'messages deleted through the API');
    return c.text('ok');
  });

  app.put('/messages', async (c) => {
    // As in Mailpit, the body is required (an empty one is a 400) and no IDs means every message.
    const body = validate(readBody, await readJsonBody(c.req), 'body');
    await storage.setRead(body.IDs?.length ? body.IDs : 'all', body.Read);
    return c.text('ok');
  });

  return app;
}
