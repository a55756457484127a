// Reading the reports other servers send about our mail: delivery status notifications (RFC 3464,
// and RFC 6533's internationalized form) and abuse feedback reports (ARF, RFC 5965). Both are a
// multipart/report whose machine-readable part is a set of header-like field blocks, followed by
// the original message or its header section, whose Message-ID names the mail they are about.
// Pure parsing: report-intake.ts matches a report to a queued message and acts on it.
import PostalMime from 'postal-mime';
import type { ParsedMessage } from '../domain/message.ts';

/** Reports are small; anything larger is not read as one (it stays an ordinary message). */
export const MAX_REPORT_BYTES = 2 * 1024 * 1024;
/** Recipients read from one DSN; a real one has a handful. */
const MAX_RECIPIENTS = 100;

/** One recipient's block of a DSN. */
export interface RecipientReport {
  /** Final-Recipient's address. */
  recipient: string;
  /** Original-Recipient's address, when the reporting server gave it. */
  originalRecipient: string | null;
  /** failed, delayed, delivered, relayed or expanded (lower case). */
  action: string;
  /** RFC 3463 status, e.g. "5.1.1". */
  status: string | null;
  /** Diagnostic-Code without its type, e.g. "550 5.1.1 no such user". */
  diagnostic: string | null;
  remoteMta: string | null;
}

export type Report =
  | {
      kind: 'dsn';
      reportingMta: string | null;
      recipients: RecipientReport[];
      /** The original's Message-ID (angle brackets included), when the report carries it. */
      originalMessageId: string | null;
    }
  | {
      kind: 'arf';
      /** abuse, fraud, virus, not-spam, other... (lower case). */
      feedbackType: string;
      userAgent: string | null;
      originalRcptTo: string[];
      originalMailFrom: string | null;
      originalMessageId: string | null;
    };

type ReportType = 'delivery-status' | 'feedback-report';

/**
 * The kind of report a Content-Type header announces, or null. Only the header is needed, so
 * this costs nothing for the ordinary mail that is not a report.
 */
export function reportType(contentType: string): ReportType | null {
  const m = /^\s*multipart\/report\s*;(.*)$/is.exec(contentType);
  if (!m) return null;
  const type = /(?:^|;)\s*report-type\s*=\s*"?([a-z-]+)"?/i.exec(m[1]!)?.[1]?.toLowerCase();
  if (type === 'delivery-status' || type === 'global-delivery-status') return 'delivery-status';
  if (type === 'feedback-report') return 'feedback-report';
  return null;
}

/** Whether a parsed message announces a report, by its first Content-Type header. */
export function announcesReport(parsed: ParsedMessage): boolean {
  const contentType = parsed.headers?.find(([name]) => name === 'content-type')?.[1];
  return contentType !== undefined && reportType(contentType) !== null;
}

/** Header-style fields (RFC 5322 syntax, folded lines joined) in blocks separated by blank lines. */
export function fieldBlocks(text: string): [string, string][][] {
  const blocks: [string, string][][] = [];
  let block: [string, string][] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      if (block.length > 0) blocks.push(block);
      block = [];
      continue;
    }
    const last = block.at(-1);
    if (/^[ \t]/.test(line) && last) {
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) block.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  if (block.length > 0) blocks.push(block);
  return blocks;
}

function field(block: readonly [string, string][], name: string): string | null {
  return block.find(([n]) => n === name)?.[1] ?? null;
}

/** "rfc822; ann@one.example" → "ann@one.example" (also utf-8; and <angle brackets>). */
function typedAddress(value: string | null): string | null {
  if (value === null) return null;
  const semi = value.indexOf(';');
  const address = (semi >= 0 ? value.slice(semi + 1) : value).trim().replace(/^<(.*)>$/, '$1');
  return address === '' ? null : address;
}

/** "smtp; 550 5.1.1 no such user" → "550 5.1.1 no such user". */
function typedText(value: string | null): string | null {
  if (value === null) return null;
  const semi = value.indexOf(';');
  const text = (semi >= 0 ? value.slice(semi + 1) : value).trim();
  return text === '' ? null : text;
}

/** The Message-ID of a returned message or header section. */
function messageIdOf(headerText: string): string | null {
  const header = fieldBlocks(headerText.split(/\r?\n\r?\n/, 1)[0] ?? '')[0] ?? [];
  const id = field(header, 'message-id')?.match(/<[^<>\s]+>/)?.[0];
  return id ?? null;
}

const ORIGINAL_TYPES = new Set([
  'message/rfc822',
  'message/global',
  'text/rfc822-headers',
  'message/global-headers',
]);

/** Reads a report, or null when the message is not one (or is too large or malformed to be one). */
export async function parseReport(raw: Uint8Array): Promise<Report | null> {
  if (raw.byteLength > MAX_REPORT_BYTES) return null;
  let email: Awaited<ReturnType<typeof PostalMime.parse>>;
  try {
    email = await PostalMime.parse(raw, { forceRfc822Attachments: true });
  } catch {
    return null;
  }
  const text = (mime: (t: string) => boolean) => {
    const part = email.attachments.find((a) => mime(a.mimeType.toLowerCase()));
    if (!part) return null;
    return typeof part.content === 'string' ? part.content : new TextDecoder().decode(part.content);
  };
  const original = text((t) => ORIGINAL_TYPES.has(t));
  const originalMessageId = original === null ? null : messageIdOf(original);

  const status = text((t) => t === 'message/delivery-status' || t === 'message/global-delivery-status');
  if (status !== null) {
    const [perMessage = [], ...perRecipient] = fieldBlocks(status);
    const recipients: RecipientReport[] = [];
    for (const block of perRecipient.slice(0, MAX_RECIPIENTS)) {
      const recipient = typedAddress(field(block, 'final-recipient'));
      const action = field(block, 'action')?.toLowerCase().split(/\s/, 1)[0];
      if (!recipient || !action) continue;
      recipients.push({
        recipient,
        originalRecipient: typedAddress(field(block, 'original-recipient')),
        action,
        status: field(block, 'status')?.match(/^[245]\.\d{1,3}\.\d{1,3}/)?.[0] ?? null,
        diagnostic: typedText(field(block, 'diagnostic-code')),
        remoteMta: typedText(field(block, 'remote-mta')),
      });
    }
    if (recipients.length === 0) return null;
    return {
      kind: 'dsn',
      reportingMta: typedText(field(perMessage, 'reporting-mta')),
      recipients,
      originalMessageId,
    };
  }

  const feedback = text((t) => t === 'message/feedback-report');
  if (feedback !== null) {
    const block = fieldBlocks(feedback)[0] ?? [];
    const feedbackType = field(block, 'feedback-type')?.toLowerCase();
    if (!feedbackType) return null;
    return {
      kind: 'arf',
      feedbackType,
      userAgent: field(block, 'user-agent'),
      originalRcptTo: block
        .filter(([n]) => n === 'original-rcpt-to')
        .flatMap(([, v]) => typedAddress(v) ?? [])
        .slice(0, MAX_RECIPIENTS),
      originalMailFrom: typedAddress(field(block, 'original-mail-from')),
      originalMessageId,
    };
  }
  return null;
}
