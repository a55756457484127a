// Schemas of the suppression list endpoints (Mailroom's own).
import { z } from 'zod';
import { decimal } from '../../params.ts';

export const suppressionListQuery = z.object({
  start: decimal(0, Number.MAX_SAFE_INTEGER, 0).describe('Pagination offset'),
  limit: decimal(1, 1000, 100).describe('Entries per page'),
});

export const suppressionBody = z
  .object({
    Address: z.string().max(254).describe('The address no mail is to be sent to'),
    Reason: z
      .enum(['hard-bounce', 'complaint', 'unsubscribe', 'manual'])
      .default('manual')
      .describe('Why (hard bounces and complaints are added by Mailroom itself)'),
    Detail: z.string().max(1000).optional().describe('A note, or the reply that caused it'),
    ExpiresAt: z.iso.datetime().optional().describe('When the entry lapses (ISO 8601); never when absent'),
  })
  .strict();

export const suppression = z.object({
  Address: z.string(),
  Reason: z.enum(['hard-bounce', 'complaint', 'unsubscribe', 'manual']),
  Detail: z.string().nullable(),
  CreatedAt: z.string(),
  ExpiresAt: z.string().nullable(),
});

export const suppressionList = z.object({ suppressions: z.array(suppression) });
