// Formatting of Authentication-Results pieces (RFC 8601 §2.2) for the entries this module writes
// itself; the entries mailauth computed keep mailauth's own formatting.
import { domainToASCII } from 'node:url';

// RFC 2045 §5.1 token: printable ASCII except SPACE and tspecials.
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;
// RFC 8601 §2.2 pvalue alternative [ [ local-part ] "@" ] domain-name, with a dot-atom local-part.
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const IDENTITY = new RegExp(`^(?:${ATOM}(?:\\.${ATOM})*)?@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$`);
const CONTROL = /[\x00-\x1f\x7f]+/g;

/** A property value: bare when RFC 8601 allows it, else a quoted-string (RFC 5322 §3.2.4). */
export function propertyValue(value: string): string {
  const clean = value.replace(CONTROL, ' ').trim();
  if (TOKEN.test(clean) || IDENTITY.test(clean)) return clean;
  return `"${clean.replace(/[\\"]/g, '\\$&')}"`;
}

/** A comment: parentheses and backslashes quoted (RFC 5322 §3.2.2), no line breaks. */
export function comment(text: string): string {
  return `(${text
    .replace(CONTROL, ' ')
    .trim()
    .replace(/[\\()]/g, '\\$&')})`;
}

/**
 * One resinfo: `method=result (comment) ptype.property=value ...`. Properties whose value is
 * undefined or empty are left out rather than written empty.
 */
export function resinfo(
  method: string,
  result: string,
  note: string | undefined,
  props: ReadonlyArray<readonly [string, string | undefined]> = [],
): string {
  const parts = [`${method}=${result}`];
  if (note) parts.push(comment(note));
  for (const [name, value] of props) {
    if (value) parts.push(`${name}=${propertyValue(value)}`);
  }
  return parts.join(' ');
}

/** The field body: authserv-id first, then one resinfo per folded line. */
export function resultsValue(authservId: string, rows: readonly string[]): string {
  return [authservId, ...rows].join(';\r\n ');
}

/**
 * The authserv-id for a receiving host name (RFC 8601 §2.5: a token, usually the host's name),
 * in A-labels. A name that cannot be one is a configuration error, so it throws.
 */
export function authservIdFor(hostname: string): string {
  const trimmed = hostname.trim().replace(/\.$/, '').toLowerCase();
  const ascii = domainToASCII(trimmed);
  if (!ascii || ascii.length > 253 || !TOKEN.test(ascii)) {
    throw new TypeError(`sender-auth: hostname ${JSON.stringify(hostname)} is not a host name`);
  }
  return ascii;
}
