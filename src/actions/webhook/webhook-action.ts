// The webhook action: the message's JSON payload POSTed to the route's URL, signed with the
// configured secrets (the first signs; the others too, while receivers rotate), through the
// shared address policy. One attempt per job run; the runner retries by the result.
//
// Each URL's health is kept across jobs and routes: every attempt's outcome is counted, and after
// `disableAfter` failures in a row the endpoint is disabled (a webhook:disabled event and a
// warning), so a receiver that is gone stops costing an attempt per message and retry. A disabled
// endpoint gets no request until it is enabled again through the API.
import { createHash } from 'node:crypto';
import type { WebhookAction } from '../../domain/route.ts';
import type { MimeParser } from '../../mime/types.ts';
import type { AddressPolicy } from '../../net/address-policy.ts';
import type { AddressResolver } from '../../net/safe-lookup.ts';
import type { Logger } from '../../observability/logger.ts';
import type { InboundStore, WebhookEndpoint } from '../../storage/inbound-ports.ts';
import type { ActionContext, ActionExecutor, ActionResult } from '../action.ts';
import { attachmentList, buildPayload, type PayloadAttachment } from '../payload.ts';
import { type AttachmentUrlSettings, attachmentUrl } from './attachment-url.ts';
import { DELIVERY_ID_HEADER, postWebhook, type WebhookAttempt } from './post.ts';

export interface WebhookActionDeps {
  secrets: readonly string[];
  policy: AddressPolicy;
  resolver: AddressResolver;
  parser: Pick<MimeParser, 'extractPart'>;
  timeoutMs: number;
  userAgent: string;
  /** Inline attachments bigger than this in all are left out (their metadata stays). */
  maxInlineBytes: number;
  /** Each URL's failures in a row and disabled state; the events of a disabling. */
  endpoints: Pick<InboundStore, 'recordWebhookOutcome' | 'webhookEndpoint' | 'addInboundEvents'>;
  /** Failures in a row that disable an endpoint; 0 never disables (and ignores an earlier disabling). */
  disableAfter: number;
  /** Signed download URLs for `attachments: 'url'` (attachmentUrlsFromConfig). */
  attachmentUrls: AttachmentUrlSettings;
  logger: Pick<Logger, 'warn'>;
  /** Wall clock in ms: outcome times, URL expiry, signature timestamps. */
  now: () => number;
}

export const ENABLE_PATH = '/api/v1/webhooks/endpoints/enable';

export function webhookAction(deps: WebhookActionDeps): ActionExecutor<WebhookAction> {
  return {
    type: 'webhook',
    async execute(action, ctx) {
      if (deps.secrets.length === 0)
        return { outcome: 'failed', reason: 'no webhook signing secret is configured (--webhook-secret)' };
      const refused = await disabledReason(action.url, deps);
      if (refused) return refused;
      let attachments = action.attachments === 'none' ? [] : attachmentList(ctx.message);
      if (action.attachments === 'inline') attachments = await inline(attachments, ctx, deps);
      if (action.attachments === 'url') attachments = withUrls(attachments, ctx.message.id, deps);
      const body = JSON.stringify(buildPayload(ctx.message, ctx.job, attachments, ctx.auth ?? null));
      const attempt = await postWebhook(
        { url: action.url, body, headers: { [DELIVERY_ID_HEADER]: ctx.job.id }, secrets: [...deps.secrets] },
        {
          timeoutMs: deps.timeoutMs,
          maxResponseBytes: 64 * 1024,
          policy: deps.policy,
          resolver: deps.resolver,
          userAgent: deps.userAgent,
          signal: ctx.signal,
          now: deps.now,
        },
      );
      const result = toResult(action.url, attempt);
      // An attempt cut short because this worker is stopping says nothing about the receiver.
      if (ctx.signal.aborted) return result;
      const disabled = await recordOutcome(action.url, result, ctx, deps);
      if (disabled && result.outcome !== 'succeeded')
        return {
          ...result,
          reason: `${result.reason}; ${disabled.consecutiveFailures} failures in a row disabled the endpoint`,
        };
      return result;
    },
  };
}

function toResult(url: string, attempt: WebhookAttempt): ActionResult {
  const said = attempt.status === null ? attempt.reason : `${attempt.status}: ${attempt.reason}`;
  switch (attempt.outcome) {
    case 'delivered':
      return { outcome: 'succeeded', detail: `POST ${url} answered ${attempt.status}` };
    case 'retry':
      return {
        outcome: 'retry',
        reason: said,
        ...(attempt.retryAfterMs !== undefined ? { retryAfterMs: attempt.retryAfterMs } : {}),
      };
    case 'failed':
      return { outcome: 'failed', reason: said };
  }
}

