// Input schemas for the mailbox endpoints of Mailpit's API v1: list, search, delete and read state.
import { z } from 'zod';
import { decimal } from '../../params.ts';

/** Mailpit pages 50 at a time by default. */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 5000;

const start = decimal(0, Number.MAX_SAFE_INTEGER, 0).describe('Pagination offset');
const limit = decimal(1, MAX_LIMIT, DEFAULT_LIMIT).describe('Number of messages per page');
const tz = z
  .string()
  .max(64)
  .optional()
  .describe('IANA time zone (e.g. Pacific/Auckland) for `before:` and `after:` dates; UTC by default');
const query = z
  .string()
  .max(2000)
  .describe('Search in Mailpit syntax, e.g. `from:ann subject:"order 42" -is:read`');

export const listQuery = z.object({ start, limit });

export const searchQuery = z.object({ query, start, limit, tz });

export const deleteSearchQuery = z.object({ query, tz });

const ids = z.array(z.string().max(100)).max(100_000).describe('Message database IDs');

/** DELETE body: `{"IDs": [...]}`; no body or no IDs means every message, as in Mailpit. */
export const deleteBody = z.object({ IDs: ids.optional() }).optional();

/**
 * PUT body: `{"IDs": [...], "Read": bool}` or `{"Search": "...", "Read": bool}`; neither means every
 * message. Read defaults to false (Go's zero value).
 */
export const readBody = z.object({
  IDs: ids.optional(),
  Read: z.boolean().default(false).describe('The read state to set'),
  Search: z.string().max(2000).optional().describe('Set the state of the messages matching this search'),
});

export const readQuery = z.object({ tz });
