// What routing did with a received message (its route and action events, and each action job),
// and replaying an action job: a webhook or publish that failed for good runs again.

import { Hono } from 'hono';
import { z } from 'zod';
import { inboxOf } from '../../../domain/inbox.ts';
import { readOwnResults } from '../../../ingest/auth-results-read.ts';
import { authservIdFor } from '../../../ingest/sender-auth-format.ts';
import { authservIdOf } from '../../../ingest/sender-auth-headers.ts';
import type { ActionJob, InboundStore } from '../../../storage/inbound-ports.ts';
import type { Storage } from '../../../storage/ports.ts';
import type { AppEnv } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { inboxScopeOf } from '../../mailbox.ts';
import { validate } from '../../validate.ts';
import { actionJobId } from './schema.ts';

const messageId = z.string().regex(/^[0-9A-Za-z]{22}$/, 'not a message ID');

export function presentActionJob(j: ActionJob) {
  return {
    ID: j.id,
    MessageID: j.messageId,
    RouteID: j.routeId,
    Index: j.actionIndex,
    Type: j.action.type,
    State: j.state,
    Attempts: j.attempts,
    NextAttemptAt: j.state === 'pending' ? j.nextAttemptAt : null,
    ExpiresAt: j.expiresAt,
    LastError: j.lastError,
    Captures: j.captures,
    CreatedAt: j.createdAt,
    UpdatedAt: j.updatedAt,
  };
}

/** Doors whose mail gets our sender checks, or has forged results in our name renamed. */
const CHECKED_LISTENERS = new Set(['smtp', 'smtps', 'imap', 'pop3']);

/** Our sender checks of a stored message: each method's result and our header as written. */
function authentication(headers: readonly (readonly [string, string])[], hostname: string) {
  const results = readOwnResults(headers, hostname);
  if (!results) return null;
  const ours = authservIdFor(hostname).toLowerCase();
  const field = headers.find(
    ([n, v]) => n === 'authentication-results' && authservIdOf(v)?.toLowerCase() === ours,
  );
  return {
    SPF: results.spf,
    DKIM: results.dkim,
    DMARC: results.dmarc,
    ARC: results.arc,
    Header: field?.[1].replace(/\r?\n[ \t]+/g, ' ').trim() ?? '',
  };
}

export function actionRoutes(deps: {
  inbound: InboundStore;
  messages: Pick<Storage, 'get'>;
  /** Our authserv-id: only the Authentication-Results we wrote are shown as ours. */
  hostname: string;
  now: () => number;
  lifetimeMs: number;
  onDue: () => void;
}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/message/:id/routing', async (c) => {
    const id = validate(messageId, c.req.param('id'), 'message ID');
    const [message, events, jobs] = await Promise.all([
      deps.messages.get(id),
      deps.inbound.inboundEvents(id),
      deps.inbound.actionJobs({ messageId: id, start: 0, limit: 1000 }),
    ]);
    // Credentials limited to an inbox see no message of another (http/mailbox.ts).
    const scope = inboxScopeOf(c);
    if (!message || (scope !== null && inboxOf(message.envelope) !== scope))
      throw new HttpProblem('not-found', `There is no message ${id}.`);
    return c.json({
      Listener: message.envelope.listener,
      // Null when we did not check the sender (mail that was not received as MX or polled mail).
      Authentication:
        message.parsed && CHECKED_LISTENERS.has(message.envelope.listener)
          ? authentication(message.parsed.headers ?? [], deps.hostname)
          : null,
      Events: events.map((e) => ({ ID: e.id, At: e.at, Type: e.type, RouteID: e.routeId, Data: e.data })),
      Actions: jobs.reverse().map(presentActionJob),
    });
  });

  app.post('/actions/:id/replay', async (c) => {
    const id = validate(actionJobId, c.req.param('id'), 'action ID');
    const now = deps.now();
    const job = await deps.inbound.replayAction(
      id,
      new Date(now).toISOString(),
      new Date(now + deps.lifetimeMs).toISOString(),
    );
    if (job === null) throw new HttpProblem('not-found', `There is no action ${id}.`);
    if (job === false)
      throw new HttpProblem('conflict', `Action ${id} is running; replay it once it has finished.`);
    c.get('log').info({ action: id }, 'action replayed');
    deps.onDue();
    return c.json(presentActionJob(job));
  });

  return app;
}
