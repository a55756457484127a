// Parsing of SMTP command lines (RFC 5321 §4.1): the verb, the MAIL FROM / RCPT TO paths with
// their ESMTP parameters, the EHLO/HELO argument and the SASL PLAIN response. Pure functions; the
// session decides what to answer.
import { isIPv4, isIPv6 } from 'node:net';
import { domainToUnicode } from 'node:url';
import { REPLIES, replyText } from './replies.ts';

/** Control characters and invisible formatting characters: never in an address (log and header injection, spoofing). */
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u200b\u2060\ufeff]/;
const LABEL = '[a-zA-Z0-9\\u0080-\\uffff](?:[a-zA-Z0-9\\u0080-\\uffff-]*[a-zA-Z0-9\\u0080-\\uffff])?';
const DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets with its angle brackets. */
const MAX_PATH = 256;
/** An EHLO/HELO argument longer than a domain name can be is refused. */
const MAX_HELO = 255;

/** The command verb, upper-cased, and what follows it (leading spaces removed). */
export function splitCommand(line: string): { verb: string; rest: string } {
  const space = line.indexOf(' ');
  if (space === -1) return { verb: line.toUpperCase(), rest: '' };
  return { verb: line.slice(0, space).toUpperCase(), rest: line.slice(space + 1).trimStart() };
}

export type PathResult =
  | { ok: true; address: string; params: Map<string, string | true> }
  | { ok: false; error: 'syntax' | 'parameter' | 'duplicate' };

/**
 * Parses `FROM:<path> params` (or `TO:<path> params`): `keyword` is FROM or TO. The address comes
 * back without brackets and source route (RFC 5321 §4.1.2: accepted, ignored), its domain in
 * Unicode (U-labels) so that encoded and raw spellings compare alike; '' is the null path.
 */
export function parsePath(rest: string, keyword: 'FROM' | 'TO'): PathResult {
  const colon = rest.indexOf(':');
  if (colon === -1 || rest.slice(0, colon).trim().toUpperCase() !== keyword)
    return { ok: false, error: 'syntax' };
  const tail = rest.slice(colon + 1).trimStart();
  if (tail[0] !== '<') return { ok: false, error: 'syntax' };
  const close = tail.indexOf('>');
  if (close === -1 || close + 1 > MAX_PATH) return { ok: false, error: 'syntax' };
  const inner = tail.slice(1, close);
  if (inner.includes('<')) return { ok: false, error: 'syntax' };
  const after = tail.slice(close + 1);
  if (after !== '' && after[0] !== ' ') return { ok: false, error: 'syntax' };
  const address = normalizeAddress(inner.replace(/^@[^\s,:@]+(?:,@[^\s,:@]+)*:/, ''), keyword === 'TO');
  if (address === null) return { ok: false, error: 'syntax' };
  const params = new Map<string, string | true>();
  for (const word of after.split(' ')) {
    if (word === '') continue;
    const eq = word.indexOf('=');
    const key = (eq === -1 ? word : word.slice(0, eq)).toUpperCase();
    if (!/^[A-Z0-9][A-Z0-9-]*$/.test(key)) return { ok: false, error: 'parameter' };
    const value = eq === -1 ? true : decodeXtext(word.slice(eq + 1));
    if (value === '' || (typeof value === 'string' && UNSAFE.test(value)))
      return { ok: false, error: 'parameter' };
    if (params.has(key)) return { ok: false, error: 'duplicate' };
    params.set(key, value);
  }
  return { ok: true, address, params };
}

/** MAIL FROM's BODY values we take (RFC 6152); BINARYMIME needs CHUNKING, which is not offered. */
const BODY_TYPES = new Set(['7BIT', '8BITMIME']);

/**
 * Checks MAIL FROM's parameters: the ones we implement (RFC 1870 SIZE, RFC 6152 BODY, RFC 6531
 * SMTPUTF8, RFC 4954 AUTH, which is accepted and ignored) with valid values; the reply to give
 * otherwise. A declared SIZE over the limit is refused at once (RFC 1870 §6.1).
 */
