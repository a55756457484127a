// Schemas of the API key endpoints (Mailroom's own).
import { z } from 'zod';
import { API_KEY_NAME_MAX, API_KEY_SCOPES } from '../../../domain/api-key.ts';
import { decimal } from '../../params.ts';

export const keyListQuery = z.object({
  start: decimal(0, Number.MAX_SAFE_INTEGER, 0).describe('Pagination offset'),
  limit: decimal(1, 1000, 100).describe('Keys per page'),
});

export const keyParam = z
  .string()
  .regex(/^[0-9A-Za-z]{22}$/, 'not a key ID')
  .describe('Key ID: the part between `mr_` and the second `_` of the key');

const scope = z.enum(API_KEY_SCOPES);

export const keyBody = z
  .object({
    Name: z
      .string()
      .max(API_KEY_NAME_MAX)
      .regex(/\S/, 'must not be empty')
      .regex(/^\P{Cc}*$/u, 'must not contain control characters')
      .describe('What the key is for, shown in listings'),
    Scopes: z
      .array(scope)
      .min(1)
      .max(API_KEY_SCOPES.length * 4)
      .describe(
        'What the key may do: send (the send endpoints), read (every GET), manage (every other change, and keys); at most those of the credentials that make it',
      ),
    ExpiresAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('When the key stops working (ISO 8601, in the future); never when absent'),
  })
  .strict();

export const apiKey = z.object({
  ID: z.string().describe('Key ID; the key reads mr_<ID>_<secret>'),
  Name: z.string(),
  Scopes: z.array(scope),
  State: z.enum(['active', 'expired', 'revoked']),
  CreatedAt: z.string(),
  LastUsedAt: z.string().nullable().describe('Updated at most about once a minute'),
  ExpiresAt: z.string().nullable(),
  RevokedAt: z.string().nullable(),
});

export const createdKey = apiKey.extend({
  Key: z.string().describe('The whole key, for Authorization: Bearer; shown this once only'),
});

export const keyList = z.object({ keys: z.array(apiKey) });
