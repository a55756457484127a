// Schemas of the queue endpoints (Mailroom's own): listing deliveries, operator actions, and one
// outbound message with its deliveries and events.
import { z } from 'zod';
import { DELIVERY_STATES } from '../../../domain/delivery.ts';
import { decimal } from '../../params.ts';

export const queueListQuery = z.object({
  state: z.enum(DELIVERY_STATES).optional().describe('Only deliveries in this state'),
  start: decimal(0, Number.MAX_SAFE_INTEGER, 0).describe('Pagination offset'),
  limit: decimal(1, 1000, 100).describe('Deliveries per page'),
});

export const deliveryParam = z
  .string()
  .regex(/^[0-9A-Za-z]{22}$/, 'not a delivery ID')
  .describe('Delivery ID');

export const queueAction = z.enum(['hold', 'release', 'retry', 'cancel']).describe('What to do');

const recipient = z.object({
  Address: z.string(),
  State: z.enum(['pending', 'delivered', 'deferred', 'bounced', 'suppressed']),
  Reply: z.string().nullable().describe("The remote's reply for this recipient"),
});

export const delivery = z.object({
  ID: z.string(),
  MessageID: z.string().describe('Database ID of the outbound message'),
  Domain: z.string(),
  State: z.enum(DELIVERY_STATES),
  Attempts: z.number().int(),
  NextAttemptAt: z.string(),
  ExpiresAt: z.string(),
  LastReply: z.string().nullable(),
  CreatedAt: z.string(),
  UpdatedAt: z.string(),
  Recipients: z.array(recipient),
});

export const deliveryList = z.object({ deliveries: z.array(delivery) });

export const outboundMessage = z.object({
  ID: z.string(),
  MessageID: z.string().describe('The Message-ID header'),
  MailFrom: z.string(),
  RcptTo: z.array(z.string()),
  Size: z.number().int(),
  Source: z.enum(['api', 'submission', 'system']),
  Tags: z.array(z.string()),
  Metadata: z.record(z.string(), z.string()).describe('The values the sender attached (never sent)'),
  QueuedAt: z.string(),
  SendAt: z.string(),
  Deliveries: z.array(delivery),
  Events: z.array(
    z.object({
      ID: z.string().describe('Stable event ID'),
      Type: z
        .string()
        .describe(
          'message:queued, delivery:attempted|deferred|delivered|bounced|delayed|suppressed|expired|held|released|retried|cancelled, message:opened|clicked|complained',
        ),
      At: z.string(),
      DeliveryID: z.string().nullable(),
      Data: z.record(z.string(), z.unknown()),
    }),
  ),
});
