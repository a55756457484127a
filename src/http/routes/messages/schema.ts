// Input schemas for the message list endpoints (Mailpit API v1: GET, PUT and DELETE /api/v1/messages).
import { z } from 'zod';

/** Mailpit pages 50 at a time by default. */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 5000;

/** Query values arrive as strings; only plain decimal digits are accepted (no "1e3", "0x10", " 5"). */
function decimal(min: number, max: number, fallback: number) {
  return z
    .string()
    .regex(/^\d{1,10}$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(fallback);
}

export const listQuery = z.object({
  start: decimal(0, Number.MAX_SAFE_INTEGER, 0),
  limit: decimal(1, MAX_LIMIT, DEFAULT_LIMIT),
});

const ids = z.array(z.string().max(100)).max(100_000);

/** DELETE body: `{"IDs": [...]}`; no body or no IDs means every message, as in Mailpit. */
export const deleteBody = z.object({ IDs: ids.optional() }).optional();

/** PUT body: `{"IDs": [...], "Read": bool}`; no IDs means every message. Read defaults to false (Go's zero value). */
export const readBody = z.object({ IDs: ids.optional(), Read: z.boolean().default(false) });
