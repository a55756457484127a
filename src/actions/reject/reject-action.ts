// A reject route refuses mail while the SMTP client waits. A message routed after it was accepted
// (one that only content conditions could match) cannot be refused any more: the job says so.
import type { RejectAction } from '../../domain/route.ts';
import type { ActionExecutor } from '../action.ts';

export const rejectAfterAcceptance: ActionExecutor<RejectAction> = {
  type: 'reject',
  async execute(action) {
    return {
      outcome: 'failed',
      reason: `the message had been accepted before this route was evaluated, so it could not be refused with ${action.code} ${action.text}`,
    };
  },
};
