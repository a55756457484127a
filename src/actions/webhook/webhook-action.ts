// The webhook action: the message's JSON payload POSTed to the route's URL, signed with the
// configured secrets (the first signs; the others too, while receivers rotate), through the
// shared address policy. One attempt per job run; the runner retries by the result.
import type { WebhookAction } from '../../domain/route.ts';
import type { MimeParser } from '../../mime/types.ts';
import type { AddressPolicy } from '../../net/address-policy.ts';
import type { AddressResolver } from '../../net/safe-lookup.ts';
import type { ActionExecutor } from '../action.ts';
import { attachmentList, buildPayload, type PayloadAttachment } from '../payload.ts';
import { DELIVERY_ID_HEADER, postWebhook } from './post.ts';

export interface WebhookActionDeps {
  secrets: readonly string[];
  policy: AddressPolicy;
  resolver: AddressResolver;
  parser: Pick<MimeParser, 'extractPart'>;
  timeoutMs: number;
  userAgent: string;
  /** Inline attachments bigger than this in all are left out (their metadata stays). */
  maxInlineBytes: number;
}

export function webhookAction(deps: WebhookActionDeps): ActionExecutor<WebhookAction> {
  return {
    type: 'webhook',
    async execute(action, ctx) {
      if (deps.secrets.length === 0)
        return { outcome: 'failed', reason: 'no webhook signing secret is configured (--webhook-secret)' };
      let attachments = action.attachments === 'none' ? [] : attachmentList(ctx.message);
      if (action.attachments === 'inline') attachments = await inline(attachments, ctx, deps);
      const body = JSON.stringify(buildPayload(ctx.message, ctx.job, attachments));
      const attempt = await postWebhook(
        { url: action.url, body, headers: { [DELIVERY_ID_HEADER]: ctx.job.id }, secrets: [...deps.secrets] },
        {
          timeoutMs: deps.timeoutMs,
          maxResponseBytes: 64 * 1024,
          policy: deps.policy,
          resolver: deps.resolver,
          userAgent: deps.userAgent,
          signal: ctx.signal,
        },
      );
      const said = attempt.status === null ? attempt.reason : `${attempt.status}: ${attempt.reason}`;
      switch (attempt.outcome) {
        case 'delivered':
          return { outcome: 'succeeded', detail: `POST ${action.url} answered ${attempt.status}` };
        case 'retry':
          return {
            outcome: 'retry',
            reason: said,
            ...(attempt.retryAfterMs !== undefined ? { retryAfterMs: attempt.retryAfterMs } : {}),
          };
        case 'failed':
          return { outcome: 'failed', reason: said };
      }
    },
  };
}

/** Adds each part's content in base64 while the total stays under the cap. */
async function inline(
  list: PayloadAttachment[],
  ctx: Parameters<ActionExecutor['execute']>[1],
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
