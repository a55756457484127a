// POST /api/v1/send (Mailpit's send endpoint) and POST /api/v1/send/batch (Mailroom's): each
// message is answered once durably queued: 202 with its ID. One exception keeps Mailpit's clients
// working (ADR 0010): with the capture transport and no `Prefer: respond-async`, the answer is
// Mailpit's 200, after the message is in the inbox.
import type { Context } from 'hono';
import { Hono } from 'hono';
import { CompositionError } from '../../../outbound/compose.ts';
import { type SendContext, type SendServiceDeps, sendMessage } from '../../../outbound/send-service.ts';
import type { AppEnv } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { principalOf } from '../../middleware/access.ts';
import { validate } from '../../validate.ts';
import { batchBody, idempotencyKey, sendBody } from './schema.ts';

/** How long a Mailpit-style send waits for the capture before answering anyway (it is queued). */
const CAPTURE_WAIT_MS = 5_000;

function clientIp(env: unknown): string {
  const incoming = (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? '';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpProblem('bad-request', 'The request body is not valid JSON.');
  }
}

/** RFC 7240: the client would rather have 202 as soon as the message is durably queued. */
function prefersAsync(c: Context<AppEnv>): boolean {
  return /(^|[\s,;])respond-async([\s,;=]|$)/i.test(c.req.header('Prefer') ?? '');
}

/** Who is sending, and the Idempotency-Key if there is one. */
function context(c: Context<AppEnv>): Omit<SendContext, 'body'> {
  const keyHeader = c.req.header('Idempotency-Key');
  const key =
    keyHeader === undefined ? undefined : validate(idempotencyKey, keyHeader, 'Idempotency-Key header');
  const principal = principalOf(c);
  const authUser = principal && principal.kind !== 'anonymous' ? principal.name : null;
  return { client: { ip: clientIp(c.env), authUser }, ...(key ? { idempotencyKey: key } : {}) };
}

/** One message queued, as a problem when it cannot be. */
async function queueOne(
  deps: SendServiceDeps,
  request: unknown,
  ctx: SendContext,
): Promise<{ id: string; replayed: boolean; scheduled: boolean }> {
  let outcome: Awaited<ReturnType<typeof sendMessage>>;
  try {
    outcome = await sendMessage(deps, validate(sendBody, request, 'send request'), ctx);
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
  return { id: outcome.id, replayed: outcome.status === 'replayed', scheduled: outcome.scheduled };
}

export function sendRoutes(deps: SendServiceDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/send', async (c) => {
    const text = await c.req.text();
    const ctx = context(c);
    const { id, replayed, scheduled } = await queueOne(deps, parseJson(text), { ...ctx, body: text });
    c.get('log').info({ outbound: id, replayed, scheduled }, 'message queued');
    if (replayed) c.header('Idempotent-Replayed', 'true');
    // A scheduled message is not delivered now: there is nothing to wait for (SendAt is Mailroom's).
    if (scheduled) return c.json({ ID: id }, 202);
    if (prefersAsync(c)) c.header('Preference-Applied', 'respond-async');
    // Relay and mx: the delivery goes on after the answer (no capture to wait for).
    if (prefersAsync(c) || !deps.awaitCaptured) return c.json({ ID: id }, 202);
    // Capturing, Mailpit's clients read the message by that ID at once: wait (briefly) for it.
    await deps.awaitCaptured([id], CAPTURE_WAIT_MS);
    return c.json({ ID: id }, 200);
  });

  app.post('/send/batch', async (c) => {
    const ctx = context(c);
    const items = validate(batchBody, parseJson(await c.req.text()), 'batch');
    // Each message is queued on its own (one bad message does not stop the others). Queued
    // together, they share commits: the SQLite writer and the PostgreSQL pool group them.
    const results = await Promise.all(
      items.map(async (item, i) => {
        // An Idempotency-Key covers the batch: each message gets its own key from it.
        const key = ctx.idempotencyKey ? { idempotencyKey: `${ctx.idempotencyKey}/${i}` } : {};
        try {
          const { id } = await queueOne(deps, item, {
            client: ctx.client,
            ...key,
            body: JSON.stringify(item),
          });
          return { ID: id, Error: undefined };
        } catch (err) {
          if (!(err instanceof HttpProblem)) throw err;
          return { ID: undefined, Error: err.body() };
        }
      }),
    );
    const queued = results.flatMap((r) => (r.ID === undefined ? [] : [r.ID]));
    c.get('log').info({ queued: queued.length, refused: results.length - queued.length }, 'batch queued');
    if (prefersAsync(c)) c.header('Preference-Applied', 'respond-async');
    if (prefersAsync(c) || !deps.awaitCaptured) return c.json({ Results: results }, 202);
    await deps.awaitCaptured(queued, CAPTURE_WAIT_MS);
    return c.json({ Results: results }, 200);
  });

  return app;
}
