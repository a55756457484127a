// POST /api/v1/send: Mailpit's send endpoint, answered once the message is durably queued (202).
import { Hono } from 'hono';
import { CompositionError } from '../../../outbound/compose.ts';
import { type SendServiceDeps, sendMessage } from '../../../outbound/send-service.ts';
import type { AppEnv } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { principalOf } from '../../middleware/access.ts';
import { validate } from '../../validate.ts';
import { idempotencyKey, sendBody } from './schema.ts';

/** How long a Mailpit-style send waits for the capture before answering anyway (it is queued). */
const CAPTURE_WAIT_MS = 5_000;

function clientIp(env: unknown): string {
  const incoming = (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? '';
}

export function sendRoutes(deps: SendServiceDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/send', async (c) => {
    const text = await c.req.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new HttpProblem('bad-request', 'The request body is not valid JSON.');
    }
    const request = validate(sendBody, json, 'send request');
    const keyHeader = c.req.header('Idempotency-Key');
    const key =
      keyHeader === undefined ? undefined : validate(idempotencyKey, keyHeader, 'Idempotency-Key header');
    const principal = principalOf(c);
    const authUser = principal && principal.kind !== 'anonymous' ? principal.name : null;
    let outcome: Awaited<ReturnType<typeof sendMessage>>;
    try {
      outcome = await sendMessage(deps, request, {
        client: { ip: clientIp(c.env), authUser },
        body: text,
        ...(key ? { idempotencyKey: key } : {}),
      });
    } catch (err) {
      if (!(err instanceof CompositionError)) throw err;
      // The message starts with the field's path ("To[2].Email contains ...").
      throw new HttpProblem(err.status === 413 ? 'message-too-large' : 'bad-request', err.message);
    }
    if (outcome.status === 'conflict') {
      throw new HttpProblem(
        'idempotency-conflict',
        `The Idempotency-Key was used for another request (message ${outcome.id}) in the last 24 hours.`,
      );
    }
    c.get('log').info({ outbound: outcome.id, replayed: outcome.status === 'replayed' }, 'message queued');
    if (outcome.status === 'replayed') c.header('Idempotent-Replayed', 'true');
    // RFC 7240: a client that prefers it gets 202 as soon as the message is durably queued.
    if (/(^|[\s,;])respond-async([\s,;=]|$)/i.test(c.req.header('Prefer') ?? '')) {
      c.header('Preference-Applied', 'respond-async');
      return c.json({ ID: outcome.id }, 202);
    }
    // Mailpit answers 200 once the message is in its inbox, and its clients (mailpit-api, CI
    // plugins) accept nothing else and read the message by that ID at once: with the capture
    // transport, wait (briefly) for the worker to put it there, as Mailpit would have.
    await deps.awaitCaptured?.(outcome.id, CAPTURE_WAIT_MS);
    return c.json({ ID: outcome.id }, 200);
  });

  return app;
}
