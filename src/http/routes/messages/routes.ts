// The mailbox endpoints of Mailpit's API v1: list (newest first), search, delete, read state.
import { Hono } from 'hono';
import type { SearchQuery } from '../../../search/ast.ts';
import { parseSearch, SearchSyntaxError } from '../../../search/query.ts';
import type { Selection } from '../../../storage/ports.ts';
import type { AppEnv, HttpDeps, RuntimeCounters } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { type Mailbox, mailboxFor } from '../../mailbox.ts';
import { readJsonBody, validate } from '../../validate.ts';
import { presentList } from './presenter.ts';
import { deleteBody, deleteSearchQuery, listQuery, readBody, readQuery, searchQuery } from './schema.ts';

/** Parses a search, turning a syntax error into a 400 that quotes the reason. */
export function parseSearchParam(text: string, timeZone: string | undefined): SearchQuery {
  try {
    return parseSearch(text, { timeZone });
  } catch (err) {
    if (err instanceof SearchSyntaxError)
      throw new HttpProblem('bad-request', `Invalid search: ${err.message}`);
    throw err;
  }
}

export function messagesRoutes(deps: HttpDeps, counters: RuntimeCounters): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { storage, events } = deps;

  const allTags = () => storage.tags();

  const deleteSelection = async (box: Mailbox, selection: Selection) => {
    const ids = await box.delete(selection);
    counters.messagesDeleted += ids.length;
    // "All" of one inbox is not all of the store: live clients of other inboxes keep their lists.
    const all = selection === 'all' && box.inbox === null;
    if (ids.length > 0) events.emit('message:deleted', { ids: all ? 'all' : ids });
    return ids;
  };

  app.get('/messages', async (c) => {
    const { start, limit } = validate(listQuery, c.req.query(), 'query');
    const [result, tags] = await Promise.all([mailboxFor(storage, c).list({ start, limit }), allTags()]);
    return c.json(presentList(result, start, tags));
  });

  app.get('/search', async (c) => {
    const { query, start, limit, tz } = validate(searchQuery, c.req.query(), 'query');
    // As in Mailpit, a search needs a query: an empty one is a 400, not the whole mailbox.
    if (query.trim() === '') throw new HttpProblem('bad-request', 'The search query is empty.');
    const parsed = parseSearchParam(query, tz);
    const [result, tags] = await Promise.all([
      mailboxFor(storage, c).list({ start, limit, query: parsed }),
      allTags(),
    ]);
    return c.json(presentList(result, start, tags));
  });

  app.delete('/search', async (c) => {
    const { query, tz } = validate(deleteSearchQuery, c.req.query(), 'query');
    const parsed = parseSearchParam(query, tz);
    // An empty search would match everything; as in Mailpit, it deletes nothing instead.
    if (parsed.clauses.length === 0) throw new HttpProblem('bad-request', 'The search is empty.');
    const ids = await deleteSelection(mailboxFor(storage, c), { query: parsed });
    c.get('log').info({ deleted: ids.length }, 'messages deleted by search through the API');
    return c.text('ok');
  });

  app.delete('/messages', async (c) => {
    // Mailpit deletes everything when no IDs are given. Unlike Mailpit, a body that is not valid
    // JSON is refused (400) rather than read as "delete all": a typo must not empty the mailbox.
    const body = validate(deleteBody, await readJsonBody(c.req), 'body');
    const selection: Selection = body?.IDs?.length ? body.IDs : 'all';
    const ids = await deleteSelection(mailboxFor(storage, c), selection);
    c.get('log').info({ deleted: ids.length, all: selection === 'all' }, 'messages deleted through the API');
    return c.text('ok');
  });

  app.put('/messages', async (c) => {
    // As in Mailpit, the body is required (an empty one is a 400), IDs and Search exclude each
    // other, and neither means every message.
    const body = validate(readBody, await readJsonBody(c.req), 'body');
    const { tz } = validate(readQuery, c.req.query(), 'query');
    if (body.IDs?.length && body.Search) {
      throw new HttpProblem('bad-request', 'Give either IDs or a search, not both.');
    }
    const selection: Selection = body.IDs?.length
      ? body.IDs
      : body.Search
        ? { query: parseSearchParam(body.Search, tz) }
        : 'all';
    const changed = await mailboxFor(storage, c).setRead(selection, body.Read);
    for (const id of changed) events.emit('message:updated', { id, read: body.Read });
    return c.text('ok');
  });

  return app;
}
