// Input schemas of the send endpoint. The body is Mailpit's send request (outbound/send-schema.ts).
import { z } from 'zod';

import { sendRequestSchema } from '../../../outbound/send-schema.ts';

export { sendRequestSchema as sendBody };

/** Up to 500 messages in one request, each checked and queued on its own. */
export const MAX_BATCH = 500;

export const batchBody = z
  .array(z.unknown())
  .min(1)
  .max(MAX_BATCH)
  .describe(`1 to ${MAX_BATCH} send requests, each in the body of POST /api/v1/send`);

/** The documented shape of a batch (each item is validated on its own when queued). */
export const batchBodyDoc = z.array(sendRequestSchema).min(1).max(MAX_BATCH);

export const batchResults = z.object({
  Results: z.array(
    z.union([
      z.object({ ID: z.string().describe('Database ID of the queued message') }),
      z.object({
        Error: z.object({
          type: z.string(),
          title: z.string(),
          status: z.number().int(),
          detail: z.string(),
        }),
      }),
    ]),
  ),
});

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

/** A batch may be twice the size of one message, and at least 50 MB (as Postmark allows). */
export function batchBodyLimit(maxMessageSize: number): number {
  return Math.max(2 * sendBodyLimit(maxMessageSize), 50 * 1024 * 1024);
}
