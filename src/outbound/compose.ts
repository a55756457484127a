// Turns a send request (Mailpit's body, already shaped by sendRequestSchema) into the raw MIME
// message and its SMTP envelope. Everything the caller supplies is checked here and refused with
// the offending field: nothing is dropped or repaired, because a repaired message is not the one
// the caller asked to send. nodemailer's MailComposer writes the MIME; it only ever gets Buffers
// and checked strings, with file and URL access switched off.
import { randomUUID } from 'node:crypto';
import type { MailComposerAttachment, MailComposerOptions } from 'nodemailer/lib/mail-composer/index.js';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { detectMimeType } from 'nodemailer/lib/mime-funcs/index.js';
import { cleanTag, MAX_TAGS_PER_MESSAGE } from '../domain/tags.ts';
import { type CheckedAddress, CONTROL, checkAddress, nameProblem } from './addresses.ts';
import type { SendRequest } from './send-schema.ts';

export interface ComposeLimits {
  maxRecipients: number;
  maxBytes: number;
}

export interface ComposeOptions {
  /** Right-hand side of the generated Message-ID. */
  hostname: string;
  /** Date header value. */
  now: Date;
  limits: ComposeLimits;
}

export interface ComposedMessage {
  /** The exact message bytes, CRLF line endings. */
  raw: Buffer;
  /** MAIL FROM and RCPT TO: the validated recipients, deduplicated, in request order. */
  envelope: { from: string; to: string[] };
  /** The Message-ID header value, angle brackets included. */
  messageId: string;
}

/** A request the composer refuses: 400 for invalid content, 413 for a message over the size limit. */
export class CompositionError extends Error {
  readonly status: 400 | 413;
  /** Path of the offending field, e.g. `To[2].Email`; empty for the message as a whole. */
  readonly field: string;

  constructor(field: string, message: string, status: 400 | 413 = 400) {
    super(message);
    this.name = 'CompositionError';
    this.field = field;
    this.status = status;
  }
}

function fail(field: string, problem: string): never {
  throw new CompositionError(field, `${field} ${problem}`);
}

/** Headers the composer writes itself; a caller's copy would contradict or duplicate them. */
const OWNED_HEADERS = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'reply-to',
  'date',
  'subject',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'content-disposition',
  'sender',
  'return-path',
  'received',
  'dkim-signature',
]);

/** RFC 5322 §3.6.8 ftext: printable US-ASCII except ":". */
const FTEXT = /^[\x21-\x39\x3b-\x7e]+$/;
/** Header values may hold TAB (folding white space) but no other control character. */
const VALUE_CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;
/** RFC 2045 §5.1 token. */
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z{}]+";
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}$`);
/** Token characters plus "@", so ids of the usual `part@host` form (RFC 2392 §2) are accepted. */
const CONTENT_ID = /^[!#$%&'*+\-.^_`|~0-9A-Za-z{}@]+$/;
/** RFC 2397 data URL prefix, base64 form only; its media type is used when ContentType is absent. */
const DATA_URL = new RegExp(`^data:(${TOKEN}/${TOKEN})?;base64,`, 'i');
/** RFC 2046 §5: composite types carry their own MIME structure or must not be base64-encoded. */
const COMPOSITE = /^(multipart|message)\//i;
/** RFC 5322 §3.6.4: the id-right of a msg-id is a dot-atom-text. */
const HOSTNAME = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;

/**
 * Checks the request and builds the message. Throws CompositionError for anything refused; any
 * other error is a fault of the composer itself.
 */
export async function composeMessage(req: SendRequest, opts: ComposeOptions): Promise<ComposedMessage> {
  if (!HOSTNAME.test(opts.hostname)) throw new TypeError(`invalid hostname for Message-ID: ${opts.hostname}`);
  const { mail, envelope } = checkRequest(req, opts.limits);
  const messageId = `<${randomUUID()}@${opts.hostname}>`;
  const raw = await build({
    ...mail,
    messageId,
    date: opts.now,
    disableFileAccess: true,
    disableUrlAccess: true,
    newline: 'win',
  });
  checkSize(raw.length, opts.limits.maxBytes);
  // Whether it needs SMTPUTF8 is decided at delivery, from the bytes (smtp-client.ts).
  return { raw, envelope, messageId };
}

