// Response shapes of the API as zod schemas: the OpenAPI document is generated from them, and the
// tests parse real responses through them, so the document cannot drift from what is served.
import { z } from 'zod';

export const address = z.object({ Name: z.string(), Address: z.string() });

export const envelope = z.object({
  MailFrom: z.string().describe("SMTP MAIL FROM ('' for the null reverse-path)"),
  RcptTo: z.array(z.string()).describe('SMTP RCPT TO: every recipient, Bcc included'),
  ClientIP: z.string(),
  ClientPort: z.number().int(),
  Helo: z.string(),
  TLS: z.object({ Protocol: z.string(), Cipher: z.string() }).nullable(),
  AuthUser: z.string().nullable(),
  Listener: z.string(),
  ReceivedAt: z.string(),
  SessionID: z.string(),
  Inbox: z
    .string()
    .describe('The inbox the message is filed in (--inbox); `default` unless another takes it'),
});

const parseState = z.enum(['pending', 'parsed', 'failed']);

export const messageSummary = z.object({
  ID: z.string(),
  MessageID: z.string(),
  Read: z.boolean(),
  From: address.nullable(),
  To: z.array(address),
  Cc: z.array(address),
  Bcc: z.array(address),
  ReplyTo: z.array(address),
  Subject: z.string(),
  Created: z.string(),
  Username: z.string(),
  Tags: z.array(z.string()),
  Size: z.number().int(),
  Attachments: z.number().int(),
  Snippet: z.string(),
  Envelope: envelope.describe('Mailroom: the SMTP envelope'),
  ParseState: parseState.describe('Mailroom: parse status'),
  ParseError: z.string().nullable(),
});

export const messagesSummary = z.object({
  total: z.number().int().describe('Messages in the mailbox'),
  unread: z.number().int().describe('Unread messages in the mailbox'),
  count: z.number().int().describe('Messages in this page'),
  messages_count: z.number().int().describe('Messages matching the search (the total without one)'),
  messages_unread: z.number().int().describe('Unread messages matching the search'),
  start: z.number().int(),
  tags: z.array(z.string()).describe('Every tag'),
  messages: z.array(messageSummary),
});

export const attachment = z.object({
  PartID: z.string(),
  FileName: z.string(),
  ContentType: z.string(),
  ContentID: z.string(),
  Size: z.number().int(),
  Checksums: z.object({ MD5: z.string(), SHA1: z.string(), SHA256: z.string() }),
});

export const message = z.object({
  ID: z.string(),
  MessageID: z.string(),
  From: address.nullable(),
  To: z.array(address),
  Cc: z.array(address),
  Bcc: z.array(address),
  ReplyTo: z.array(address),
  ReturnPath: z.string(),
  Subject: z.string(),
  ListUnsubscribe: z.object({
    Header: z.string(),
    Links: z.array(z.string()),
    Errors: z.string(),
    HeaderPost: z.string(),
  }),
  Date: z.string(),
  Tags: z.array(z.string()),
  Username: z.string(),
  Text: z.string(),
  HTML: z.string(),
  Size: z.number().int(),
  Inline: z.array(attachment),
  Attachments: z.array(attachment),
  Envelope: envelope,
  ParseState: parseState,
  ParseError: z.string().nullable(),
});

export const headers = z.record(z.string(), z.array(z.string())).describe('Header name → values, in order');

export const spamResult = z.object({
  Error: z.string(),
  IsSpam: z.boolean(),
  Score: z.number(),
  Rules: z.array(z.object({ Name: z.string(), Score: z.number(), Description: z.string() })),
  Engine: z.enum(['spamassassin', 'rspamd']).describe('Mailroom: which checker scored the message'),
});

export const appInfo = z.object({
  Version: z.string(),
  LatestVersion: z.string(),
  Database: z.string(),
  DatabaseSize: z.number().int(),
  Messages: z.number().int(),
  Unread: z.number().int(),
  Tags: z.record(z.string(), z.number().int()),
  RuntimeStats: z.object({
    Uptime: z.number().int(),
    Memory: z.number().int(),
    MessagesDeleted: z.number().int(),
    SMTPAccepted: z.number().int(),
    SMTPAcceptedSize: z.number().int(),
    SMTPRejected: z.number().int(),
    SMTPIgnored: z.number().int(),
  }),
});

export const webUiConfig = z.object({
  Label: z.string(),
  MessageRelay: z.object({
    Enabled: z.boolean(),
    SMTPServer: z.string(),
    ReturnPath: z.string(),
    AllowedRecipients: z.string(),
    BlockedRecipients: z.string(),
    OverrideFrom: z.string(),
    PreserveMessageIDs: z.boolean(),
  }),
  SpamAssassin: z.boolean(),
  ChaosEnabled: z.boolean(),
  DuplicatesIgnored: z.boolean(),
  HideDeleteAllButton: z.boolean(),
});

export const problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
});
