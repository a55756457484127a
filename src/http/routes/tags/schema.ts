// Input schemas of Mailpit's tag endpoints.
import { z } from 'zod';

/** PUT /api/v1/tags: set exactly these tags on these messages (an empty list removes them all). */
export const setTagsBody = z.object({
  IDs: z.array(z.string().max(100)).min(1).max(100_000).describe('Message database IDs'),
  Tags: z.array(z.string().max(200)).max(100).describe('Tag names to set'),
});

/** PUT /api/v1/tags/{Tag}: the new name. */
export const renameTagBody = z.object({ Name: z.string().min(1).max(200).describe('New name') });

export const tagParam = z.string().min(1).max(200);