/** Every check that needs no composing; returns the composer input and the SMTP envelope. */
function checkRequest(
  req: SendRequest,
  limits: ComposeLimits,
): { mail: MailComposerOptions; envelope: ComposedMessage['envelope'] } {
  const from = mailbox(req.From, 'From');
  const to = mailboxes(req.To, 'To');
  const cc = mailboxes(req.Cc, 'Cc');
  const replyTo = mailboxes(req.ReplyTo, 'ReplyTo');
  const bcc = (req.Bcc ?? []).map((email, i) => address(email, `Bcc[${i}]`));
  const recipients = envelopeRecipients([...to, ...cc, ...bcc], limits.maxRecipients);
  checkUnstructured('Subject', 'Subject', req.Subject ?? '', CONTROL);
  const tags = tagsValue(req.Tags);
  const headers = customHeaders(req.Headers, tags !== null);
  if (tags !== null) headers.push({ key: 'X-Tags', value: tags });
  const attachments = (req.Attachments ?? []).map((a, i) => attachment(a, `Attachments[${i}]`));
  const text = req.Text === undefined ? undefined : canonicalLines(req.Text);
  const html = req.HTML === undefined ? undefined : canonicalLines(req.HTML);
  checkSize(lowerBound(text, html, attachments), limits.maxBytes);
  const mail: MailComposerOptions = {
    from: { name: from.name, address: from.address },
    to: headerList(to),
    cc: headerList(cc),
    replyTo: headerList(replyTo),
    // Bcc is deliberately not handed over: it belongs in the envelope only (RFC 5322 §3.6.3).
    subject: req.Subject,
    text,
    html,
    attachments,
    headers,
  };
  return { mail, envelope: { from: from.address, to: recipients } };
}

interface NamedAddress extends CheckedAddress {
  name: string;
}

function address(email: string, field: string): CheckedAddress {
  const checked = checkAddress(email);
  if (!checked.ok) fail(field, checked.problem);
  return checked.value;
}

function mailbox(m: { Email: string; Name?: string | undefined }, field: string): NamedAddress {
  const checked = address(m.Email, `${field}.Email`);
  const name = m.Name ?? '';
  const problem = nameProblem(name);
  if (problem) fail(`${field}.Name`, problem);
  return { ...checked, name };
}

function mailboxes(list: SendRequest['To'], field: string): NamedAddress[] {
  return (list ?? []).map((m, i) => mailbox(m, `${field}[${i}]`));
}

function headerList(list: NamedAddress[]): MailComposerOptions['to'] {
  return list.length === 0 ? undefined : list.map((m) => ({ name: m.name, address: m.address }));
}

/** To ∪ Cc ∪ Bcc, first spelling kept, compared case-insensitively. */
function envelopeRecipients(all: CheckedAddress[], max: number): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const { address: a } of all) {
    const key = a.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(a);
  }
  if (out.length === 0) fail('To', 'must hold at least one recipient (To, Cc or Bcc)');
  if (out.length > max) fail('To', `has more than ${max} recipients (To, Cc and Bcc together)`);
  return out;
}

/**
 * RFC 5322 §2.1.1 limits a line to 998 characters, and folding may only happen at white space.
 * Non-ASCII text is written as short encoded-words, but a run of printable ASCII without white
 * space stays in one piece, so it has to fit on one line behind the field name.
 */
function checkUnstructured(field: string, headerName: string, value: string, forbidden: RegExp): void {
  if (forbidden.test(value)) fail(field, 'contains a control character');
  if (value.length > 998) fail(field, 'is longer than 998 characters');
  for (const word of value.match(/[\x21-\x7e]+/g) ?? []) {
    if (headerName.length + 2 + word.length > 998)
      fail(field, 'has a word too long to fit on one header line');
  }
}

function tagsValue(tags: string[] | undefined): string | null {
  if (tags === undefined || tags.length === 0) return null;
  if (tags.length > MAX_TAGS_PER_MESSAGE) fail('Tags', `has more than ${MAX_TAGS_PER_MESSAGE} tags`);
  const problem = 'is not a valid tag (letters, digits, spaces and . _ - + / : @, at most 100 characters)';
  // One header, comma separated, as Mailpit writes it; cleanTag refuses commas inside a tag.
  return tags.map((t, i) => cleanTag(t) ?? fail(`Tags[${i}]`, problem)).join(', ');
}

