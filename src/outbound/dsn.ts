// Delivery status notifications: the message we send a sender whose mail failed or is delayed,
// a multipart/report (RFC 6522) of a human-readable explanation, a machine-readable
// message/delivery-status part (RFC 3464) and the original message's header section only (its
// body is neither ours to echo back nor worth the size).
//
// The remote's reply is untrusted text that ends up in header-like fields. Every CR, LF and other
// control character in it becomes a space, and long fields are folded by us at spaces, so nothing
// the remote sends can start a line of its own (a new header field or MIME boundary).
//
// Non-ASCII: message/delivery-status fields are US-ASCII (RFC 3464; UTF-8 needs RFC 6533's
// message/global-delivery-status, which fewer readers understand), and so are the copied headers
// (text/rfc822-headers), so there every non-ASCII character becomes '?'. The explanation part is
// declared text/plain; charset=utf-8 and quoted-printable (RFC 2045 §6.7), so it keeps the
// remote's words exactly while the whole DSN stays 7-bit and needs no 8BITMIME from the next hop.
import { randomBytes, randomUUID } from 'node:crypto';

export interface DsnRecipient {
  address: string;
  action: 'failed' | 'delayed';
  /** RFC 3463 enhanced status code, e.g. "5.1.1". */
  status: string;
  /** Host name of the remote MTA that gave the diagnostic. */
  remoteMta?: string;
  /** The remote's reply, as received. */
  diagnostic?: string;
  lastAttempt?: Date;
}

export interface DsnInput {
  /** Our host name. */
  reportingMta: string;
  /** The ENVID the message was submitted with (RFC 3461), decoded. */
  originalEnvelopeId?: string;
  /** The original reverse-path; '' (null sender) gets no DSN, see shouldSendDsn. */
  originalMailFrom: string;
  arrivalDate: Date;
  now: Date;
  recipients: DsnRecipient[];
  /** The original message's header section (a body after it is dropped). */
  originalHeaders: string;
  /** Right-hand side of the DSN's Message-ID. */
  messageIdHost: string;
}

export interface ComposedDsn {
  raw: Buffer;
  /** The null reverse-path: a DSN is never answered by another DSN (RFC 5321 §4.5.5). */
  mailFrom: '';
  rcptTo: string[];
  /** The Message-ID header value, angle brackets included. */
  messageId: string;
}

const CRLF = '\r\n';
const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const STATUS = /^[245]\.\d{1,3}\.\d{1,3}$/;
// RFC 5322 §2.1.1: lines SHOULD stay within 78 characters and MUST within 998. A run without
// spaces is cut into chunks that fit under 998 with a field name or the folding space before it.
const SOFT_LIMIT = 78;
const CHUNK = 900;

function bareAddress(mailFrom: string): string {
  return mailFrom.trim().replace(/^<(.*)>$/s, '$1');
}

/**
 * Whether a failure of mail from this sender may be reported. Never to the null reverse-path,
 * which is what DSNs and other notifications are sent from (RFC 5321 §4.5.5), and never to a
 * MAILER-DAEMON, the name mail systems give their notifications when they do use an address:
 * reporting to either could set two systems bouncing at each other forever.
 */
export function shouldSendDsn(mailFrom: string): boolean {
  const sender = bareAddress(mailFrom);
  if (sender === '') return false;
  const at = sender.lastIndexOf('@');
  const local = at < 0 ? sender : sender.slice(0, at);
  return local.toLowerCase() !== 'mailer-daemon';
}

