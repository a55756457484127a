// The forward action: the message as received, byte for byte, sent on to the route's addresses.
// Only header fields are added, on top (trace.ts says which and why), so the original's DKIM
// signatures still verify at the next hop, which is what lets DMARC pass for a forwarded message
// whose SPF no longer can. The envelope sender is rewritten with SRS at our forward domain so the
// next hop's SPF check is about us; the null sender of a bounce stays null.
//
// Permanent problems (nothing to send, too big, a loop, nothing configured, an address SRS cannot
// carry, a message the signer refuses) fail the job with the reason; only the queue's store failing
// is retried. Queuing is keyed on the job, so a job that runs twice queues once.
import type { ForwardAction } from '../../domain/route.ts';
import { readHeaderBlock } from '../../ingest/sender-auth-headers.ts';
import { srsForward } from '../../outbound/srs.ts';
import type { ActionContext, ActionExecutor, ActionResult } from '../action.ts';
import { type OutboundActionDeps, queueOnce } from './outbound-deps.ts';
import { loopRefusal, traceFields } from './trace.ts';

export type ForwardActionDeps = Pick<
  OutboundActionDeps,
  'queue' | 'hostname' | 'lifetimeMs' | 'now' | 'sign' | 'onQueued' | 'forward'
>;

export function forwardAction(deps: ForwardActionDeps): ActionExecutor<ForwardAction> {
  return {
    type: 'forward',
    execute: (action, ctx) => forward(deps, action, ctx),
  };
}

function fail(reason: string): ActionResult {
  return { outcome: 'failed', reason };
}

/** Each address once (compared without case), in the route's order. */
function distinct(list: readonly string[]): string[] {
  const seen = new Set<string>();
  return list.filter((a) => {
    const k = a.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

async function forward(
  deps: ForwardActionDeps,
  action: ForwardAction,
  ctx: ActionContext,
): Promise<ActionResult> {
  const { domain, secrets, maxBytes } = deps.forward;
  if (domain === '') return fail('no forward domain is configured for SRS (--forward-domain)');
  if (secrets.length === 0) return fail('no SRS secret is configured (--srs-secret)');
  const to = distinct(action.to);
  if (to.length === 0) return fail('the action names no address to forward to');
  const raw = await ctx.raw();
  if (!raw) return fail('the message bytes are gone (the message was deleted)');
  const now = deps.now();
  const envelope = ctx.message.envelope;
  const loop = loopRefusal(raw, { hostname: deps.hostname, routeId: ctx.job.routeId });
  if (loop) return fail(`not forwarded: ${loop}`);

  let mailFrom: string;
  try {
    mailFrom = srsForward(envelope.mailFrom, { domain, secrets, now });
  } catch (err) {
    return fail(`not forwarded: ${(err as Error).message}`);
  }
  const recipient = ctx.job.recipient ?? envelope.rcptTo[0] ?? '';
  const fields = traceFields(
    { hostname: deps.hostname, routeId: ctx.job.routeId, recipient, to },
    readHeaderBlock(raw).eol,
  );
  let bytes: Buffer = Buffer.concat([Buffer.from(fields, 'utf8'), raw]);
  if (bytes.length > maxBytes)
    return fail(`not forwarded: the message is ${bytes.length} bytes, more than the limit of ${maxBytes}`);
  if (deps.sign) {
    // A signature of the forward domain on top, over what we send; the author's stays below it.
    try {
      bytes = await deps.sign(bytes, mailFrom === '' ? `postmaster@${domain}` : mailFrom);
    } catch (err) {
      return fail(`not forwarded: DKIM signing failed: ${(err as Error).message}`);
    }
  }
  const messageId = ctx.message.parsed?.messageId || ctx.message.messageId;
  return queueOnce(
    deps,
    ctx.job,
    now,
    {
      mailFrom,
      rcptTo: to,
      raw: bytes,
      // The original's: a DSN or complaint about the forwarded copy quotes it.
      headerMessageId: messageId ? `<${messageId}>` : `<${ctx.message.id}.forward@${deps.hostname}>`,
      metadata: { forwardOf: ctx.message.id, route: ctx.job.routeId, job: ctx.job.id },
    },
    `forwarded to ${to.join(', ')}`,
  );
}
