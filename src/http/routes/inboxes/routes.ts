// GET /api/v1/inboxes: the inboxes of --inbox (domain/inbox.ts) with their message counts, for the
// web UI's sidebar and for scripts. Credentials limited to one inbox see only that one.
import { Hono } from 'hono';
import { z } from 'zod';
import { DEFAULT_INBOX, InboxBook } from '../../../domain/inbox.ts';
import type { AppEnv, HttpDeps } from '../../deps.ts';
import { inboxScopeOf } from '../../mailbox.ts';

export const inboxJson = z.object({
  Name: z.string().describe('The inbox name, as in `inbox:<name>` searches; `default` takes the rest'),
  Users: z.array(z.string()).describe('SMTP and web users whose mail lands here and who see only this inbox'),
  Recipients: z.array(z.string()).describe('Recipient patterns of unauthenticated mail filed here'),
  Messages: z.number().int(),
  Unread: z.number().int(),
});
export const inboxList = z.object({
  Inboxes: z.array(inboxJson),
  Scoped: z.boolean().describe('The credentials of this request see only the one inbox listed'),
});

export function inboxRoutes(deps: Pick<HttpDeps, 'storage' | 'config'>): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const book = InboxBook.parse(deps.config.inbox);

  app.get('/inboxes', async (c) => {
    const scope = inboxScopeOf(c);
    const counts = new Map((await deps.storage.inboxCounts()).map((n) => [n.inbox, n]));
    const all = [{ name: DEFAULT_INBOX, users: [], recipients: [] }, ...book.inboxes];
    const shown = all.filter((i) => scope === null || i.name === scope);
    const body: z.infer<typeof inboxList> = {
      Inboxes: shown.map((i) => ({
        Name: i.name,
        Users: [...i.users],
        Recipients: [...i.recipients],
        Messages: counts.get(i.name)?.messages ?? 0,
        Unread: counts.get(i.name)?.unread ?? 0,
      })),
      Scoped: scope !== null,
    };
    return c.json(body);
  });

  return app;
}
