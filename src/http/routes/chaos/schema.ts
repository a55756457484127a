// Schemas of /api/v1/chaos: Mailpit's ChaosTriggers (Sender, Recipient, Authentication, each with
// ErrorCode and Probability) plus Mailroom's Connect and Data stages and, on every trigger,
// LatencyMs and Disconnect.
import { z } from 'zod';
import { MAX_LATENCY_MS } from '../../../smtp/chaos.ts';

export const chaosTriggerBody = z
  .object({
    ErrorCode: z
      .number()
      .int()
      .min(0)
      .max(599)
      .refine((n) => n === 0 || n >= 400, 'must be 400 to 599, or 0 for the default')
      .optional()
      .describe('SMTP reply code when the trigger fires, 400 to 599; 0 or absent: the stage default'),
    Probability: z
      .number()
      .int()
      .min(0)
      .max(100)
      .optional()
      .describe('Chance in percent that one command of the stage fails; absent: 0'),
    LatencyMs: z
      .number()
      .int()
      .min(0)
      .max(MAX_LATENCY_MS)
      .optional()
      .describe('Mailroom: milliseconds added before every reply of the stage, failing or not'),
    Disconnect: z
      .boolean()
      .optional()
      .describe('Mailroom: a failure closes the connection without any reply instead of answering'),
  })
  .strict();

export const chaosBody = z
  .object({
    Sender: chaosTriggerBody.optional().describe('MAIL FROM (default code 451)'),
    Recipient: chaosTriggerBody.optional().describe('Each RCPT TO (default code 451)'),
    Authentication: chaosTriggerBody.optional().describe('AUTH, when AUTH is offered (default code 535)'),
    Connect: chaosTriggerBody
      .optional()
      .describe('Mailroom: before the greeting; a failure answers and closes (default code 421)'),
    Data: chaosTriggerBody
      .optional()
      .describe('Mailroom: after the message data, before it is stored (default code 451)'),
  })
  .strict()
  .describe('Every trigger left out is reset to off, as in Mailpit; {} turns chaos off');

export const chaosTriggerShape = z.object({
  ErrorCode: z.number().int(),
  Probability: z.number().int(),
  LatencyMs: z.number().int(),
  Disconnect: z.boolean(),
});

export const chaosTriggers = z.object({
  Sender: chaosTriggerShape,
  Recipient: chaosTriggerShape,
  Authentication: chaosTriggerShape,
  Connect: chaosTriggerShape,
  Data: chaosTriggerShape,
});
