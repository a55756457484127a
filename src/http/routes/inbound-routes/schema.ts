// Schemas of the route endpoints (Mailroom's own): the route body is shared with the routes file.
import { z } from 'zod';
import { routeBody } from '../../../routing/route-schema.ts';

export { routeBody, routeId } from '../../../routing/route-schema.ts';

export const routeTestBody = z
  .strictObject({
    Raw: z
      .string()
      .max(10 * 1024 * 1024)
      .optional()
      .describe('A whole message (RFC 5322) to route'),
    ID: z
      .string()
      .regex(/^[0-9A-Za-z]{22}$/, 'not a message ID')
      .optional()
      .describe('A stored message to route instead of Raw'),
    From: z
      .string()
      .max(320)
      .optional()
      .describe("Envelope sender for Raw (default: the From header's address)"),
    To: z
      .array(z.string().max(320))
      .max(100)
      .optional()
      .describe('Envelope recipients for Raw (default: the To and Cc addresses)'),
    Route: routeBody.optional().describe('Test this route alone instead of the routes in force'),
  })
  .refine((b) => (b.Raw === undefined) !== (b.ID === undefined), 'give either Raw or ID');

export const routeShape = z.object({
  ID: z.string(),
  Name: z.string(),
  Priority: z.number(),
  Enabled: z.boolean(),
  Match: z.enum(['all', 'any']),
  Conditions: z.array(z.record(z.string(), z.unknown())).describe('As given; see the request body'),
  Actions: z
    .array(z.record(z.string(), z.unknown()))
    .describe('As given; a broker password in a publish URL shows as ***'),
  Source: z.enum(['config', 'api']).describe('config: from the routes file, read-only here'),
  CreatedAt: z.string(),
  UpdatedAt: z.string(),
});

export const routeList = z.object({ routes: z.array(routeShape).describe('In evaluation order') });

export const routeTestResult = z.object({
  Outcome: z.string().describe('What would happen to the message, in one sentence'),
  StoppedBy: z.string().nullable().describe('The route whose stop action ended evaluation'),
  Routes: z.array(
    z.object({
      ID: z.string(),
      Name: z.string(),
      Matched: z.boolean(),
      Reason: z.string().describe('Why it matched or not, or why it was not looked at'),
      TimedOut: z.boolean().describe('Its conditions ran past the time budget'),
      Captures: z.record(z.string(), z.string()).describe('Named groups of its regular expressions'),
      Recipient: z.string().nullable().describe('The envelope recipient a recipient condition matched'),
      Actions: z.array(z.object({ Type: z.string(), WouldDo: z.string() })),
    }),
  ),
});
