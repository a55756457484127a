// What `mailroom sendmail` does to the message it reads, as sendmail and Postfix's sendmail do:
// a line of one dot ends the input (unless -i), line ends become CRLF, `-t` takes the recipients
// from To, Cc and Bcc (or the Resent- fields when there are any, RFC 5322 §3.6.6) and drops the
// Bcc fields, and a missing From, Date or Message-ID is added (RFC 6409 §8.1, §8.3).
import addressparser from 'nodemailer/lib/addressparser/index.js';
import { withSubmissionHeaders } from '../outbound/submission.ts';

export interface MessageOptions {
  /** -t: recipients from the header. */
  fromHeaders: boolean;
  /** -i / -oi: a lone dot is just a line. */
  ignoreDots: boolean;
  /**
   * The envelope sender, given the From field's first address (null without one); it is also the
   * address of a From added to a message without one ('' for the null sender: none is added).
   */
  sender: (headerFrom: string | null) => string;
  /** -F: the full name for an added From. */
  fullName: string;
  hostname: string;
  now: Date;
}

export interface PreparedMessage {
  raw: Buffer;
  sender: string;
  /** The recipients the header named (with -t), in order, each once. */
  headerRecipients: string[];
}

/** A field name, then a colon (RFC 5322 §2.2: printable ASCII but the colon). */
const FIELD = /^[!-9;-~]+:/;

/** Everything before a line of a single dot (sendmail without -i); the rest is not read. */
function cutAtDot(text: string): string {
  const m = /(^|\r?\n)\.(\r?\n|$)/.exec(text);
  return m ? text.slice(0, m.index + m[1]!.length) : text;
}

/** CRLF at every line end (a bare LF or CR too), and after the last line. */
function crlf(text: string): string {
  const lines = text.replace(/\r\n|\r|\n/g, '\n');
  return (lines.endsWith('\n') || lines === '' ? lines : `${lines}\n`).replace(/\n/g, '\r\n');
}

/** The header's fields (each with its continuation lines) and the body, split at the first non-field line. */
function split(text: string): { fields: string[]; body: string } {
  const lines = text.split('\r\n');
  const fields: string[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^[ \t]/.test(line) && fields.length > 0) fields[fields.length - 1] += `\r\n${line}`;
    else if (FIELD.test(line)) fields.push(line);
    else break;
  }
  // The empty line that ends the header stays out of the body; a body that starts with text
  // (no empty line) keeps all of it.
  const rest = lines.slice(lines[i] === '' ? i + 1 : i).join('\r\n');
  return { fields, body: rest };
}

const nameOf = (field: string) => field.slice(0, field.indexOf(':')).trim().toLowerCase();

/** The addresses of a field (groups flattened), decoded from UTF-8. */
function addressesOf(field: string): string[] {
  const value = Buffer.from(field.slice(field.indexOf(':') + 1), 'latin1').toString('utf8');
  return addressparser(value.replace(/\r\n/g, ''), { flatten: true })
    .map((a) => a.address.trim())
    .filter((a) => a !== '');
}

/** RFC 5322 display name: quoted when plain ASCII, else an RFC 2047 encoded-word. */
function displayName(name: string): string {
  if (/^[\x20-\x7e]*$/.test(name)) return `"${name.replace(/(["\\])/g, '\\$1')}"`;
  return `=?UTF-8?B?${Buffer.from(name, 'utf8').toString('base64')}?=`;
}

export function prepareMessage(input: Buffer, o: MessageOptions): PreparedMessage {
  // latin1 keeps every byte as one character, so the bytes go out as they came in.
  let text = input.toString('latin1');
  if (!o.ignoreDots) text = cutAtDot(text);
  const { fields, body } = split(crlf(text));
  const resent = fields.some((f) => /^resent-(to|cc|bcc)$/.test(nameOf(f)));
  const wanted = resent ? /^resent-(to|cc|bcc)$/ : /^(to|cc|bcc)$/;
  const headerRecipients: string[] = [];
  if (o.fromHeaders) {
    for (const f of fields) if (wanted.test(nameOf(f))) headerRecipients.push(...addressesOf(f));
  }
  // Bcc recipients must not learn of each other, nor the others of them (RFC 5322 §3.6.3).
  const kept = o.fromHeaders ? fields.filter((f) => !/^(resent-)?bcc$/.test(nameOf(f))) : fields;
  const from = kept.find((f) => nameOf(f) === 'from');
  const sender = o.sender(from ? (addressesOf(from)[0] ?? null) : null);
  if (sender !== '' && !from) {
    const name = o.fullName ? `${displayName(o.fullName)} ` : '';
    kept.unshift(`From: ${name}<${Buffer.from(sender, 'utf8').toString('latin1')}>`);
  }
  const head = kept.map((f) => `${f}\r\n`).join('');
  const raw = Buffer.from(`${head}\r\n${body}`, 'latin1');
  return {
    raw: withSubmissionHeaders(raw, o.hostname, o.now).raw,
    sender,
    headerRecipients: [...new Set(headerRecipients)],
  };
}
