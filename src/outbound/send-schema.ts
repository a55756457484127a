// Body of POST /api/v1/send in Mailpit's shape (PascalCase field names). Every object is strict:
// an unknown key is refused rather than ignored, so fields such as nodemailer's `path` or `href`
// (which would make it read a file or fetch a URL) can never reach the composer. The limits here
// only bound the work done on a request; composeMessage checks the content itself.
import { z } from 'zod';
import { MAX_TAGS_PER_MESSAGE } from '../domain/tags.ts';
import { TEMPLATE_NAME } from '../domain/template.ts';

/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the angle brackets. */
const MAX_ADDRESS = 254;
const MAX_NAME = 256;
/** RFC 5322 §2.1.1: a line is at most 998 characters, so no unfolded value can be longer. */
const MAX_LINE = 998;
/** RFC 5322 §2.1.1 recommends 78; a header name must leave room for ": " and some value. */
const MAX_HEADER_NAME = 76;
/** Bounds parsing only; the configured message size limit is what really applies. */
const MAX_BODY_CHARS = 64 * 1024 * 1024;
/** Per list (To, Cc, Bcc, ReplyTo); the configured recipient limit applies to their union. */
const MAX_LIST = 1000;
const MAX_ATTACHMENTS = 100;
const MAX_HEADERS = 100;

const email = z.string().max(MAX_ADDRESS).describe('Email address, e.g. `ann@example.com`');

const mailbox = z
  .strictObject({
    Email: email,
    Name: z.string().max(MAX_NAME).optional().describe('Display name'),
  })
  .describe('A mailbox: address and optional display name');

const attachment = z
  .strictObject({
    Content: z
      .string()
      .max(MAX_BODY_CHARS)
      .describe('File content in base64, optionally with a data URL prefix such as `data:image/png;base64,`'),
    Filename: z.string().min(1).max(255).describe('File name shown to the recipient'),
    ContentType: z
      .string()
      .max(255)
      .optional()
      .describe('Media type, e.g. `image/png`; detected from the file name when absent'),
    ContentID: z
      .string()
      .max(255)
      .optional()
      .describe('Content-ID for an inline part referenced from the HTML as `cid:<ContentID>`'),
  })
  .describe('An attachment, or an inline part when ContentID is set');

const headers = z
  .record(z.string().max(MAX_HEADER_NAME), z.string().max(MAX_LINE))
  .refine((h) => Object.keys(h).length <= MAX_HEADERS, `at most ${MAX_HEADERS} headers`)
  .describe('Additional headers, name to value; headers the composer sets itself are refused');

export const sendRequestSchema = z
  .strictObject({
    From: mailbox.describe('Sender (From header and MAIL FROM)'),
    To: z.array(mailbox).max(MAX_LIST).optional().describe('To recipients'),
    Cc: z.array(mailbox).max(MAX_LIST).optional().describe('Cc recipients'),
    Bcc: z
      .array(email)
      .max(MAX_LIST)
      .optional()
      .describe('Bcc recipients: in the SMTP envelope only, never in the headers'),
    ReplyTo: z.array(mailbox).max(MAX_LIST).optional().describe('Reply-To addresses'),
    Subject: z.string().max(MAX_LINE).optional().describe('Subject line'),
    Text: z.string().max(MAX_BODY_CHARS).optional().describe('Plain text body'),
    HTML: z.string().max(MAX_BODY_CHARS).optional().describe('HTML body'),
    Attachments: z.array(attachment).max(MAX_ATTACHMENTS).optional().describe('Attachments and inline parts'),
    Tags: z
      .array(z.string().max(MAX_NAME))
      .max(MAX_TAGS_PER_MESSAGE)
      .optional()
      .describe('Tags, sent as one `X-Tags` header'),
    Headers: headers.optional(),
    Template: z
      .string()
      .regex(TEMPLATE_NAME, 'not a template name')
      .optional()
      .describe('Mailroom: the stored template that makes Subject, Text and HTML (give none of them)'),
    TemplateData: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Mailroom: the values the template refers to; HTML-escaped in the HTML part'),
    SendAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Mailroom: deliver no earlier than this time (ISO 8601); at most 30 days ahead'),
    Metadata: z
      .record(
        z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'keys: 1 to 40 letters, digits, _ . -'),
        z.string().max(500),
      )
      .refine((m) => Object.keys(m).length <= 20, 'at most 20 keys')
      .optional()
      .describe('Mailroom: your own values, kept with the message and returned with its status (never sent)'),
    Tracking: z
      .strictObject({
        Opens: z.boolean().optional().describe('Add the open pixel (message:opened events)'),
        Clicks: z
          .boolean()
          .optional()
          .describe('Send web links through click redirects (message:clicked events)'),
      })
      .optional()
      .describe(
        "Mailroom: track this message's HTML; each field not given follows --track-opens / --track-clicks",
      ),
  })
  .superRefine((r, ctx) => {
    if (r.Template === undefined) {
      if (r.TemplateData !== undefined)
        ctx.addIssue({ code: 'custom', path: ['TemplateData'], message: 'needs Template' });
      return;
    }
    for (const field of ['Subject', 'Text', 'HTML'] as const) {
      if (r[field] !== undefined)
        ctx.addIssue({ code: 'custom', path: [field], message: 'comes from the Template' });
    }
  })
  .describe('A message to send, in the shape of Mailpit’s send API, with Mailroom’s template fields');

export type SendRequest = z.infer<typeof sendRequestSchema>;
