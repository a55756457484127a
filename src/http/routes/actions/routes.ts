// What routing did with a received message (its route and action events, and each action job),
// and replaying an action job: a webhook or publish that failed for good runs again.
import { Hono } from 'hono';
import { z } from 'zod';
import type { ActionJob, InboundStore } from '../../../storage/inbound-ports.ts';
import type { AppEnv } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
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

export function actionRoutes(deps: {
  inbound: InboundStore;
  now: () => number;
  lifetimeMs: number;
  onDue: () => void;
}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/message/:id/routing', async (c) => {
    const id = validate(messageId, c.req.param('id'), 'message ID');
    const [events, jobs] = await Promise.all([
      deps.inbound.inboundEvents(id),
      deps.inbound.actionJobs({ messageId: id, start: 0, limit: 1000 }),
    ]);
    return c.json({
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