/** Untrusted text for a US-ASCII field: controls (CR, LF included) to spaces, non-ASCII to '?'. */
function asciiText(text: string): string {
  return text
    .replace(/[\x00-\x1f\x7f]/g, ' ')
    .replace(/[^\x00-\x7f]/gu, '?')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** Untrusted text for the UTF-8 explanation: controls to spaces, unpaired surrogates to U+FFFD. */
function unicodeText(text: string): string {
  return text
    .toWellFormed()
    .replace(/[\x00-\x1f\x7f]/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/**
 * A header-style field, folded at spaces (RFC 5322 §3.2.2) so lines stay near 78 characters. A
 * run longer than any line allows is cut, which shows as an added space once unfolded: a small
 * price for a diagnostic, and the 998 limit is a MUST.
 */
function field(name: string, value: string): string {
  const lines: string[] = [];
  let line = `${name}:`;
  let words = 0;
  const put = (word: string) => {
    if (words > 0 && line.length + 1 + word.length > SOFT_LIMIT) {
      lines.push(line);
      line = '';
    }
    line += ` ${word}`;
    words++;
  };
  for (const word of value.split(' ')) {
    if (word === '') continue;
    for (let i = 0; i < word.length; i += CHUNK) put(word.slice(i, i + CHUNK));
  }
  lines.push(line);
  return lines.join(CRLF);
}

/** RFC 5322 §3.3 date-time; toUTCString's "GMT" is an obsolete zone there, so +0000 instead. */
function mailDate(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new TypeError('invalid date in DSN input');
  return date.toUTCString().replace(/GMT$/, '+0000');
}

/** RFC 3461 §4 xtext: the ENVID as it travels, '+' and '=' and anything unprintable as +HH. */
function xtext(text: string): string {
  return Array.from(Buffer.from(text, 'utf8'), (b) =>
    b < 33 || b > 126 || b === 43 || b === 61
      ? `+${b.toString(16).toUpperCase().padStart(2, '0')}`
      : String.fromCharCode(b),
  ).join('');
}

/** Quoted-printable (RFC 2045 §6.7) of UTF-8 text: CRLF line ends, encoded lines of at most 76. */
function quotedPrintable(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const bytes = Buffer.from(line, 'utf8');
      let out = '';
      let current = '';
      bytes.forEach((b, i) => {
        const last = i === bytes.length - 1;
        // Spaces and tabs are literal except at the end of a line, where transport may strip them.
        const literal = (b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last);
        let token = literal ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
        if (current.length + token.length > 75) {
          out += `${current}=${CRLF}`;
          current = '';
        }
        // A period opening a line is encoded too, so no relay's dot handling can touch it.
        if (current === '' && token === '.') token = '=2E';
        current += token;
      });
      return out + current;
    })
    .join(CRLF);
}

function explanation(input: DsnInput): string {
  const failed = input.recipients.filter((r) => r.action === 'failed');
  const delayed = input.recipients.filter((r) => r.action === 'delayed');
  const out = [`This is the mail delivery system at ${input.reportingMta}.`, ''];
  const describe = (r: DsnRecipient) => {
    out.push(`  <${unicodeText(r.address)}> (status ${r.status})`);
    if (r.remoteMta) out.push(`    Remote server: ${unicodeText(r.remoteMta)}`);
    if (r.diagnostic) out.push(`    It replied: ${unicodeText(r.diagnostic)}`);
    out.push('');
  };
  if (failed.length > 0) {
    out.push(
      'Your message could not be delivered to the recipients below, and no further',
      'attempts will be made:',
      '',
    );
    failed.forEach(describe);
  }
  if (delayed.length > 0) {
    out.push(
      'Your message has not yet been delivered to the recipients below. Delivery will be',
      'tried again; there is no need to send it again. You will hear from us if it fails.',
      '',
    );
    delayed.forEach(describe);
  }
  out.push('The headers of your message are attached.');
  return out.join('\n');
}

function deliveryStatus(input: DsnInput): string {
  const perMessage = [field('Reporting-MTA', `dns; ${input.reportingMta}`)];
  if (input.originalEnvelopeId !== undefined) {
    perMessage.push(field('Original-Envelope-Id', xtext(input.originalEnvelopeId)));
  }
  perMessage.push(field('Arrival-Date', mailDate(input.arrivalDate)));
  const blocks = [perMessage.join(CRLF)];
  for (const r of input.recipients) {
    const lines = [
      field('Final-Recipient', `rfc822; ${asciiText(r.address)}`),
      field('Action', r.action),
      field('Status', r.status),
    ];
    if (r.remoteMta) lines.push(field('Remote-MTA', `dns; ${asciiText(r.remoteMta)}`));
    if (r.diagnostic) {
      const text = asciiText(r.diagnostic);
      // RFC 3464 §2.3.6: "smtp" types an SMTP reply; our own error texts have no reply code.
      const type = /^[2-5]\d\d\b/.test(text) ? 'smtp' : 'X-Mailroom';
      lines.push(field('Diagnostic-Code', `${type}; ${text}`));
    }
    if (r.lastAttempt) lines.push(field('Last-Attempt-Date', mailDate(r.lastAttempt)));
    blocks.push(lines.join(CRLF));
  }
  return blocks.join(CRLF + CRLF) + CRLF;
}

/** The original header section, made 7-bit with CRLF lines no longer than 998 octets. */
function headerSection(headers: string): string {
  const lines = headers.replace(/^(?:\r\n|\r|\n)+/, '').split(/\r\n|\r|\n/);
  const end = lines.indexOf('');
  const out: string[] = [];
  for (const raw of end < 0 ? lines : lines.slice(0, end)) {
    const line = raw.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, ' ').replace(/[^\x00-\x7f]/gu, '?');
    // An over-long line is continued as folding, so it cannot turn into a field of its own.
    for (let i = 0; i < line.length; i += CHUNK) out.push((i > 0 ? ' ' : '') + line.slice(i, i + CHUNK));
  }
  return out.length > 0 ? out.join(CRLF) + CRLF : '';
}

