// Raw bytes → ParsedMessage, and PartID → decoded part content. Runs inside a parse worker.
import { createHash } from 'node:crypto';
import type { Attachment, Email } from 'postal-mime';
import { decodeWords } from 'postal-mime';
import type { AttachmentMeta, ParsedMessage } from '../domain/message.ts';
import { firstAddress, stripAngles, toAddresses } from './addresses.ts';
import { htmlToText, snippet } from './html-text.ts';
import { parseListUnsubscribe } from './list-unsubscribe.ts';
import { contentBytes, parseWithPartIds } from './part-ids.ts';
import type { PartContent } from './types.ts';

/** Header values kept per message for search: enough for any real header section. */
const MAX_HEADER_VALUE = 8 * 1024;
const MAX_HEADERS_TOTAL = 64 * 1024;

function headerList(email: Email): [string, string][] {
  const out: [string, string][] = [];
  let total = 0;
  for (const h of email.headers) {
    let value = h.value.length > MAX_HEADER_VALUE ? h.value.slice(0, MAX_HEADER_VALUE) : h.value;
    // RFC 2047 encoded words are decoded, so `header:Subject:café` finds an encoded subject.
    if (value.includes('=?')) {
      try {
        value = decodeWords(value);
      } catch {
        // kept as sent
      }
    }
    total += h.key.length + value.length;
    if (total > MAX_HEADERS_TOTAL) break;
    out.push([h.key.toLowerCase(), value]);
  }
  return out;
}

function header(email: Email, key: string): string | undefined {
  return email.headers.find((h) => h.key === key)?.value;
}

/** postal-mime returns the raw header when the Date does not parse; we store null instead. */
function isoDate(value: string | undefined): string | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

function hexDigest(algorithm: string, data: Uint8Array): string {
  return createHash(algorithm).update(data).digest('hex');
}

/** Content-IDs the HTML refers to through cid: URLs (RFC 2392 §2: the id is URL-encoded there). */
function referencedCids(html: string): Set<string> {
  const ids = new Set<string>();
  for (const m of html.matchAll(/cid:([^"'\s)>]{1,998})/gi)) {
    let id = m[1] ?? '';
    try {
      id = decodeURIComponent(id);
    } catch {
      // A malformed %-escape is kept as written: the id is only compared, never interpreted.
    }
    ids.add(id.toLowerCase());
  }
  return ids;
}

function meta(a: Attachment, partId: string): AttachmentMeta {
  const bytes = contentBytes(a);
  return {
    PartID: partId,
    FileName: a.filename ?? '',
    ContentType: a.mimeType,
    ContentID: stripAngles(a.contentId),
    Size: bytes.byteLength,
    Checksums: {
      MD5: hexDigest('md5', bytes),
      SHA1: hexDigest('sha1', bytes),
      SHA256: hexDigest('sha256', bytes),
    },
  };
}

/**
 * Mailpit's split: a part is inline when it has a Content-ID the HTML uses and is not marked as an
 * attachment. A missing Content-Disposition counts as inline, since multipart/related resources
 * (RFC 2387) often carry none.
 */
function splitParts(email: Email, partIds: Map<Attachment, string>, html: string) {
  const cids = referencedCids(html);
  const attachments: AttachmentMeta[] = [];
  const inline: AttachmentMeta[] = [];
  for (const a of email.attachments) {
    const m = meta(a, partIds.get(a) ?? '');
    const isInline =
      m.ContentID !== '' && a.disposition !== 'attachment' && cids.has(m.ContentID.toLowerCase());
    (isInline ? inline : attachments).push(m);
  }
  return { attachments, inline };
}

export async function parseMessage(raw: Uint8Array): Promise<ParsedMessage> {
  const { email, partIds } = await parseWithPartIds(raw);
  const html = email.html ?? '';
  const text = email.text ?? (html ? htmlToText(html) : '');
  return {
    messageId: stripAngles(email.messageId),
    subject: email.subject ?? '',
    date: isoDate(header(email, 'date')),
    from: firstAddress(email.from),
    to: toAddresses(email.to),
    cc: toAddresses(email.cc),
    bcc: toAddresses(email.bcc),
    replyTo: toAddresses(email.replyTo),
    returnPath: stripAngles(email.returnPath),
    text,
    html,
    snippet: snippet(text, html),
    ...splitParts(email, partIds, html),
    listUnsubscribe: parseListUnsubscribe(
      header(email, 'list-unsubscribe'),
      header(email, 'list-unsubscribe-post'),
    ),
    headers: headerList(email),
  };
}

export async function extractPart(raw: Uint8Array, partId: string): Promise<PartContent | null> {
  const { email, partIds } = await parseWithPartIds(raw);
  const found = email.attachments.find((a) => partIds.get(a) === partId);
  if (!found) return null;
  return { contentType: found.mimeType, filename: found.filename ?? '', content: contentBytes(found) };
}
