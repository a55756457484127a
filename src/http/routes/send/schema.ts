// Input schemas of the send endpoint. The body is Mailpit's send request (outbound/send-schema.ts).
import { z } from 'zod';

export { sendRequestSchema as sendBody } from '../../../outbound/send-schema.ts';

/** Printable ASCII without spaces, as clients generate them (UUIDs, ULIDs, hashes). */
export const idempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'expected 1–255 printable ASCII characters without spaces')
  .describe(
    'Idempotency-Key header: a retry with the same key and body returns the first ID and queues nothing',
  );

export const sendAccepted = z.object({
  ID: z.string().describe('Database ID of the queued message; with the capture transport, its inbox ID too'),
});

/** JSON bodies carry attachments in base64 (4/3 of their size) plus the text around them. */
export function sendBodyLimit(maxMessageSize: number): number {
  return Math.ceil((maxMessageSize * 4) / 3) + 64 * 1024;
}
