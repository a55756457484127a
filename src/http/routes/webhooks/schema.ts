// Schemas of the webhook endpoint endpoints (Mailroom's own): each URL's health, and enabling one
// that too many failures in a row disabled.
import { z } from 'zod';

export const enableEndpointBody = z
  .object({ URL: z.string().min(1).max(2048).describe('The webhook URL, exactly as routes name it') })
  .strict();

export const webhookEndpointShape = z.object({
  URL: z.string(),
  State: z.enum(['enabled', 'disabled']),
  ConsecutiveFailures: z.number().int().describe('Failed attempts since the last success'),
  DisabledAt: z.string().nullable().describe('When failures in a row disabled it; null while enabled'),
  LastError: z.string().nullable(),
  LastSuccessAt: z.string().nullable(),
  UpdatedAt: z.string(),
});

export const webhookEndpointList = z.object({ endpoints: z.array(webhookEndpointShape) });
