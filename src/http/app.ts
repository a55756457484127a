// The HTTP API: Mailpit-compatible /api/v1 plus health probes and metrics. Built from injected
// dependencies so tests drive it with `app.request()` and the composition root decides the rest.
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ACTION_LIFETIME_MS } from '../actions/registry.ts';
import { attachmentUrlsFromConfig } from '../actions/webhook/attachment-url.ts';
import type { AppEnv, HttpDeps, RuntimeCounters } from './deps.ts';
import { HttpProblem, PROBLEM_CONTENT_TYPE } from './errors.ts';
import { limitBody } from './middleware/body-limit.ts';
import { requestLog } from './middleware/request-log.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import { actionRoutes } from './routes/actions/routes.ts';
import { chaosRoutes } from './routes/chaos/routes.ts';
import { healthRoutes } from './routes/health/routes.ts';
import { attachmentDownloadRoutes } from './routes/inbound-attachments/routes.ts';
import { inboundRouteRoutes } from './routes/inbound-routes/routes.ts';
import { inboxRoutes } from './routes/inboxes/routes.ts';
import { infoRoutes } from './routes/info/routes.ts';
import { apiKeyRoutes } from './routes/keys/routes.ts';
import { checkRoutes } from './routes/message/checks.ts';
import { releaseRoutes } from './routes/message/release.ts';
import { messageRoutes } from './routes/message/routes.ts';
import { messagesRoutes } from './routes/messages/routes.ts';
import { queueRoutes } from './routes/queue/routes.ts';
import { sendRoutes } from './routes/send/routes.ts';
import { batchBodyLimit, sendBodyLimit } from './routes/send/schema.ts';
import { suppressionRoutes } from './routes/suppressions/routes.ts';
import { tagRoutes } from './routes/tags/routes.ts';
import { templateRoutes } from './routes/templates/routes.ts';
import { ticketRoutes } from './routes/tickets/routes.ts';
import { trackingRoutes } from './routes/tracking/routes.ts';
import { uiRoutes } from './routes/ui/routes.ts';
import { viewRoutes } from './routes/view/routes.ts';
import { waitRoutes } from './routes/wait/routes.ts';
import { webhookEndpointRoutes } from './routes/webhooks/routes.ts';

export type { AppEnv, HttpDeps } from './deps.ts';

export function createHttpApp(deps: HttpDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const counters: RuntimeCounters = { messagesDeleted: 0 };

  // Outermost first, so error and 404 responses get the security headers and a log line too.
  app.use('*', securityHeaders());
  app.use('*', requestLog(deps.logger));
  app.use('*', deps.access.middleware());
  // The send endpoint takes whole messages (attachments in base64); everything else small JSON.
  const smallBodies = limitBody();
  const sendBodies = limitBody(sendBodyLimit(deps.config.maxMessageSize));
  const batchBodies = limitBody(batchBodyLimit(deps.config.maxMessageSize));
  app.use('*', (c, next) => {
    if (c.req.path === '/api/v1/send') return sendBodies(c, next);
    if (c.req.path === '/api/v1/send/batch') return batchBodies(c, next);
    return smallBodies(c, next);
  });

  app.route('/api/v1', messagesRoutes(deps, counters));
  app.route('/api/v1', messageRoutes(deps));
  app.route('/api/v1', checkRoutes(deps));
  app.route('/api/v1', releaseRoutes({ releaser: deps.releaser ?? null, storage: deps.storage }));
  app.route('/api/v1', chaosRoutes({ chaos: deps.chaos ?? null }));
  app.route('/api/v1', tagRoutes(deps));
  app.route('/api/v1', infoRoutes(deps, counters));
  app.route('/api/v1', sendRoutes(deps.send));
  app.route('/api/v1', waitRoutes(deps));
  app.route('/api/v1', inboxRoutes(deps));
  app.route('/api/v1', suppressionRoutes({ queue: deps.storage.outbound, now: deps.send.now }));
  app.route(
    '/api/v1',
    apiKeyRoutes({
      keys: deps.storage.apiKeys,
      now: deps.send.now,
      onRevoked: (id) => deps.access.forgetKey(id),
    }),
  );
  app.route(
    '/api/v1',
    inboundRouteRoutes({
      store: deps.storage.routes,
      book: deps.routes,
      messages: deps.storage,
      parser: deps.parser,
      budgetMs: deps.config.routeBudget,
      hostname: deps.config.smtpHostname,
      now: deps.send.now,
    }),
  );
  app.route(
    '/api/v1',
    actionRoutes({
      inbound: deps.storage.inbound,
      messages: deps.storage,
      hostname: deps.send.hostname,
      now: deps.send.now,
      lifetimeMs: ACTION_LIFETIME_MS,
      onDue: deps.onActionDue ?? (() => {}),
    }),
  );
  app.route('/api/v1', webhookEndpointRoutes({ endpoints: deps.storage.inbound, now: deps.send.now }));
  app.route(
    '/api/v1',
    attachmentDownloadRoutes({
      storage: deps.storage,
      parser: deps.parser,
      secret: attachmentUrlsFromConfig(deps.config).secret,
      now: deps.send.now,
    }),
  );
  app.route('/api/v1', templateRoutes({ queue: deps.storage.outbound, now: deps.send.now }));
  app.route(
    '/api/v1',
    queueRoutes({ queue: deps.storage.outbound, now: deps.send.now, onDue: deps.send.onQueued }),
  );
  app.route(
    '/api/v1',
    ticketRoutes({
      tickets: deps.tickets,
      messages: deps.storage,
      parser: deps.parser,
      events: deps.events,
      now: deps.send.now,
    }),
  );
  app.route('/', viewRoutes(deps));
  app.route('/', healthRoutes(deps));
  app.route(
    '/',
    trackingRoutes({
      queue: deps.storage.outbound,
      tracking: deps.send.tracking ?? null,
      now: deps.send.now,
    }),
  );
  app.route('/', uiRoutes({}));

  app.notFound((c) => {
    const problem = new HttpProblem('not-found', `There is no ${c.req.method} ${c.req.path}.`);
    return c.body(JSON.stringify(problem.body()), 404, { 'Content-Type': PROBLEM_CONTENT_TYPE });
  });

  app.onError((err, c) => {
    let problem: HttpProblem;
    if (err instanceof HttpProblem) {
      problem = err;
    } else {
      // The detail stays generic: internal messages may name tables, paths or hosts.
      (c.get('log') ?? deps.logger).error({ err }, 'http request failed');
      problem = new HttpProblem(
        'internal',
        `The request failed; its id is ${c.get('requestId') ?? 'unknown'}.`,
      );
    }
    return c.body(JSON.stringify(problem.body()), problem.status as ContentfulStatusCode, {
      'Content-Type': PROBLEM_CONTENT_TYPE,
    });
  });

  return app;
}
