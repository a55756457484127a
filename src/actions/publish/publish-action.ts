// The publish action: the message's JSON payload to a broker. One publisher per target, kept
// between jobs; the job id is the message id the broker sees, so a retried job that the broker
// already took is recognised (JetStream dedupes by it; AMQP consumers can).
import type { PublishAction } from '../../domain/route.ts';
import type { Logger } from '../../observability/logger.ts';
import type { ActionExecutor } from '../action.ts';
import { attachmentList, buildPayload } from '../payload.ts';
import { createPublisher, type Publisher } from './publisher.ts';

export function publishAction(deps: { logger: Logger; timeoutMs?: number }): ActionExecutor<PublishAction> {
  const publishers = new Map<string, Publisher>();
  const publisher = (action: PublishAction) => {
    const key = JSON.stringify(action.target);
    let p = publishers.get(key);
    if (!p) {
      p = createPublisher(action.target, {
        logger: deps.logger,
        ...(deps.timeoutMs ? { timeoutMs: deps.timeoutMs } : {}),
      });
      publishers.set(key, p);
    }
    return p;
  };
  return {
    type: 'publish',
    async execute(action, ctx) {
      const payload = buildPayload(ctx.message, ctx.job, attachmentList(ctx.message), ctx.auth ?? null);
      const outcome = await publisher(action).publish({
        id: ctx.job.id,
        body: new TextEncoder().encode(JSON.stringify(payload)),
        contentType: 'application/json',
        headers: { 'Mailroom-Message-Id': ctx.message.id, 'Mailroom-Route-Id': ctx.job.routeId },
      });
      if (outcome.ok) {
        const where =
          action.target.kind === 'amqp'
            ? `exchange ${action.target.exchange}`
            : `subject ${action.target.subject}`;
        return { outcome: 'succeeded', detail: `published to ${where}` };
      }
      return outcome.retry
        ? { outcome: 'retry', reason: outcome.reason }
        : { outcome: 'failed', reason: outcome.reason };
    },
    async close() {
      await Promise.allSettled([...publishers.values()].map((p) => p.close()));
      publishers.clear();
    },
  };
}
