// The action registry: one executor per action type. Adding an action type touches its folder
// and one line here.
import type { Logger } from '../observability/logger.ts';
import type { Storage } from '../storage/ports.ts';
import type { ActionExecutor } from './action.ts';
import { autoReplyAction } from './auto-reply/auto-reply-action.ts';
import { forwardAction } from './forward/forward-action.ts';
import type { OutboundActionDeps } from './forward/outbound-deps.ts';
import { publishAction } from './publish/publish-action.ts';
import { rejectAfterAcceptance } from './reject/reject-action.ts';
import { storeAction } from './store/store-action.ts';
import { type TicketActionDeps, ticketAction } from './ticket/ticket-action.ts';
import { type WebhookActionDeps, webhookAction } from './webhook/webhook-action.ts';

/** How long a failing action keeps being retried: webhooks must be for at least 24 hours. */
export const ACTION_LIFETIME_MS = 26 * 3600_000;

export function actionExecutors(deps: {
  storage: Storage;
  logger: Logger;
  webhook: WebhookActionDeps;
  outbound: OutboundActionDeps;
  /** Null without desks: a ticket action then fails, saying so. */
  tickets: TicketActionDeps | null;
}): ActionExecutor[] {
  return [
    storeAction(deps.storage),
    webhookAction(deps.webhook),
    publishAction({ logger: deps.logger }),
    rejectAfterAcceptance,
    forwardAction(deps.outbound),
    autoReplyAction(deps.outbound),
    ticketAction(deps.tickets),
  ] as ActionExecutor[];
}
