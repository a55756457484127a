// Query and response shapes of the message checks (extract, html-check, link-check,
// list-unsubscribe). The OpenAPI document is generated from them and the tests parse responses
// through them. html-check and link-check keep Mailpit's fields; Mailroom's additions say so.
import { z } from 'zod';

export const linkCheckQuery = z.object({
  follow: z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .describe('Follow redirects, each hop checked by the address policy (default false)'),
});

const percent = z.number().min(0).max(100);

export const extractResult = z.object({
  Links: z.array(
    z.object({
      URL: z.string(),
      Text: z
        .string()
        .describe('Anchor text, image alt or title, or the label beside a URL in the text part'),
      Context: z.string().describe('The words around the link'),
      Kind: z.enum(['link', 'image', 'stylesheet']),
      Scheme: z.string().describe('https, http, mailto, tel, sms or ftp'),
      Sources: z.array(z.enum(['html', 'text'])),
      Count: z.number().int(),
      Target: z
        .string()
        .nullable()
        .describe('Where a click-tracking or safe-links wrapper leads, if it says'),
    }),
  ),
  Codes: z
    .array(
      z.object({
        Code: z.string().describe('As typed: digit groups joined, letter codes as shown'),
        Kind: z.enum(['numeric', 'alphanumeric']),
        Score: percent.describe('Likelihood, 0–100'),
        Context: z.string(),
        Sources: z.array(z.enum(['subject', 'text', 'html'])),
        Reasons: z.array(z.string()),
      }),
    )
    .describe('Likely one-time codes, most likely first'),
  Truncated: z.boolean().describe('A part was longer than 2 MiB; links were read from its first 2 MiB'),
});

const support = z.enum(['yes', 'no', 'partial', 'unknown']);

export const htmlCheckResult = z.object({
  Platforms: z
    .record(z.string(), z.array(z.string()))
    .describe('Platform → the client families tested on it'),
  Total: z.object({
    Nodes: z.number().int().describe('Elements in the HTML'),
    Tests: z.number().int().describe('Features tested'),
    Supported: percent,
    Partial: percent,
    Unsupported: percent,
  }),
  Warnings: z.array(
    z.object({
      Slug: z.string(),
      Title: z.string(),
      Description: z.string().describe('Plain text'),
      URL: z.string().describe("The feature's caniemail.com page"),
      Category: z.string(),
      Tags: z.array(z.string()),
      Keywords: z.string(),
      NotesByNumber: z.record(z.string(), z.string()),
      Results: z.array(
        z.object({
          Name: z.string(),
          Family: z.string(),
          Platform: z.string(),
          Version: z.string().describe('The latest version caniemail tested'),
          Support: support,
          NoteNumber: z.string(),
          NoteNumbers: z.array(z.string()).describe('Mailroom: every note that applies'),
        }),
      ),
      Score: z.object({
        Found: z.number().int(),
        Supported: percent,
        Partial: percent,
        Unsupported: percent,
      }),
    }),
  ),
  Families: z
    .array(
      z.object({
        Family: z.string(),
        Name: z.string(),
        Clients: z.array(z.string()),
        Score: percent.describe('Supported plus half of Partial'),
        Supported: percent,
        Partial: percent,
        Unsupported: percent,
        Coverage: percent.describe('Share of the features used that caniemail tested for this family'),
        PartialFeatures: z.number().int(),
        UnsupportedFeatures: z.number().int(),
      }),
    )
    .describe('Mailroom: support per client family'),
  Truncated: z.boolean().describe('Mailroom: only the first 2 MiB of the HTML were checked'),
  DataDate: z.string().describe('Mailroom: when the caniemail tables were updated'),
});

export const linkCheckResult = z.object({
  Errors: z.number().int().describe('Links with status 0 or 400 and above'),
  Links: z.array(
    z.object({
      URL: z.string(),
      StatusCode: z.number().int().describe('0 when there was no HTTP answer'),
      Status: z.string(),
      Blocked: z.boolean().describe('Mailroom: refused by the address policy; nothing was sent there'),
      Redirects: z
        .array(z.object({ URL: z.string(), StatusCode: z.number().int() }))
        .describe('Mailroom: the redirects followed'),
      Location: z.string().nullable().describe('Mailroom: where a redirect not followed points'),
    }),
  ),
});

export const listUnsubscribeResult = z.object({
  Present: z.boolean(),
  Header: z.string(),
  Post: z.string(),
  URIs: z.array(
    z.object({
      URI: z.string(),
      Scheme: z.string(),
      Valid: z.boolean(),
      Mailto: z.object({ Address: z.string(), Subject: z.string(), Body: z.string() }).nullable(),
    }),
  ),
  OneClick: z.boolean().describe('Declared as RFC 8058 asks: an https URI and List-Unsubscribe=One-Click'),
  DKIM: z.object({
    Signatures: z.number().int(),
    CoveringDomains: z.array(z.string()).describe('d= of signatures whose h= covers both fields'),
  }),
  Errors: z.array(z.string()),
  Warnings: z.array(z.string()),
});
