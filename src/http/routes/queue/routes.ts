// The outbound queue over HTTP: list deliveries, act on one (hold, release, retry now, cancel),
// and show one outbound message with its deliveries and every event it went through.
import { Hono } from 'hono';
import type { DeliveryRecord } from '../../../domain/delivery.ts';
import type { OutboundStore } from '../../../storage/ports.ts';
import type { AppEnv } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { validate } from '../../validate.ts';
import { deliveryParam, queueAction, queueListQuery } from './schema.ts';

export function presentDelivery(d: DeliveryRecord) {
  return {
    ID: d.id,
    MessageID: d.outboundId,
    Domain: d.domain,
    State: d.state,
    Attempts: d.attempts,
    NextAttemptAt: d.nextAttemptAt,
    ExpiresAt: d.expiresAt,
    LastReply: d.lastReply,
    CreatedAt: d.createdAt,
    UpdatedAt: d.updatedAt,
    Recipients: d.recipients.map((r) => ({ Address: r.address, State: r.state, Reply: r.reply })),
  };
}

export interface QueueRouteDeps {
  queue: OutboundStore;
  now: () => number;
  /** A delivery of this message is due now (retry, release): wakes the local worker. */
  onDue: (outboundId: string) => void;
}

export function queueRoutes(deps: QueueRouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { queue } = deps;

  app.get('/queue', async (c) => {
    const q = validate(queueListQuery, c.req.query(), 'query');
    const list = await queue.deliveries({
      start: q.start,
      limit: q.limit,
      ...(q.state ? { state: q.state } : {}),
    });
    return c.json({ deliveries: list.map(presentDelivery) });
  });

  app.post('/queue/:id/:action', async (c) => {
    const id = validate(deliveryParam, c.req.param('id'), 'delivery ID');
    const action = validate(queueAction, c.req.param('action'), 'action');
    const result = await queue.control(id, action, new Date(deps.now()).toISOString());
    if (result === null) throw new HttpProblem('not-found', `There is no delivery ${id}.`);
    if (result === false) {
      throw new HttpProblem('conflict', `Delivery ${id} cannot be given "${action}" in its present state.`);
    }
    c.get('log').info({ delivery: id, action, state: result.state }, 'queue action');
    if (action === 'retry' || action === 'release') deps.onDue(result.outboundId);
    return c.json(presentDelivery(result));
  });

  app.get('/outbound/:id', async (c) => {
    const id = c.req.param('id');
    // One after the other: on PostgreSQL two reads in parallel take two snapshots, and a delivery
    // committed between them would show as delivered without its event. Read in this order, the
    // events hold at least what the state says happened.
    const view = await queue.get(id);
    if (!view) throw new HttpProblem('not-found', `There is no outbound message ${id}.`);
    const events = await queue.events(id);
    return c.json({
      ID: view.id,
      MessageID: view.headerMessageId,
      MailFrom: view.mailFrom,
      RcptTo: view.rcptTo,
      Size: view.size,
      Source: view.source,
      Tags: view.tags,
      Metadata: view.metadata,
      QueuedAt: view.queuedAt,
      SendAt: view.sendAt,
      Deliveries: view.deliveries.map(presentDelivery),
      Events: events.map((e) => ({
        ID: e.id,
        Type: e.type,
        At: e.at,
        DeliveryID: e.deliveryId,
        Data: e.data,
      })),
    });
  });

  return app;
}
