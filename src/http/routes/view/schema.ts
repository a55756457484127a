// Query of the /view/{ID}.html endpoint.
import { z } from 'zod';

export const viewQuery = z.object({
  embed: z
    .string()
    .optional()
    .describe('1 for the web UI preview: links open in a new tab, meta refresh and <base> are removed'),
  remote: z
    .enum(['0', '1'])
    .optional()
    .describe('1 allows remote images, styles and fonts (blocked by default)'),
});
