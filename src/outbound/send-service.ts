// The send API's use case: compose the request, queue it durably, and say what happened. Only
// once the queue's commit is durable does the caller get an id (and the client its 202).
import { createHash } from 'node:crypto';
import { newMessageId } from '../domain/ids.ts';
import { cleanTag } from '../domain/tags.ts';
import type { NewOutbound, OutboundStore } from '../storage/ports.ts';
import { type ComposeLimits, CompositionError, composeMessage } from './compose.ts';
import type { SendRequest } from './send-schema.ts';
import { type TrackingSettings, trackHtml } from './tracking.ts';

/** How long an Idempotency-Key is remembered (as Stripe and the IETF draft suggest: a day). */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

export interface SendServiceDeps {
  queue: OutboundStore;
  /** Right-hand side of generated Message-IDs. */
  hostname: string;
  limits: ComposeLimits;
  /** queueLifetime: an undelivered message expires this long after it was queued. */
  lifetimeMs: number;
  now: () => number;
  /** Signs the composed message for its From domain, when a key covers it (DKIM). */
  sign?: (raw: Buffer, from: string) => Promise<Buffer>;
  /** Open and click tracking, when configured (--tracking-url); null or absent: off. */
  tracking?: TrackingSettings | null;
  /** Told about each newly queued message (wakes the local delivery worker). */
  onQueued: (id: string) => void;
  /**
   * With the capture transport: resolves true once all these messages are in the inbox, false after
   * `timeoutMs`. Absent when mail really leaves (there is nothing local to wait for).
   */
  awaitCaptured?: (ids: readonly string[], timeoutMs: number) => Promise<boolean>;
}

export interface SendContext {
  client: NewOutbound['client'];
  /** The Idempotency-Key header, if the client sent one. */
  idempotencyKey?: string;
  /** The request body exactly as received: the same key with another body is a conflict. */
  body: string;
}

export type SendOutcome = { status: 'queued' | 'replayed' | 'conflict'; id: string; scheduled: boolean };

/** How far ahead a message may be scheduled. */
export const MAX_SCHEDULE_MS = 30 * 24 * 3_600_000;

/** When delivery may start: now, or the requested time (a time already past means now). */
function scheduledTime(sendAt: string | undefined, now: number): number {
  if (sendAt === undefined) return now;
  const at = Date.parse(sendAt);
  if (at > now + MAX_SCHEDULE_MS) throw new CompositionError('SendAt', 'SendAt is more than 30 days ahead');
  return Math.max(at, now);
}

/** The request with Subject, Text and HTML rendered from its template, if it names one. */
async function withTemplate(deps: SendServiceDeps, req: SendRequest): Promise<SendRequest> {
  if (req.Template === undefined) return req;
  const template = await deps.queue.template(req.Template);
  if (!template) throw new CompositionError('Template', `Template "${req.Template}" does not exist`);
  const { Template: _t, TemplateData: data, ...rest } = req;
  // The engines load with the first template rendered (2.6 MB of heap a server may never need).
  const { renderTemplate } = await import('./templates.ts');
  const r = renderTemplate(template, data ?? {});
  return { ...rest, Subject: r.subject, Text: r.text, HTML: r.html };
}

/** The request with its HTML tracked as it asks, or as configured when it does not say. */
function withTracking(deps: SendServiceDeps, req: SendRequest, id: string): SendRequest {
  const t = deps.tracking ?? null;
  const asked = req.Tracking?.Opens === true || req.Tracking?.Clicks === true;
  if (!t) {
    if (asked)
      throw new CompositionError('Tracking', 'Tracking is not configured on this server (--tracking-url)');
    return req;
  }
  const choice = { opens: req.Tracking?.Opens ?? t.opens, clicks: req.Tracking?.Clicks ?? t.clicks };
  if (req.HTML === undefined || (!choice.opens && !choice.clicks)) return req;
  return { ...req, HTML: trackHtml(req.HTML, id, t, choice) };
}

export async function sendMessage(
  deps: SendServiceDeps,
  req: SendRequest,
  ctx: SendContext,
): Promise<SendOutcome> {
  const now = deps.now();
  const id = newMessageId();
  const composed = await composeMessage(withTracking(deps, await withTemplate(deps, req), id), {
    hostname: deps.hostname,
    now: new Date(now),
    limits: deps.limits,
  });
  // Signed once, when queued: every attempt sends the same bytes, as Postfix with a milter does.
  const raw = deps.sign ? await deps.sign(composed.raw, composed.envelope.from) : composed.raw;
  const queuedAt = new Date(now).toISOString();
  const sendAt = scheduledTime(req.SendAt, now);
  const message: NewOutbound = {
    id,
    mailFrom: composed.envelope.from,
    rcptTo: composed.envelope.to,
    raw,
    headerMessageId: composed.messageId,
    source: 'api',
    client: ctx.client,
    // compose refused any tag cleanTag rejects, so none is lost here.
    tags: (req.Tags ?? []).flatMap((t) => cleanTag(t) ?? []),
    metadata: req.Metadata ?? {},
    queuedAt,
    sendAt: new Date(sendAt).toISOString(),
    // The lifetime counts from when delivery may start, so a scheduled message gets all of it.
    expiresAt: new Date(sendAt + deps.lifetimeMs).toISOString(),
    ...(ctx.idempotencyKey
      ? {
          idempotency: {
            key: ctx.idempotencyKey,
            requestHash: createHash('sha256').update(ctx.body).digest('hex'),
            expiresAt: new Date(now + IDEMPOTENCY_TTL_MS).toISOString(),
          },
        }
      : {}),
  };
  const result = await deps.queue.enqueue(message);
  if (result.outcome === 'queued') deps.onQueued(result.id);
  return { status: result.outcome, id: result.id, scheduled: sendAt > now };
}
