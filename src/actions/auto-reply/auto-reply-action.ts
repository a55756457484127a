// The auto-reply action (RFC 3834): one reply to the sender of a message, at most once per sender
// and route in the action's period, never to automatic, bulk or list mail (rules.ts).
//
// A message that must not be answered ends the job as succeeded with "skipped: <why>", not failed:
// not answering it is the correct outcome, so it must not be retried, must not show as a fault
// in the job list, and the reason stays in the job's event for whoever wonders why no reply went.
//
// The reply goes to the return path (RFC 3834 §3.1.1: From and Reply-To may name someone who
// never asked for it, and the return path is where the sender wants notices), from the null
// reverse-path (RFC 3834 §3.3: a reply to it, or a bounce of it, goes nowhere, so two responders
// cannot start a loop), from the action's address or else the one the message came to.
import type { AutoReplyAction } from '../../domain/route.ts';
import { headerList } from '../../ingest/sender-auth-headers.ts';
import { routingMessage } from '../../routing/routing-message.ts';
import type { ActionContext, ActionExecutor, ActionResult } from '../action.ts';
import { type OutboundActionDeps, queueOnce } from '../forward/outbound-deps.ts';
import { composeReply } from './compose-reply.ts';
import { autoReplyRefusal, isPlainAddress } from './rules.ts';

export type AutoReplyActionDeps = Pick<
  OutboundActionDeps,
  'queue' | 'hostname' | 'lifetimeMs' | 'now' | 'sign' | 'onQueued' | 'claimAutoReply'
>;

export function autoReplyAction(deps: AutoReplyActionDeps): ActionExecutor<AutoReplyAction> {
  return {
    type: 'auto-reply',
    execute: (action, ctx) => autoReply(deps, action, ctx),
  };
}

function skipped(reason: string): ActionResult {
  return { outcome: 'succeeded', detail: `skipped: ${reason}` };
}

/** "1 day", "3 hours", "90 minutes", "45 seconds". */
export function describePeriod(seconds: number): string {
  const units: [number, string][] = [
    [86_400, 'day'],
    [3_600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}

async function autoReply(
  deps: AutoReplyActionDeps,
  action: AutoReplyAction,
  ctx: ActionContext,
): Promise<ActionResult> {
  const { message, job } = ctx;
  const parsed = message.parsed;
  if (!parsed) return { outcome: 'failed', reason: 'the message was not parsed, so it cannot be answered' };
  const envelope = message.envelope;
  let headers = parsed.headers;
  if (!headers) {
    // Parses stored before the parser kept header fields have none: without them no list or
    // automatic mail is recognised, so they are read from the bytes.
    const raw = await ctx.raw();
    if (!raw) return { outcome: 'failed', reason: 'the message bytes are gone (the message was deleted)' };
    headers = headerList(raw);
  }
  const refusal = autoReplyRefusal(
    routingMessage({
      mailFrom: envelope.mailFrom,
      rcptTo: envelope.rcptTo,
      size: message.size,
      parsed: { ...parsed, headers },
    }),
  );
  if (refusal) return skipped(refusal);
  const sender = envelope.mailFrom;
  if (!isPlainAddress(sender))
    return skipped(`the return path ${JSON.stringify(sender)} is not a plain address`);
  const from = action.from || job.recipient || envelope.rcptTo[0] || '';
  if (!isPlainAddress(from))
    return { outcome: 'failed', reason: `no address to reply from (${JSON.stringify(from)})` };
  if (from.toLowerCase() === sender.toLowerCase())
    return skipped(`the sender ${sender} is the address the reply would come from`);

  const now = deps.now();
  let claimed: boolean;
  try {
    claimed = await deps.claimAutoReply({
      scope: job.routeId,
      sender: sender.toLowerCase(),
      jobId: job.id,
      now: new Date(now).toISOString(),
      periodMs: action.periodSeconds * 1000,
    });
  } catch (err) {
    return { outcome: 'retry', reason: `could not check earlier replies: ${(err as Error).message}` };
  }
  if (!claimed) return skipped(`already replied to ${sender} within ${describePeriod(action.periodSeconds)}`);

  const header = (name: string) => headers.find(([n]) => n === name)?.[1] ?? '';
  let { raw, messageId } = await composeReply({
    from,
    to: sender,
    subject: action.subject,
    text: action.text,
    originalSubject: parsed.subject,
    originalMessageId: parsed.messageId,
    originalReferences: header('references'),
    hostname: deps.hostname,
    now: new Date(now),
  });
  if (deps.sign) {
    try {
      raw = await deps.sign(raw, from);
    } catch (err) {
      return { outcome: 'failed', reason: `DKIM signing failed: ${(err as Error).message}` };
    }
  }
  return queueOnce(
    deps,
    job,
    now,
    {
      mailFrom: '',
      rcptTo: [sender],
      raw,
      headerMessageId: messageId,
      metadata: { autoReplyTo: message.id, route: job.routeId, job: job.id },
    },
    `replied to ${sender}`,
  );
}
