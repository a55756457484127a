// Checks of one message for developers and CI: what it links to and the code it carries
// (extract), how mail programs will render its HTML (html-check, caniemail's tables), whether its
// links answer (link-check, through the address policy that guards webhooks), and whether its
// unsubscribe fields are right (list-unsubscribe). `{ID}` may be `latest`.
import dns from 'node:dns/promises';
import { Hono } from 'hono';
import { extractFromMessage } from '../../../checks/extract.ts';
import { checkLinks } from '../../../checks/link-check.ts';
import { extractLinks } from '../../../checks/links.ts';
import { checkListUnsubscribe } from '../../../checks/list-unsubscribe.ts';
import type { ParsedMessage } from '../../../domain/message.ts';
import { createAddressPolicy } from '../../../net/address-policy.ts';
import type { AppEnv, HttpDeps } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { type Mailbox, mailboxFor } from '../../mailbox.ts';
import { validate } from '../../validate.ts';
import { linkCheckQuery } from './checks-schema.ts';
import { parseHeaders } from './headers.ts';
import { loadMessage, rawOf, resolveId } from './load.ts';

/** A whole link check ends after this, whatever is left; one slow server cannot hold a request. */
export const LINK_CHECK_BUDGET_MS = 60_000;

async function parsedOf(deps: HttpDeps, id: string, mailbox: Mailbox): Promise<ParsedMessage> {
  const { parsed, error } = await loadMessage(deps, id, mailbox);
  if (!parsed)
    throw new HttpProblem('bad-request', `The message could not be parsed: ${error ?? 'unknown error'}`);
  return parsed;
}

export function checkRoutes(deps: HttpDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // The same allow list as webhooks: one place says which internal hosts Mailroom may reach.
  const policy = createAddressPolicy({ allow: deps.config.webhookAllow });
  const resolver = deps.linkResolver ?? new dns.Resolver({ timeout: 5000, tries: 2 });

  app.get('/message/:id/extract', async (c) => {
    const m = await parsedOf(deps, c.req.param('id'), mailboxFor(deps.storage, c));
    return c.json(extractFromMessage({ subject: m.subject, text: m.text, html: m.html }));
  });

  app.get('/message/:id/html-check', async (c) => {
    const m = await parsedOf(deps, c.req.param('id'), mailboxFor(deps.storage, c));
    // As in Mailpit, a message without HTML has nothing to check.
    if (m.html.trim() === '') throw new HttpProblem('bad-request', 'The message has no HTML part.');
    // caniemail's tables (650 KB of JSON) are loaded on first use, not at every start.
    const { checkHtml } = await import('../../../checks/html-check.ts');
    return c.json(checkHtml(m.html));
  });

  app.get('/message/:id/link-check', async (c) => {
    const { follow } = validate(linkCheckQuery, c.req.query(), 'query');
    const m = await parsedOf(deps, c.req.param('id'), mailboxFor(deps.storage, c));
    const urls = extractLinks({ text: m.text, html: m.html })
      .filter((l) => l.Scheme === 'http' || l.Scheme === 'https')
      .map((l) => l.URL);
    const result = await checkLinks(urls, {
      policy,
      resolver,
      timeoutMs: deps.config.linkCheckTimeout,
      follow: follow === 'true' || follow === '1',
      userAgent: `Mailroom/${deps.version} (link check)`,
      signal: AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(LINK_CHECK_BUDGET_MS)]),
    });
    return c.json(result);
  });

  app.get('/message/:id/list-unsubscribe', async (c) => {
    // The header section is all it needs: no parse.
    const box = mailboxFor(deps.storage, c);
    const raw = await rawOf(box, await resolveId(box, c.req.param('id')));
    return c.json(checkListUnsubscribe(parseHeaders(raw)));
  });

  return app;
}
