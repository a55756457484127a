// Which IP addresses Mailroom may open a connection to when a user chose the host (webhook URLs,
// MX hosts of recipient domains). A hostile user could otherwise point Mailroom at services on our
// own network (metadata endpoints, databases, admin panels): server-side request forgery.
// The ranges are the IANA special-purpose registries (RFC 6890) plus the IPv6 forms that carry an
// IPv4 address inside them, which reach that IPv4 host and so must be judged by it.
// An explicit allow list of CIDRs and host names overrides, for tests and closed networks.
import net from 'node:net';

/** A special-purpose range an address falls in, and the document that sets it apart. */
export interface BlockedRange {
  readonly cidr: string;
  readonly name: string;
  readonly source: string;
}

export type AddressVerdict =
  | { readonly allowed: true; readonly reason: string }
  | { readonly allowed: false; readonly reason: string; readonly range: BlockedRange };

export interface AddressPolicy {
  /** Whether `ip` may be connected to; `host` is the name it was resolved from, if any. */
  check(ip: string, host?: string): AddressVerdict;
  allows(ip: string, host?: string): boolean;
}

export interface AddressPolicyOptions {
  /** CIDRs ("10.1.0.0/16"), single addresses ("127.0.0.1") or exact host names ("hooks.corp"). */
  allow?: readonly string[];
}

interface Cidr {
  readonly bytes: Uint8Array;
  readonly bits: number;
}

interface Range extends Cidr, BlockedRange {}

function range(cidr: string, name: string, source: string): Range {
  return { ...parseCidr(cidr), cidr, name, source };
}

// RFC 6890 §2.2.2 and the IANA IPv4 Special-Purpose Address Registry. More specific first, so the
// reason names the narrowest range.
const IPV4_RANGES: readonly Range[] = [
  range('0.0.0.0/32', 'unspecified', 'RFC 1122 §3.2.1.3'),
  range('0.0.0.0/8', 'this network', 'RFC 791, RFC 1122 §3.2.1.3'),
  range('10.0.0.0/8', 'private-use', 'RFC 1918 §3'),
  range('100.64.0.0/10', 'shared address space (CGNAT)', 'RFC 6598'),
  range('127.0.0.0/8', 'loopback', 'RFC 1122 §3.2.1.3'),
  range('169.254.0.0/16', 'link-local', 'RFC 3927'),
  range('172.16.0.0/12', 'private-use', 'RFC 1918 §3'),
  range('192.0.0.0/24', 'IETF protocol assignments', 'RFC 6890 §2.2.2'),
  range('192.0.2.0/24', 'documentation (TEST-NET-1)', 'RFC 5737'),
  range('192.88.99.0/24', '6to4 relay anycast (deprecated)', 'RFC 7526'),
  range('192.168.0.0/16', 'private-use', 'RFC 1918 §3'),
  range('198.18.0.0/15', 'benchmarking', 'RFC 2544'),
  range('198.51.100.0/24', 'documentation (TEST-NET-2)', 'RFC 5737'),
  range('203.0.113.0/24', 'documentation (TEST-NET-3)', 'RFC 5737'),
  range('224.0.0.0/4', 'multicast', 'RFC 5771'),
  range('255.255.255.255/32', 'limited broadcast', 'RFC 919, RFC 8190'),
  range('240.0.0.0/4', 'reserved', 'RFC 1112 §4'),
];

// The IANA IPv6 Special-Purpose Address Registry (RFC 6890 §2.2.3). The forms that embed an IPv4
// address are handled before this table (see embeddedIPv4).
const IPV6_RANGES: readonly Range[] = [
  range('::/128', 'unspecified', 'RFC 4291 §2.5.2'),
  range('::1/128', 'loopback', 'RFC 4291 §2.5.3'),
  range('64:ff9b:1::/48', 'local-use IPv4/IPv6 translation', 'RFC 8215'),
  range('100::/64', 'discard-only', 'RFC 6666'),
  range('2001:2::/48', 'benchmarking', 'RFC 5180'),
  range('2001:10::/28', 'ORCHID (deprecated)', 'RFC 4843'),
  range('2001:20::/28', 'ORCHIDv2 identifiers', 'RFC 7343'),
  range('2001:db8::/32', 'documentation', 'RFC 3849'),
  range('3fff::/20', 'documentation', 'RFC 9637'),
  range('5f00::/16', 'SRv6 SIDs', 'RFC 9602'),
  range('fc00::/7', 'unique-local', 'RFC 4193'),
  range('fe80::/10', 'link-local', 'RFC 4291 §2.5.6'),
  range('fec0::/10', 'site-local (deprecated)', 'RFC 3879'),
  range('ff00::/8', 'multicast', 'RFC 4291 §2.7'),
];

