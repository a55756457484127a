// Address and display-name checks for outgoing mail. Only the plain `local@domain` form is
// accepted: every older or rarer syntax (quoted local parts, domain literals, source routes,
// percent hacks, bang paths, groups, encoded-words) has been used to make a header say one thing
// while the envelope or a downstream relay does another, and an API client never needs them.
import { domainToASCII, domainToUnicode } from 'node:url';

/** C0 controls (CR, LF, NUL and TAB included), DEL and the C1 controls. */
export const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/** An RFC 2047 encoded-word starts with "=?"; supplied raw, a receiver would decode it. */
const ENCODED_WORD = '=?';

/** Characters with a meaning in address lists (RFC 5322 §3.2.3 specials) or in quoting. */
const SPECIALS = /[<>,;:()\\]/;

/**
 * RFC 5322 §3.2.3 atext without "%" and "!" (refused earlier with their own message), plus the
 * letters, marks and digits of any script that RFC 6531 §3.3 admits in an SMTPUTF8 local part.
 */
const ATOM = "[A-Za-z0-9#$&'*+\\-/=?^_`{|}~\\p{L}\\p{M}\\p{N}]+";
const DOT_ATOM = new RegExp(`^${ATOM}(?:\\.${ATOM})*$`, 'u');

/** Before IDNA mapping: letters, marks and digits of any script, "-", and the dots UTS #46 maps. */
const RAW_DOMAIN = /^[\p{L}\p{M}\p{N}\-.\u3002\uff0e\uff61]+$/u;

/** RFC 1035 §2.3.1 LDH label as RFC 5890 §2.3.1 keeps it; domainToASCII has lower-cased it. */
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export interface CheckedAddress {
  /** The address as used on the wire: local part as given, domain as an A-label (punycode). */
  address: string;
  /** The local part holds non-ASCII characters, so delivery needs SMTPUTF8 (RFC 6531). */
  smtputf8: boolean;
}

export type AddressCheck = { ok: true; value: CheckedAddress } | { ok: false; problem: string };

/** Checks one address; `problem` completes a sentence that starts with the field name. */
export function checkAddress(input: string): AddressCheck {
  const problem = shapeProblem(input);
  if (problem) return { ok: false, problem };
  const at = input.indexOf('@');
  const local = input.slice(0, at);
  const localIssue = localPartProblem(local);
  if (localIssue) return { ok: false, problem: localIssue };
  const domain = toAsciiDomain(input.slice(at + 1));
  if (!domain.ok) return domain;
  const address = `${local}@${domain.ascii}`;
  // RFC 5321 §4.5.3.1.3: the reverse/forward path is at most 256 octets with its brackets.
  if (Buffer.byteLength(address) > 254) return { ok: false, problem: 'is longer than 254 octets' };
  return { ok: true, value: { address, smtputf8: /[^\x00-\x7f]/.test(local) } };
}

/** Refusals that concern the address as a whole, most specific first. */
function shapeProblem(input: string): string | null {
  if (input === '') return 'is empty';
  if (CONTROL.test(input)) return 'contains a control character';
  if (/\s/u.test(input)) return 'contains white space';
  if (input.startsWith('@')) return 'is a source route (RFC 5321 §4.1.2), which is not accepted';
  if (input.includes('"')) return 'has a quoted local part (RFC 5322 §3.4.1), which is not accepted';
  if (/[[\]]/.test(input)) return 'has a domain literal (RFC 5321 §4.1.3), which is not accepted';
  if (input.includes(ENCODED_WORD)) return 'contains "=?" (an RFC 2047 encoded-word), which is not accepted';
  const special = SPECIALS.exec(input);
  if (special) return `contains "${special[0]}"; give one plain address per entry, without a display name`;
  if (input.split('@').length !== 2) return 'must contain exactly one "@"';
  return null;
}

function localPartProblem(local: string): string | null {
  if (local === '') return 'has an empty local part';
  if (local.includes('%')) return 'has "%" in the local part (the "percent hack" relays mail onwards)';
  if (local.includes('!')) return 'has "!" in the local part (a UUCP bang path relays mail onwards)';
  // RFC 5321 §4.5.3.1.1
  if (Buffer.byteLength(local) > 64) return 'has a local part longer than 64 octets';
  if (!DOT_ATOM.test(local))
    return 'has a local part that is not a dot-atom (RFC 5322 §3.2.3, RFC 6531 §3.3)';
  return null;
}

type DomainCheck = { ok: true; ascii: string } | { ok: false; problem: string };

/** IDNA (RFC 5890) conversion to A-labels, then the hostname rules the envelope must obey. */
function toAsciiDomain(domain: string): DomainCheck {
  // domainToASCII follows the WHATWG URL host parser, which would percent-decode and turn numbers
  // into IPv4 addresses; only plain names may reach it.
  if (!RAW_DOMAIN.test(domain))
    return { ok: false, problem: 'has a domain with characters not allowed there' };
  const ascii = domainToASCII(domain);
  if (ascii === '') return { ok: false, problem: 'has a domain that is not a valid domain name (RFC 5890)' };
  // RFC 1035 §2.3.4 (255 octets on the wire is 253 in text).
  if (ascii.length > 253) return { ok: false, problem: 'has a domain longer than 253 characters' };
  const labels = ascii.split('.');
  if (labels.length < 2) return { ok: false, problem: 'has a domain with a single label; use a full domain' };
  const bad = labels.find((label) => !LDH_LABEL.test(label));
  if (bad !== undefined)
    return { ok: false, problem: `has an invalid domain label "${bad}" (RFC 1035 §2.3.1)` };
  // RFC 3696 §2: a top-level domain is never all-numeric, so this also refuses dotted IPv4.
  if (/^[0-9]+$/.test(labels.at(-1)!)) return { ok: false, problem: 'has an all-numeric top-level domain' };
  // RFC 5890 §2.3.1: "--" in the third and fourth place is reserved; only an "xn--" label that
  // decodes (domainToUnicode leaves a label it cannot decode unchanged) is a valid A-label.
  const reserved = labels.find(
    (l) => l.slice(2, 4) === '--' && !(l.startsWith('xn--') && domainToUnicode(l) !== l),
  );
  if (reserved !== undefined)
    return { ok: false, problem: `has an invalid A-label "${reserved}" (RFC 5890)` };
  return { ok: true, ascii };
}

/** Display names: any text, but nothing that could end the header or decode into other text. */
export function nameProblem(name: string): string | null {
  if (CONTROL.test(name)) return 'contains a control character';
  if (name.includes(ENCODED_WORD))
    return 'contains "=?" (an RFC 2047 encoded-word); send the plain text instead';
  if (name.length > 256) return 'is longer than 256 characters';
  return null;
}
