// The ticket action: gives a routed message to a support desk (src/tickets/intake.ts). The desks'
// own addresses are routed here by the built-in desk route (DESK_ROUTE_PREFIX); a route of the
// user's with a ticket action hands over mail sent elsewhere (support@company.example) as if it
// had been sent to the desk's intake address.
import type { TicketAction } from '../../domain/route.ts';
import { headerList } from '../../ingest/sender-auth-headers.ts';
import type { Anchors } from '../../tickets/anchors.ts';
import type { DeskIntake } from '../../tickets/intake.ts';
import type { ActionContext, ActionExecutor, ActionResult } from '../action.ts';

/** Built-in routes of the desks: `@desk:<name>` (not a valid route id, so no clash with the user's). */
export const DESK_ROUTE_PREFIX = '@desk:';

export interface TicketActionDeps {
  intake: DeskIntake;
  anchors: Anchors;
}

export function ticketAction(deps: TicketActionDeps | null): ActionExecutor<TicketAction> {
  return {
    type: 'ticket',
    execute: (action, ctx) =>
      deps
        ? take(deps, action, ctx)
        : Promise.resolve({ outcome: 'failed', reason: 'no desk is configured (--desk)' }),
  };
}

async function take(deps: TicketActionDeps, action: TicketAction, ctx: ActionContext): Promise<ActionResult> {
  const desk = deps.anchors.deskNamed(action.desk);
  if (!desk) return { outcome: 'failed', reason: `no desk is named ${action.desk}` };
  const { message, job } = ctx;
  const parsed = message.parsed;
  if (!parsed) return { outcome: 'failed', reason: 'the message was not parsed, so no desk can read it' };
  const raw = await ctx.raw();
  if (!raw) return { outcome: 'failed', reason: 'the message bytes are gone (the message was deleted)' };
  // Parses stored before the parser kept header fields have none: read them from the bytes.
  const headers = parsed.headers ?? headerList(raw);
  const builtIn = job.routeId.startsWith(DESK_ROUTE_PREFIX);
  const rcptTo = builtIn
    ? message.envelope.rcptTo
    : [...message.envelope.rcptTo, deps.anchors.intakeAddress(desk)];
  try {
    const outcome = await deps.intake.take(
      desk,
      {
        id: message.id,
        mailFrom: message.envelope.mailFrom,
        rcptTo,
        size: message.size,
        parsed: { ...parsed, headers },
      },
      raw,
    );
    return { outcome: 'succeeded', detail: outcome.detail };
  } catch (err) {
    return { outcome: 'retry', reason: `the desk could not take the message: ${(err as Error).message}` };
  }
}
