// GET /api/v1/wait: a long poll that answers with the first message matching a search (at once if
// one is there), so CI scripts need no sleep loops; GET /api/v1/wait/cursor: where "from now on"
// starts. A cursor is a message's store sequence number; `after` a cursor sees only messages
// stored after it, oldest first, so each wait given the previous one's cursor sees each matching
// message exactly once.
import { Hono } from 'hono';
import { Gauge } from '../../../observability/metrics.ts';
import { withinInbox } from '../../../search/ast.ts';
import type { AppEnv, HttpDeps } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { inboxScopeOf, mailboxFor } from '../../mailbox.ts';
import { validate } from '../../validate.ts';
import { presentSummary } from '../messages/presenter.ts';
import { parseSearchParam } from '../messages/routes.ts';
import { waitQuery } from './schema.ts';
import { Waiters } from './waiters.ts';

function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export function waitRoutes(deps: HttpDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { storage, config } = deps;
  const waiters = new Waiters({
    storage,
    events: deps.events,
    logger: deps.logger,
    ready: deps.ready,
    max: config.waitMaxWaiters,
    remoteParses: storage.capabilities.multiNode || !config.roles.includes('worker'),
  });
  deps.metrics.registry.register(
    new Gauge('mailroom_api_waiters', 'Requests waiting at GET /api/v1/wait now.').collect(
      () => waiters.size,
    ),
  );

  app.get('/wait', async (c) => {
    const q = validate(waitQuery, c.req.query(), 'query');
    const asked = parseSearchParam(q.query, q.tz);
    // Credentials limited to one inbox wait in it only.
    const inbox = inboxScopeOf(c);
    const query = inbox === null ? asked : withinInbox(asked, inbox);
    const waiting = waiters.wait({
      query,
      after: q.after ?? null,
      timeoutMs: q.timeout,
      signal: c.req.raw.signal,
    });
    if (!waiting) {
      c.header('Retry-After', '1');
      throw new HttpProblem(
        'too-many-waiters',
        `${config.waitMaxWaiters} requests are waiting already (--wait-max-waiters); try again shortly.`,
      );
    }
    const outcome = await waiting;
    switch (outcome.kind) {
      case 'found':
        return c.json({ Cursor: String(outcome.message.seq), Message: presentSummary(outcome.message) });
      case 'closing':
        throw new HttpProblem('not-ready', 'The server is shutting down; wait again once it is back.');
      default:
        // 'gone' too: nobody reads that answer.
        throw new HttpProblem(
          'wait-timeout',
          `No message matching the search arrived within ${duration(q.timeout)}.`,
        );
    }
  });

  app.get('/wait/cursor', async (c) => {
    const { messages } = await mailboxFor(storage, c).list({ start: 0, limit: 1 });
    return c.json({ Cursor: String(messages[0]?.seq ?? 0) });
  });

  return app;
}