/** A failed result when the endpoint is disabled; null when it may be posted to. */
async function disabledReason(url: string, deps: WebhookActionDeps): Promise<ActionResult | null> {
  if (deps.disableAfter === 0) return null;
  let endpoint: WebhookEndpoint | null;
  try {
    endpoint = await deps.endpoints.webhookEndpoint(url);
  } catch (err) {
    return { outcome: 'retry', reason: `the endpoint's state could not be read: ${(err as Error).message}` };
  }
  if (endpoint?.disabledAt == null) return null;
  return {
    outcome: 'failed',
    reason:
      `the webhook endpoint is disabled since ${endpoint.disabledAt} after ${endpoint.consecutiveFailures} ` +
      `failures in a row (last: ${endpoint.lastError ?? 'unknown'}); enable it with POST ${ENABLE_PATH} ` +
      `${JSON.stringify({ URL: url })}, then replay this action`,
  };
}

/**
 * Counts the attempt against its URL; the endpoint when this attempt disabled it. Never throws: a
 * delivered webhook stays delivered when the count cannot be written, which is only logged.
 */
async function recordOutcome(
  url: string,
  result: ActionResult,
  ctx: ActionContext,
  deps: WebhookActionDeps,
): Promise<WebhookEndpoint | null> {
  const { job } = ctx;
  const scope = { url: loggableUrl(url), message: job.messageId, route: job.routeId, job: job.id };
  const now = new Date(deps.now()).toISOString();
  let recorded: Awaited<ReturnType<WebhookActionDeps['endpoints']['recordWebhookOutcome']>>;
  try {
    recorded = await deps.endpoints.recordWebhookOutcome({
      url,
      ok: result.outcome === 'succeeded',
      error: result.outcome === 'succeeded' ? null : result.reason,
      now,
      disableAfter: deps.disableAfter,
    });
  } catch (err) {
    deps.logger.warn({ ...scope, err }, "webhook: the endpoint's outcome could not be recorded");
    return null;
  }
  const { endpoint, disabledNow } = recorded;
  if (!disabledNow) return null;
  deps.logger.warn(
    { ...scope, failures: endpoint.consecutiveFailures, lastError: endpoint.lastError },
    'webhook: endpoint disabled after failures in a row; enable it through the API',
  );
  try {
    await deps.endpoints.addInboundEvents(
      [
        {
          id: `webhook:disabled:${urlHash(url)}:${endpoint.disabledAt ?? now}`,
          type: 'webhook:disabled',
          messageId: job.messageId,
          routeId: job.routeId,
          data: { url, failures: endpoint.consecutiveFailures, lastError: endpoint.lastError },
        },
      ],
      now,
    );
  } catch (err) {
    deps.logger.warn({ ...scope, err }, 'webhook: the webhook:disabled event could not be recorded');
  }
  return endpoint;
}

/** A short stable name for a URL in event ids (URLs can be long and hold any character). */
function urlHash(url: string): string {
  return createHash('sha256').update(url).digest('base64url').slice(0, 16);
}

/** The URL without its query: receivers sometimes put a token there, and logs travel further. */
export function loggableUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

/** Each attachment with its signed download URL, or the reason it has none. */
function withUrls(
  list: PayloadAttachment[],
  messageId: string,
  deps: WebhookActionDeps,
): PayloadAttachment[] {
  const { baseUrl, secret, lifetimeMs, unavailable } = deps.attachmentUrls;
  if (baseUrl === null || secret === null)
    return list.map((a) => ({ ...a, URLError: unavailable ?? 'no download URL' }));
  const nowMs = deps.now();
  return list.map((a) => ({
    ...a,
    URL: attachmentUrl({ baseUrl, secret, lifetimeMs }, messageId, a.PartID, nowMs),
  }));
}

/** Adds each part's content in base64 while the total stays under the cap. */
async function inline(
  list: PayloadAttachment[],
  ctx: ActionContext,
  deps: WebhookActionDeps,
): Promise<PayloadAttachment[]> {
  const raw = await ctx.raw();
  if (!raw) return list;
  let budget = deps.maxInlineBytes;
  const out: PayloadAttachment[] = [];
  for (const a of list) {
    if (a.Size > budget) {
      out.push(a);
      continue;
    }
    const part = await deps.parser.extractPart(raw, a.PartID);
    if (part && part.content.byteLength <= budget) {
      budget -= part.content.byteLength;
      out.push({ ...a, Content: Buffer.from(part.content).toString('base64') });
    } else out.push(a);
  }
  return out;
}