/** Composes the DSN; throws TypeError on input no DSN may be sent for (see shouldSendDsn). */
export function composeDsn(input: DsnInput): ComposedDsn {
  if (!shouldSendDsn(input.originalMailFrom)) {
    throw new TypeError('no DSN for a null or MAILER-DAEMON sender (RFC 5321 §4.5.5)');
  }
  const sender = bareAddress(input.originalMailFrom);
  if (!/^[^\x00-\x1f\x7f<>]{1,320}$/.test(sender) || !sender.includes('@')) {
    throw new TypeError(`invalid sender for a DSN: ${JSON.stringify(sender)}`);
  }
  for (const host of [input.reportingMta, input.messageIdHost]) {
    if (!HOSTNAME.test(host)) throw new TypeError(`invalid host name for a DSN: ${JSON.stringify(host)}`);
  }
  if (input.recipients.length === 0) throw new TypeError('a DSN needs at least one recipient');
  for (const r of input.recipients) {
    if (!STATUS.test(r.status)) throw new TypeError(`invalid status for a DSN: ${JSON.stringify(r.status)}`);
  }

  const delayOnly = input.recipients.every((r) => r.action === 'delayed');
  const parts = [
    [
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      'Content-Description: Notification',
      '',
      quotedPrintable(explanation(input)),
    ],
    [
      'Content-Type: message/delivery-status',
      'Content-Description: Delivery report',
      '',
      deliveryStatus(input),
    ],
    [
      'Content-Type: text/rfc822-headers',
      'Content-Description: Undelivered message headers',
      '',
      headerSection(input.originalHeaders),
    ],
  ].map((lines) => lines.join(CRLF));
  // Random, and checked anyway: a boundary must not occur in the parts it separates (RFC 2046 §5.1.1).
  let boundary: string;
  do boundary = `=_dsn_${randomBytes(12).toString('hex')}`;
  while (parts.some((p) => p.includes(boundary)));

  const messageId = `<${randomUUID()}@${input.messageIdHost}>`;
  const headers = [
    field('From', `"Mail Delivery System" <MAILER-DAEMON@${input.reportingMta}>`),
    field('To', `<${sender}>`),
    field(
      'Subject',
      delayOnly ? 'Delivery Status Notification (Delay)' : 'Undelivered Mail Returned to Sender',
    ),
    field('Date', mailDate(input.now)),
    field('Message-ID', messageId),
    // RFC 3834 §5: marks the DSN as automatic, so auto-responders leave it alone.
    field('Auto-Submitted', 'auto-replied'),
    'MIME-Version: 1.0',
    field('Content-Type', `multipart/report; report-type=delivery-status; boundary="${boundary}"`),
  ];
  const body = parts.map((p) => `--${boundary}${CRLF}${p}${CRLF}`).join('');
  const raw = `${headers.join(CRLF)}${CRLF}${CRLF}This is a MIME-formatted delivery status notification.${CRLF}${CRLF}${body}--${boundary}--${CRLF}`;
  return { raw: Buffer.from(raw, 'utf8'), mailFrom: '', rcptTo: [sender], messageId };
}
