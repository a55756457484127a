// Reading and rewriting the header block of a message exactly as received. Positions are byte
// offsets: the block is decoded as latin1 (one character per byte), so everything that is not
// rewritten is copied through byte for byte, 8-bit header text included.
import { domainToASCII } from 'node:url';
import { asBuffer, assemble } from '../runtime/thread-bytes.ts';

export interface HeaderField {
  /** The field name as written, without the colon or the white space before it. */
  name: string;
  /** Offset of the field's first byte. */
  start: number;
  /** Offset of the colon, or -1 for a line that is not a field (RFC 5322 §2.2 needs the colon). */
  colon: number;
  /** Offset just past the field's last line break (continuation lines included). */
  end: number;
  /** The unparsed field body (after the colon), latin1-decoded, folding kept. */
  value: string;
}

export interface HeaderBlock {
  fields: HeaderField[];
  /** The line break the message uses, so added fields match it. */
  eol: '\r\n' | '\n';
}

/** Renamed-to name for Authentication-Results fields that claim to be ours but arrived with the mail. */
export const UNTRUSTED_RESULTS_FIELD = 'Untrusted-Authentication-Results';

const LF = 0x0a;
const CR = 0x0d;

/** Offset of the empty line that ends the header block (RFC 5322 §2.1), or the length if none. */
function headerBlockEnd(buf: Buffer): number {
  if (buf[0] === LF || (buf[0] === CR && buf[1] === LF)) return 0;
  for (let nl = buf.indexOf(LF); nl >= 0; nl = buf.indexOf(LF, nl + 1)) {
    if (buf[nl + 1] === LF || (buf[nl + 1] === CR && buf[nl + 2] === LF)) return nl + 1;
  }
  return buf.length;
}

export function readHeaderBlock(raw: Uint8Array): HeaderBlock {
  const buf = asBuffer(raw);
  const text = buf.toString('latin1', 0, headerBlockEnd(buf));
  const firstBreak = text.indexOf('\n');
  const eol = firstBreak > 0 && text[firstBreak - 1] !== '\r' ? '\n' : '\r\n';
  const fields: HeaderField[] = [];
  let current: HeaderField | undefined;
  for (let pos = 0; pos < text.length; ) {
    const nl = text.indexOf('\n', pos);
    const lineEnd = nl < 0 ? text.length : nl + 1;
    if (current && (text[pos] === ' ' || text[pos] === '\t')) {
      // RFC 5322 §2.2.3: a line starting with white space continues the field above it.
      current.end = lineEnd;
    } else {
      // Searched within the line, so a run of colon-less lines cannot make this quadratic.
      const colonInLine = text.slice(pos, lineEnd).indexOf(':');
      const colon = colonInLine < 0 ? -1 : pos + colonInLine;
      current = { name: '', start: pos, colon, end: lineEnd, value: '' };
      if (colon >= 0) current.name = text.slice(pos, colon).trim();
      fields.push(current);
    }
    pos = lineEnd;
  }
  for (const f of fields) if (f.colon >= 0) f.value = text.slice(f.colon + 1, f.end);
  return { fields, eol };
}

/**
 * The header fields as the parser lists them (`[lower-case name, unfolded value]`), read from the
 * bytes: for parses stored before the parser kept header fields.
 */
export function headerList(raw: Uint8Array): [string, string][] {
  return readHeaderBlock(raw)
    .fields.filter((f) => f.colon >= 0)
    .map((f) => [f.name.toLowerCase(), f.value.replace(/\r?\n[ \t]/g, ' ').trim()]);
}

export function fieldsNamed(block: HeaderBlock, name: string): HeaderField[] {
  const wanted = name.toLowerCase();
  return block.fields.filter((f) => f.name.toLowerCase() === wanted);
}

/**
 * The tags of a DKIM-style tag list (RFC 6376 §3.2), names lower-cased and all white space removed
 * from values, which is right for the d=, s= and i= values read here. A repeated tag keeps its last
 * value, as mailauth's parser does.
 */
export function readTags(value: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const spec of value.split(';')) {
    const eq = spec.indexOf('=');
    if (eq <= 0) continue;
    tags.set(spec.slice(0, eq).trim().toLowerCase(), spec.slice(eq + 1).replace(/\s+/g, ''));
  }
  return tags;
}

/** A domain name in the form used for comparisons: A-labels, lower case, no trailing dot. */
export function normalDomain(name: string): string {
  const trimmed = name.trim().replace(/\.$/, '').toLowerCase();
  return domainToASCII(trimmed) || trimmed;
}

/** Drops leading white space and (possibly nested) comments: the CFWS of RFC 5322 §3.2.2. */
function skipCfws(text: string): string {
  let rest = text.trimStart();
  while (rest.startsWith('(')) {
    let depth = 0;
    let i = 0;
    for (; i < rest.length; i++) {
      const c = rest[i];
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) break;
    }
    rest = rest.slice(i + 1).trimStart();
  }
  return rest;
}

/**
 * The authserv-id of an Authentication-Results field body (RFC 8601 §2.2: a token or a
 * quoted-string after optional CFWS), normalised for comparison, or null if there is none.
 */
export function authservIdOf(value: string): string | null {
  const rest = skipCfws(value.replace(/\r?\n/g, ''));
  if (rest.startsWith('"')) {
    const quoted = /^"((?:[^"\\]|\\.)*)"/.exec(rest);
    return quoted ? normalDomain(quoted[1]!.replace(/\\(.)/g, '$1')) : null;
  }
  const token = /^[^\s;()"]+/.exec(rest);
  return token ? normalDomain(token[0]) : null;
}

/**
 * Puts `Authentication-Results: <value>` on top of the message (RFC 8601 §5: above the other trace
 * fields) and renames every incoming Authentication-Results field that bears our authserv-id:
 * RFC 8601 §5 has an MTA remove or obscure those, since only we can have written them and anything
 * that arrives with the mail was written by someone else. Renaming keeps the evidence for the UI.
 */
export function prependAuthenticationResults(raw: Uint8Array, value: string, authservId: string): Buffer {
  const buf = asBuffer(raw);
  const eol = readHeaderBlock(buf).eol;
  const ours = Buffer.from(`Authentication-Results: ${value}${eol}`.replace(/\r?\n/g, eol));
  const rest = renameForgedResults(buf, authservId);
  // A large message stays in shared memory: the one copy the writer and the parse worker read.
  return assemble([ours, rest], ours.length + rest.length);
}

/**
 * The message with every Authentication-Results field that bears our authserv-id renamed (see
 * prependAuthenticationResults): for mail we do not check, so that no sender can hand route
 * conditions, payloads or the UI results that look like ours. The bytes themselves when none does.
 */
export function renameForgedResults(raw: Uint8Array, authservId: string): Buffer {
  const buf = asBuffer(raw);
  const block = readHeaderBlock(buf);
  const ours = normalDomain(authservId);
  const parts: Buffer[] = [];
  let pos = 0;
  for (const field of fieldsNamed(block, 'authentication-results')) {
    if (authservIdOf(field.value) !== ours) continue;
    parts.push(buf.subarray(pos, field.start), Buffer.from(UNTRUSTED_RESULTS_FIELD));
    pos = field.colon;
  }
  if (parts.length === 0) return buf;
  parts.push(buf.subarray(pos));
  return Buffer.concat(parts);
}