// Only 2000::/3 is allocated for global unicast; the rest is reserved (RFC 4291 §2.4).
const GLOBAL_UNICAST = parseCidr('2000::/3');
const RESERVED_V6: BlockedRange = {
  cidr: '::/0',
  name: 'reserved (outside 2000::/3)',
  source: 'RFC 4291 §2.4',
};
const NOT_AN_ADDRESS: BlockedRange = { cidr: '', name: 'not an IP address', source: '' };

// IPv6 forms whose last (or inner) 32 bits are an IPv4 address the packet ends up at.
const MAPPED = parseCidr('::ffff:0:0/96'); // IPv4-mapped, RFC 4291 §2.5.5.2
const TRANSLATED = parseCidr('::ffff:0:0:0/96'); // IPv4-translated (SIIT), RFC 2765 §2.1
const COMPATIBLE = parseCidr('::/96'); // IPv4-compatible (deprecated), RFC 4291 §2.5.5.1
const NAT64 = parseCidr('64:ff9b::/96'); // well-known NAT64 prefix, RFC 6052 §2.1
const SIX_TO_FOUR = parseCidr('2002::/16'); // 6to4, RFC 3056 §2: IPv4 in bits 16..47
const TEREDO = parseCidr('2001::/32'); // Teredo, RFC 4380 §4: server in 32..63, client in 96..127 inverted

/** IPv4 or IPv6 text to bytes (4 or 16); null when it is neither. A zone ("%eth0") is dropped. */
export function parseAddress(ip: string): Uint8Array | null {
  const bare = ip.replace(/%.*$/, '');
  if (net.isIPv4(bare)) return Uint8Array.from(bare.split('.').map(Number));
  if (net.isIPv6(bare)) return parseIPv6(bare);
  return null;
}

function parseIPv6(ip: string): Uint8Array {
  const out = new Uint8Array(16);
  const [head = '', tail] = ip.split('::') as [string, string | undefined];
  const left = words(head);
  const right = tail === undefined ? [] : words(tail);
  for (const [i, word] of left.entries()) writeWord(out, i, word);
  for (const [i, word] of right.entries()) writeWord(out, 8 - right.length + i, word);
  return out;
}

// Groups of 16 bits; a trailing dotted quad counts as two groups.
function words(part: string): number[] {
  if (part === '') return [];
  return part.split(':').flatMap((group) => {
    if (!group.includes('.')) return [Number.parseInt(group, 16)];
    const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
    return [(a << 8) | b, (c << 8) | d];
  });
}

function writeWord(out: Uint8Array, index: number, word: number): void {
  out[index * 2] = word >> 8;
  out[index * 2 + 1] = word & 255;
}

function parseCidr(text: string): Cidr {
  const parts = text.split('/');
  const [address = '', length] = parts;
  const bytes = parseAddress(address);
  const max = bytes ? bytes.length * 8 : 0;
  const bits = length === undefined ? max : Number(length);
  const lengthOk = length === undefined || /^\d{1,3}$/.test(length);
  if (parts.length > 2 || !bytes || address.includes('%') || !lengthOk || !(bits >= 0 && bits <= max)) {
    throw new Error(`not an IP address or CIDR: ${text}`);
  }
  return { bytes, bits };
}

function contains(cidr: Cidr, bytes: Uint8Array): boolean {
  if (cidr.bytes.length !== bytes.length) return false;
  for (let bit = 0; bit < cidr.bits; bit += 8) {
    const mask = (0xff << (8 - Math.min(8, cidr.bits - bit))) & 0xff;
    const i = bit / 8;
    if (((cidr.bytes[i]! ^ bytes[i]!) & mask) !== 0) return false;
  }
  return true;
}

