// Schemas of the tickets API (Mailroom's own, in the API's PascalCase): the desk's tickets, their
// conversations, agents' replies and notes, held messages, and the ticket event feed.
import { z } from 'zod';
import { TICKET_STATES } from '../../../domain/ticket.ts';

const state = z.enum(TICKET_STATES);
const person = z
  .string()
  .max(200)
  .regex(/^[^\p{Cc}]*$/u, 'one line without control characters');

export const ticketParam = z.object({
  id: z
    .string()
    .regex(/^(?:[0-9A-Za-z]{22}|[A-Za-z][A-Za-z0-9]{0,19}-\d{1,9})$/, 'a ticket ID or key (SUPPORT-7102)'),
});

export const entryParam = ticketParam.extend({ entry: z.string().regex(/^[0-9A-Za-z]{22}$/, 'an entry ID') });

export const ticketListQuery = z.object({
  desk: z.string().max(64).optional(),
  state: z
    .string()
    .regex(/^(open|pending|solved|closed)(,(open|pending|solved|closed))*$/, 'states separated by commas')
    .optional()
    .describe('Comma-separated states, e.g. open,pending'),
  assignee: z.string().max(200).optional().describe('An agent; empty for unassigned tickets'),
  tag: z.string().max(100).optional(),
  query: z
    .string()
    .max(500)
    .optional()
    .describe('Words that must all appear in the key, subject, requester or conversation'),
  start: z.coerce.number().int().min(0).max(1_000_000).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const ticketPatch = z
  .strictObject({
    State: state.optional(),
    Assignee: person.nullable().optional().describe('null unassigns'),
    Tags: z.array(z.string().min(1).max(100)).max(50).optional(),
    Subject: z
      .string()
      .min(1)
      .max(998)
      .regex(/^[^\p{Cc}]*$/u)
      .optional(),
    Actor: person.optional().describe('Who made the change, for the events'),
  })
  .refine((p) => Object.keys(p).some((k) => k !== 'Actor'), 'nothing to change');

const address = z
  .string()
  .min(3)
  .max(320)
  .regex(/^[^\s<>()[\],;:\\"@]+@[^\s<>()[\],;:\\"@]+$/, 'a plain address');

export const replyBody = z.strictObject({
  Text: z.string().min(1).max(1_000_000),
  HTML: z.string().max(5_000_000).optional(),
  Cc: z.array(address).max(20).default([]),
  Author: person.optional(),
  State: state.optional().describe('The state the ticket takes with the reply, e.g. pending'),
});

export const noteBody = z.strictObject({
  Text: z.string().min(1).max(1_000_000),
  Author: person.optional(),
});

export const heldQuery = z.object({
  desk: z.string().max(64).optional(),
  all: z.enum(['0', '1']).default('0').describe('1 lists resolved ones too'),
  start: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const heldParam = z.object({
  message: z.string().regex(/^[0-9A-Za-z]{22}$/, 'a message ID'),
  action: z.enum(['attach', 'open', 'dismiss']),
});

export const heldBody = z
  .strictObject({
    Desk: z.string().max(64).optional().describe('Needed only when several desks hold the message'),
    Ticket: z
      .string()
      .max(40)
      .optional()
      .describe('attach: the ticket (ID or key); the one it named when absent'),
    Actor: person.optional(),
  })
  .default({});

export const eventsQuery = z.object({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .describe('Resume after this event seq (or send Last-Event-ID)'),
  format: z.enum(['sse', 'json']).default('sse'),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});

const addressShape = z.object({ Name: z.string(), Address: z.string() });

export const ticketShape = z.object({
  ID: z.string(),
  Key: z.string().describe('SUPPORT-7102: the ticket name and its address'),
  Desk: z.string(),
  Number: z.number().int(),
  Subject: z.string(),
  Requester: addressShape,
  Participants: z.array(z.string()),
  State: state,
  Assignee: z.string().nullable(),
  Tags: z.array(z.string()),
  Address: z.string().describe('The ticket address'),
  CreatedAt: z.string(),
  UpdatedAt: z.string(),
  Entries: z.number().int(),
});

export const entryShape = z.object({
  ID: z.string(),
  Kind: z.enum(['customer', 'automatic', 'bounce', 'agent', 'note', 'acknowledgement']),
  MessageID: z.string().nullable().describe('The received message in the inbox'),
  OutboundID: z.string().nullable().describe('Our mail in the outbound queue'),
  HeaderMessageID: z.string().nullable(),
  From: addressShape,
  To: z.array(z.string()),
  Cc: z.array(z.string()),
  Subject: z.string(),
  Text: z.string(),
  StrippedText: z.string().describe('The new part of a reply, without quoted history and signature'),
  HasHTML: z.boolean(),
  Attachments: z.array(
    z.object({
      PartID: z.string(),
      FileName: z.string(),
      ContentType: z.string(),
      Size: z.number(),
      Inline: z.boolean(),
      ContentID: z.string(),
    }),
  ),
  Author: z.string().nullable(),
  Note: z.string().nullable().describe('Why it is automatic mail, or what a bounce said'),
  HasSource: z.boolean(),
  At: z.string(),
});

export const ticketWithEntries = ticketShape.extend({ Conversation: z.array(entryShape) });
export const ticketList = z.object({
  total: z.number().int(),
  start: z.number().int(),
  tickets: z.array(ticketShape),
});

export const deskShape = z.object({
  Name: z.string(),
  Domain: z.string(),
  Intake: z.string().describe('Mail to this address opens a ticket'),
  Prefix: z.string().describe('Ticket keys: PREFIX-7102'),
  Acknowledge: z.boolean().describe('New tickets are acknowledged to their requester'),
  FromName: z.string(),
});

export const heldShape = z.object({
  MessageID: z.string(),
  Desk: z.string(),
  TicketID: z.string().nullable(),
  Reason: z.string(),
  From: z.string(),
  Subject: z.string(),
  At: z.string(),
  Resolution: z.string().nullable(),
  ResolvedAt: z.string().nullable(),
});

export const eventShape = z.object({
  Seq: z.number().int(),
  ID: z.string().describe('Stable: the same event delivered twice has the same ID'),
  Type: z.string().describe('ticket:created|replied|updated|status_changed|held'),
  TicketID: z.string().nullable(),
  At: z.string(),
  Data: z.record(z.string(), z.unknown()),
});
