// Webhook endpoints' health over HTTP: every URL a webhook action posted to, with its failures in
// a row and whether they disabled it, and enabling a disabled one. Enabling does not resend what
// failed meanwhile; those actions are replayed one by one (POST /api/v1/actions/{ID}/replay).
import { Hono } from 'hono';
import { loggableUrl } from '../../../actions/webhook/webhook-action.ts';
import type { InboundStore, WebhookEndpoint } from '../../../storage/inbound-ports.ts';
import type { AppEnv } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { readJsonBody, validate } from '../../validate.ts';
import { enableEndpointBody } from './schema.ts';

export function presentEndpoint(e: WebhookEndpoint) {
  return {
    URL: e.url,
    State: e.disabledAt === null ? ('enabled' as const) : ('disabled' as const),
    ConsecutiveFailures: e.consecutiveFailures,
    DisabledAt: e.disabledAt,
    LastError: e.lastError,
    LastSuccessAt: e.lastSuccessAt,
    UpdatedAt: e.updatedAt,
  };
}

export interface WebhookEndpointRouteDeps {
  endpoints: Pick<InboundStore, 'webhookEndpoints' | 'enableWebhookEndpoint'>;
  now: () => number;
}

export function webhookEndpointRoutes(deps: WebhookEndpointRouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/webhooks/endpoints', async (c) =>
    c.json({ endpoints: (await deps.endpoints.webhookEndpoints()).map(presentEndpoint) }),
  );

  app.post('/webhooks/endpoints/enable', async (c) => {
    const { URL: url } = validate(enableEndpointBody, await readJsonBody(c.req), 'endpoint');
    const endpoint = await deps.endpoints.enableWebhookEndpoint(url, new Date(deps.now()).toISOString());
    if (!endpoint) throw new HttpProblem('not-found', 'No webhook has been posted to this URL.');
    c.get('log').info({ url: loggableUrl(endpoint.url) }, 'webhook endpoint enabled through the API');
    return c.json(presentEndpoint(endpoint));
  });

  return app;
}