function customHeaders(
  headers: Record<string, string> | undefined,
  hasTags: boolean,
): { key: string; value: string }[] {
  const seen = new Set<string>();
  const out: { key: string; value: string }[] = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    // JSON quoting keeps a control character in a bad name out of the error message.
    const field = `Headers[${JSON.stringify(name)}]`;
    if (!FTEXT.test(name)) fail(field, 'is not a valid header name (RFC 5322 §3.6.8)');
    if (name.length > 76) fail(field, 'has a name longer than 76 characters');
    const lower = name.toLowerCase();
    if (OWNED_HEADERS.has(lower) || (hasTags && lower === 'x-tags')) {
      fail(field, 'is set by the composer and cannot be given');
    }
    // Field names are case-insensitive (RFC 5322 §1.2.2), so these would be the same header.
    if (seen.has(lower)) fail(field, 'is given twice (header names are case-insensitive)');
    seen.add(lower);
    checkUnstructured(field, name, value, VALUE_CONTROL);
    out.push({ key: name, value });
  }
  return out;
}

type Attachment = NonNullable<SendRequest['Attachments']>[number];

function attachment(a: Attachment, field: string): MailComposerAttachment & { content: Buffer } {
  const dataUrl = DATA_URL.exec(a.Content);
  if (!dataUrl && /^data:/i.test(a.Content)) {
    fail(`${field}.Content`, 'is a data URL not of the form data:<type>/<subtype>;base64,');
  }
  const content = strictBase64(a.Content.slice(dataUrl ? dataUrl[0].length : 0), `${field}.Content`);
  if (CONTROL.test(a.Filename)) fail(`${field}.Filename`, 'contains a control character');
  if (a.Filename.length < 1 || a.Filename.length > 255)
    fail(`${field}.Filename`, 'must be 1 to 255 characters');
  const contentType = mediaType(a, dataUrl?.[1], field);
  const cid = a.ContentID;
  if (cid !== undefined && (!CONTENT_ID.test(cid) || cid.length > 255)) {
    fail(`${field}.ContentID`, 'must be 1 to 255 token characters (no spaces, brackets or controls)');
  }
  return {
    filename: a.Filename,
    content,
    contentType,
    // With a Content-ID the part is shown in the HTML via cid: (RFC 2392), otherwise attached.
    contentDisposition: cid === undefined ? 'attachment' : 'inline',
    // base64 whatever the type, so no caller byte ever reaches the wire unencoded.
    contentTransferEncoding: 'base64',
    ...(cid === undefined ? {} : { cid }),
  };
}

/** Canonical base64 only (RFC 4648 §4): Node's decoder would skip junk characters silently. */
function strictBase64(value: string, field: string): Buffer {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) fail(field, 'is not valid base64 (RFC 4648 §4, no white space)');
  return bytes;
}

function mediaType(a: Attachment, fromDataUrl: string | undefined, field: string): string {
  const given = a.ContentType ?? fromDataUrl;
  const typeField = a.ContentType === undefined ? `${field}.Content` : `${field}.ContentType`;
  if (given === undefined) {
    // A guess from the file name must not pick a composite type for bytes nobody checked.
    const detected = detectMimeType(a.Filename);
    return COMPOSITE.test(detected) ? 'application/octet-stream' : detected;
  }
  if (!MEDIA_TYPE.test(given)) fail(typeField, 'must be a media type "type/subtype" without parameters');
  if (COMPOSITE.test(given))
    fail(typeField, 'is a multipart or message type; send it as application/octet-stream');
  return given.toLowerCase();
}

/** RFC 2046 §4.1.1: text line breaks are CRLF; a bare CR would otherwise reach the wire as is. */
function canonicalLines(text: string): string {
  return text.replace(/\r\n|\r|\n/g, '\r\n');
}

/** The encoded message is at least this big, so a request over the limit is refused unbuilt. */
function lowerBound(
  text: string | undefined,
  html: string | undefined,
  parts: { content: Buffer }[],
): number {
  let size = Buffer.byteLength(text ?? '') + Buffer.byteLength(html ?? '');
  for (const p of parts) size += Math.ceil(p.content.length / 3) * 4;
  return size;
}

function checkSize(size: number, max: number): void {
  if (size > max) {
    throw new CompositionError(
      '',
      `The message is at least ${size} bytes, more than the limit of ${max}`,
      413,
    );
  }
}

/** The message MailComposer makes of `mail` (which must ask for CRLF line breaks), checked for bare CR or LF. */
export async function build(mail: MailComposerOptions): Promise<Buffer> {
  const node = new MailComposer(mail).compile();
  const raw = await new Promise<Buffer>((resolve, reject) => {
    node.build((err, message) => (err ? reject(err) : resolve(message)));
  });
  // newline 'win' turns LF into CRLF; this guards the promise that nothing else slipped through.
  if (/\r(?!\n)|(?<!\r)\n/.test(raw.toString('latin1'))) throw new Error('composer produced a bare CR or LF');
  return raw;
}
