// Schemas of the routing record and action endpoints (Mailroom's own).
import { z } from 'zod';

export const actionJobId = z
  .string()
  .regex(/^[0-9A-Za-z]{22}:[A-Za-z0-9_-]{1,64}:\d{1,3}$/, 'not an action ID')
  .describe('Action ID: <message ID>:<route ID>:<action index>');

export const actionJobShape = z.object({
  ID: z.string(),
  MessageID: z.string(),
  RouteID: z.string(),
  Index: z.number().describe('Position of the action in its route'),
  Type: z.string(),
  State: z.enum(['pending', 'running', 'succeeded', 'failed']),
  Attempts: z.number(),
  NextAttemptAt: z.string().nullable(),
  ExpiresAt: z.string().describe('No retry after this'),
  LastError: z.string().nullable(),
  Captures: z.record(z.string(), z.string()),
  CreatedAt: z.string(),
  UpdatedAt: z.string(),
});

export const messageRouting = z.object({
  Listener: z.enum(['smtp', 'submission', 'smtps', 'api', 'imap', 'pop3']).describe('The door it came in by'),
  Authentication: z
    .object({
      SPF: z.string(),
      DKIM: z.array(z.string()).describe('One result per signature, in header order'),
      DMARC: z.string(),
      ARC: z.string(),
      Header: z.string().describe('Our Authentication-Results field as stored (RFC 8601)'),
    })
    .nullable()
    .describe('Our sender checks; null when the message was not checked (not MX or polled mail)'),
  Events: z.array(
    z.object({
      ID: z.string().describe('Stable: recording the same outcome twice keeps one'),
      At: z.string(),
      Type: z
        .string()
        .describe(
          'route:matched, route:timed-out, route:skipped, action:succeeded, action:failed, webhook:disabled, release:succeeded, release:failed',
        ),
      RouteID: z.string().nullable(),
      Data: z.record(z.string(), z.unknown()),
    }),
  ),
  Actions: z.array(actionJobShape),
});
