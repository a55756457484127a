// Schemas of the wait endpoints (Mailroom's own): a long poll for the first message matching a
// search, and the cursor that makes successive waits see each message once.
import { z } from 'zod';
import { messageSummary } from '../../openapi/shapes.ts';

/** The longest one request may wait: long enough for a slow CI job, short enough for proxies. */
export const MAX_WAIT_MS = 5 * 60_000;
export const DEFAULT_WAIT = '30s';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };

/**
 * `500ms`, `30s`, `1.5m` → milliseconds; null when unreadable. A unit is required: a bare `30`
 * would be seconds to one reader and milliseconds to another.
 */
export function parseWaitDuration(text: string): number | null {
  const m = /^(\d{1,7}(?:\.\d{1,3})?)(ms|s|m)$/.exec(text.trim());
  return m ? Math.round(Number(m[1]) * UNIT_MS[m[2]!]!) : null;
}

const timeout = z
  .string()
  .default(DEFAULT_WAIT)
  .transform((text, ctx) => {
    const ms = parseWaitDuration(text);
    if (ms === null || ms > MAX_WAIT_MS) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration with a unit (ms, s or m) of at most ${MAX_WAIT_MS / 60_000}m`,
      });
      return z.NEVER;
    }
    return ms;
  })
  .describe(`How long to wait, with a unit: 500ms, 30s, 2m (default ${DEFAULT_WAIT}, at most 5m)`);

/** A cursor as the API hands it out: the decimal store sequence number of a message, or 0. */
export const cursor = z
  .string()
  .regex(/^\d{1,15}$/, 'expected a cursor returned by an earlier wait (decimal digits)')
  .transform(Number);

export const waitQuery = z.object({
  query: z
    .string()
    .max(2000)
    .default('')
    .describe(
      'Search in Mailpit syntax, e.g. `to:ann@example.test subject:"reset"`; empty matches any message',
    ),
  timeout,
  after: cursor
    .optional()
    .describe(
      'Only messages stored after this cursor, oldest first; without it, the newest matching message',
    ),
  tz: z
    .string()
    .max(64)
    .optional()
    .describe('IANA time zone for `before:` and `after:` dates in the search; UTC by default'),
});

export const waitResult = z.object({
  Cursor: z
    .string()
    .describe('The matched message as a cursor: give it as `after` to wait for the next matching message'),
  Message: messageSummary.describe('The message, as GET /api/v1/messages lists it'),
});

export const cursorResult = z.object({
  Cursor: z
    .string()
    .describe(
      'The newest message stored so far (0 when there is none): a wait `after` it sees only newer mail',
    ),
});