export function mailParameters(
  params: ReadonlyMap<string, string | true>,
  maxSize: number,
): { ok: true; smtpUtf8: boolean } | { ok: false; code: number; text: string } {
  let smtpUtf8 = false;
  for (const [key, value] of params) {
    if (key === 'SIZE') {
      if (typeof value !== 'string' || !/^\d{1,20}$/.test(value)) {
        return { ok: false, code: 501, text: '5.5.4 Bad SIZE parameter' };
      }
      if (Number(value) > maxSize) {
        return { ok: false, code: REPLIES['message-too-big'].code, text: replyText('message-too-big') };
      }
    } else if (key === 'BODY') {
      if (typeof value !== 'string' || !BODY_TYPES.has(value.toUpperCase())) {
        return { ok: false, code: 501, text: '5.5.4 Unsupported BODY type' };
      }
    } else if (key === 'SMTPUTF8') {
      if (value !== true) return { ok: false, code: 501, text: '5.5.4 SMTPUTF8 takes no value' };
      smtpUtf8 = true;
    } else if (key !== 'AUTH') {
      // RFC 5321 §4.1.1.11: an extension we did not offer.
      return { ok: false, code: 555, text: `5.5.4 Unsupported MAIL FROM parameter ${key}` };
    }
  }
  return { ok: true, smtpUtf8 };
}

/** xtext (RFC 3461 §4): "+" and two hex digits stand for one octet. */
function decodeXtext(value: string): string {
  return value.includes('+')
    ? value.replace(/\+([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    : value;
}

/**
 * Checks a mailbox (local@domain) and returns it with its domain in Unicode; null when it is not
 * one. Lenient about the local part (what real senders use), strict about the domain.
 */
function normalizeAddress(address: string, recipient: boolean): string | null {
  if (address === '') return '';
  if (UNSAFE.test(address)) return null;
  // RFC 5321 §4.1.1.3: the domainless postmaster recipient must be accepted.
  if (recipient && address.toLowerCase() === 'postmaster') return address;
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return null;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (!local.startsWith('"') && (local.startsWith('.') || local.endsWith('.') || local.includes('..')))
    return null;
  if (domain.startsWith('[') && domain.endsWith(']')) {
    const literal = domain.slice(1, -1);
    const v6 = /^IPv6:/i.test(literal) ? literal.slice(5) : null;
    return (v6 !== null ? isIPv6(v6) : isIPv4(literal)) ? address : null;
  }
  // Labels of letters, digits and hyphens, neither starting nor ending with a hyphen (RFC 5321
  // §4.1.2), non-ASCII letters allowed (RFC 6531).
  if (!DOMAIN.test(domain)) return null;
  if (!/xn--/i.test(domain)) return address;
  const unicode = domainToUnicode(domain);
  return unicode ? `${local}@${unicode}` : null;
}

/** The EHLO/HELO argument when it is one plausible name or address literal; null otherwise. */
export function heloName(rest: string): string | null {
  const name = rest.trim();
  if (name === '' || name.includes(' ') || name.length > MAX_HELO || UNSAFE.test(name)) return null;
  return name;
}

/** SASL PLAIN (RFC 4616): authzid NUL authcid NUL passwd, base64; null when malformed. */
export function decodePlain(response: string): { username: string; password: string } | null {
  const text = decodeBase64(response);
  if (text === null) return null;
  const parts = text.split('\0');
  if (parts.length !== 3 || !parts[1]) return null;
  return { username: parts[1], password: parts[2]! };
}

/** Strict base64 to UTF-8 text; null when it is not base64. */
export function decodeBase64(value: string): string | null {
  const v = value.trim();
  if (v === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(v) || v.length % 4 !== 0) return null;
  return Buffer.from(v, 'base64').toString('utf8');
}

/** An HTTP request line sent to the SMTP port (a web page trying cross-protocol tricks). */
export function isHttpRequest(line: string): boolean {
  return /^(OPTIONS|GET|HEAD|POST|PUT|DELETE|TRACE|CONNECT|PATCH) \S* HTTP\/\d(\.\d)?$/i.test(line);
}
