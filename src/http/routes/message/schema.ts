// Path parameters of the single-message endpoints.
import { z } from 'zod';
import { isMessageId } from '../../../domain/ids.ts';

/** A stored message id, or `latest` for the newest message (Mailpit's alias). */
export const messageIdParam = z.union([
  z.literal('latest'),
  z.string().refine(isMessageId, 'not a message id'),
]);

/** Part ids are dotted MIME positions such as "1.2"; anything else cannot name a part. */
export const partIdParam = z.string().regex(/^[0-9A-Za-z._-]{1,64}$/);

/** `?dl=1` asks for the raw message as a download. */
export const rawQuery = z.object({ dl: z.string().optional() });
