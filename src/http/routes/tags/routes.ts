// Tag endpoints of Mailpit's API v1: list, set on messages, rename, delete. Mailpit answers an
// unknown tag or a clash with 400, so Mailroom does too.
import { Hono } from 'hono';
import { cleanTag } from '../../../domain/tags.ts';
import type { AppEnv, HttpDeps } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { mailboxFor } from '../../mailbox.ts';
import { readJsonBody, validate } from '../../validate.ts';
import { renameTagBody, setTagsBody, tagParam } from './schema.ts';

const INVALID_TAG =
  'Tag names hold letters, digits, spaces and . _ - + / : @, start with a letter or digit, and are at most 100 characters.';

export function tagRoutes(deps: HttpDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { storage, events } = deps;

  app.get('/tags', async (c) => c.json(await storage.tags()));

  app.put('/tags', async (c) => {
    const body = validate(setTagsBody, await readJsonBody(c.req), 'body');
    const bad = body.Tags.find((t) => t.trim() !== '' && cleanTag(t) === null);
    if (bad !== undefined) throw new HttpProblem('bad-request', `Invalid tag "${bad}". ${INVALID_TAG}`);
    const changed = await mailboxFor(storage, c).setTags(body.IDs, body.Tags);
    for (const [id, tags] of changed) events.emit('message:updated', { id, tags });
    return c.text('ok');
  });

  app.put('/tags/:tag', async (c) => {
    const from = validate(tagParam, c.req.param('tag'), 'tag');
    const { Name } = validate(renameTagBody, await readJsonBody(c.req), 'body');
    if (cleanTag(Name) === null)
      throw new HttpProblem('bad-request', `Invalid tag "${Name}". ${INVALID_TAG}`);
    const outcome = await storage.renameTag(from, Name);
    if (outcome === 'not-found') throw new HttpProblem('bad-request', `There is no tag "${from}".`);
    if (outcome === 'exists') throw new HttpProblem('bad-request', `A tag "${Name}" already exists.`);
    events.emit('tags:changed', {});
    return c.text('ok');
  });

  app.delete('/tags/:tag', async (c) => {
    const name = validate(tagParam, c.req.param('tag'), 'tag');
    if (!(await storage.deleteTag(name))) throw new HttpProblem('bad-request', `There is no tag "${name}".`);
    events.emit('tags:changed', {});
    return c.text('ok');
  });

  return app;
}