const ipv4At = (bytes: Uint8Array, at: number) => bytes.slice(at, at + 4);
const inverted = (bytes: Uint8Array) => bytes.map((b) => b ^ 0xff);

/** The IPv4 addresses an IPv6 address carries and would deliver to. */
export function embeddedIPv4(bytes: Uint8Array): Uint8Array[] {
  if (bytes.length !== 16) return [];
  if (contains(MAPPED, bytes) || contains(TRANSLATED, bytes) || contains(NAT64, bytes)) {
    return [ipv4At(bytes, 12)];
  }
  // :: and ::1 are in ::/96 too; they carry 0.0.0.0 and 0.0.0.1, both blocked as "this network".
  if (contains(COMPATIBLE, bytes)) return [ipv4At(bytes, 12)];
  if (contains(SIX_TO_FOUR, bytes)) return [ipv4At(bytes, 2)];
  if (contains(TEREDO, bytes)) return [ipv4At(bytes, 4), inverted(ipv4At(bytes, 12))];
  return [];
}

function findRange(bytes: Uint8Array): BlockedRange | null {
  if (bytes.length === 4) return IPV4_RANGES.find((r) => contains(r, bytes)) ?? null;
  const hit = IPV6_RANGES.find((r) => contains(r, bytes));
  if (hit) return hit;
  for (const inner of embeddedIPv4(bytes)) {
    const carried = findRange(inner);
    if (carried) return { ...carried, name: `${carried.name}, embedded in IPv6` };
  }
  // NAT64 and IPv4-mapped addresses of public hosts sit outside 2000::/3 yet are reachable.
  if (embeddedIPv4(bytes).length > 0) return null;
  return contains(GLOBAL_UNICAST, bytes) ? null : RESERVED_V6;
}

/** The special-purpose range `ip` falls in (following embedded IPv4), or null for a public address. */
export function blockedRange(ip: string): BlockedRange | null {
  const bytes = parseAddress(ip);
  return bytes ? findRange(bytes) : NOT_AN_ADDRESS;
}

/** True when `ip` is loopback, private, link-local or otherwise not a public unicast address. */
export function isInternalAddress(ip: string): boolean {
  return blockedRange(ip) !== null;
}

const normalHost = (host: string) => host.trim().toLowerCase().replace(/\.$/, '');

/** A policy that forbids every internal address except those the allow list names. */
export function createAddressPolicy(options: AddressPolicyOptions = {}): AddressPolicy {
  const cidrs: Cidr[] = [];
  const hosts = new Set<string>();
  for (const entry of options.allow ?? []) {
    // A host name has a letter somewhere; an IPv4 address or CIDR never does, an IPv6 one has colons.
    if (/^[a-z0-9.-]+$/i.test(entry) && /[a-z]/i.test(entry)) hosts.add(normalHost(entry));
    else cidrs.push(parseCidr(entry));
  }
  const check = (ip: string, host?: string): AddressVerdict => {
    const bytes = parseAddress(ip);
    if (!bytes) return { allowed: false, reason: describe(ip, NOT_AN_ADDRESS), range: NOT_AN_ADDRESS };
    const range = findRange(bytes);
    if (!range) return { allowed: true, reason: `${ip} is a public address` };
    if (host !== undefined && hosts.has(normalHost(host))) {
      return { allowed: true, reason: `${host} is on the allow list` };
    }
    // Entries match the address as written: allowing 127.0.0.1 does not allow ::ffff:127.0.0.1,
    // so an allow list opened for one form cannot be walked through in another.
    if (cidrs.some((c) => contains(c, bytes))) {
      return { allowed: true, reason: `${ip} is on the allow list` };
    }
    return { allowed: false, reason: describe(ip, range), range };
  };
  return { check, allows: (ip, host) => check(ip, host).allowed };
}

function describe(ip: string, range: BlockedRange): string {
  if (range === NOT_AN_ADDRESS) return `${ip} is not an IP address`;
  return `${ip} is ${range.name} (${range.cidr}, ${range.source})`;
}
