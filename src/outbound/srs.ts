// Sender Rewriting Scheme (SRS), as in Shevek's paper and the libsrs2/postsrsd convention: mail we
// forward leaves with an envelope sender at our forward domain, so the next hop's SPF check asks
// about our domain (whose SPF record lists us) instead of the original sender's (which does not).
// A bounce to the rewritten address can be reversed to the original sender, and only for
// addresses we made: each carries an HMAC of its contents and a day stamp.
//
//   SRS0=HHHH=TT=orig-domain=orig-local@forward-domain   (first forwarder)
//   SRS1=HHHH=first-forwarder==HHHH=TT=orig-domain=orig-local@forward-domain   (later forwarders)
//
// SRS1 keeps the chain short: a forwarder that gets an SRS0 address of another forwarder does not
// wrap it again but points at that forwarder, which can reverse its own address.
//
// The hash is HMAC-SHA256 (the convention uses HMAC-SHA1; nobody else needs to check our hashes)
// over the lower-cased fields, in base32, so an MTA that changes the case of a local part, as some
// do, cannot make a valid address fail; and the hash is compared without case for the same reason.
// Four base32 characters are 20 bits: the convention's length, enough that forging an address
// (to make us relay a bounce) costs about a million tries per target.
import { createHmac, timingSafeEqual } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const DAY_MS = 86_400_000;
/** Two base32 characters hold 1024 day numbers; stamps wrap around after that (about 2.8 years). */
const TIME_SLOTS = 1024;
const HASH_LENGTH = 4;
/** How long a rewritten address can be reversed: bounces come back within days (libsrs2's default). */
export const SRS_MAX_AGE_DAYS = 21;

export interface SrsForwardOptions {
  /** Our forward domain: the rewritten address is at it, and its SPF record must list us. */
  domain: string;
  /** The first signs; all of them verify (rotation). */
  secrets: readonly string[];
  /** Epoch milliseconds. */
  now: number;
}

export interface SrsReverseOptions {
  secrets: readonly string[];
  now: number;
  maxAgeDays?: number;
}

export type SrsReverseResult = { ok: true; original: string } | { ok: false; reason: string };

const SRS0 = /^SRS0[=+-]/i;
const SRS1 = /^SRS1[=+-]/i;

function base32(bytes: Uint8Array, length: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length === length) break;
    value &= (1 << bits) - 1;
  }
  return out;
}

function dayStamp(now: number): string {
  const day = Math.floor(now / DAY_MS) % TIME_SLOTS;
  return BASE32[day >> 5]! + BASE32[day & 31]!;
}

/** The day number of a stamp, or null when it is not two base32 characters. */
function stampDay(stamp: string): number | null {
  if (stamp.length !== 2) return null;
  const hi = BASE32.indexOf(stamp[0]!.toUpperCase());
  const lo = BASE32.indexOf(stamp[1]!.toUpperCase());
  return hi < 0 || lo < 0 ? null : (hi << 5) | lo;
}

/** Fields joined with "=", which no domain holds, so two field lists never hash the same text. */
function hash(secret: string, fields: readonly string[]): string {
  const mac = createHmac('sha256', secret).update(fields.join('=').toLowerCase()).digest();
  return base32(mac, HASH_LENGTH);
}

function verifies(given: string, secrets: readonly string[], fields: readonly string[]): boolean {
  const g = Buffer.from(given.toUpperCase());
  return secrets.some((s) => {
    const want = Buffer.from(hash(s, fields));
    return want.length === g.length && timingSafeEqual(want, g);
  });
}

function split(address: string): { local: string; domain: string } | null {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return null;
  return { local: address.slice(0, at), domain: address.slice(at + 1) };
}

/**
 * The envelope sender to forward mail from `original` with. The null sender stays null (nothing
 * may bounce to it), and an address already at our forward domain stays as it is (SPF passes for
 * it as it is). Throws for an address that cannot be rewritten (no domain, a quoted local part)
 * or when no secret is configured.
 */
export function srsForward(original: string, opts: SrsForwardOptions): string {
  if (original === '') return '';
  const secret = opts.secrets[0];
  if (secret === undefined || secret === '') throw new Error('SRS needs at least one secret');
  const domain = opts.domain.trim().replace(/\.$/, '').toLowerCase();
  if (domain === '') throw new Error('SRS needs a forward domain');
  const parts = split(original);
  if (!parts) throw new Error(`the sender ${JSON.stringify(original)} has no domain to rewrite`);
  if (parts.local.includes('"')) {
    throw new Error(`the sender ${JSON.stringify(original)} has a quoted local part, which SRS cannot carry`);
  }
  if (parts.domain.toLowerCase() === domain) return original;
  if (SRS0.test(parts.local)) {
    // Another forwarder's SRS0: point at that forwarder. The user part keeps its separator, so
    // the result reads SRS1=HHHH=host==HHHH=TT=… as in the convention.
    return srs1(secret, parts.domain, parts.local.slice(4), domain);
  }
  const chained = /^SRS1[=+-][^=]+=([^=]+)=(.+)$/i.exec(parts.local);
  // An SRS1 address keeps pointing at the first forwarder; only the hash is ours.
  if (chained) return srs1(secret, chained[1]!, chained[2]!, domain);
  const stamp = dayStamp(opts.now);
  const h = hash(secret, [stamp, parts.domain, parts.local]);
  return `SRS0=${h}=${stamp}=${parts.domain}=${parts.local}@${domain}`;
}

function srs1(secret: string, host: string, user: string, domain: string): string {
  return `SRS1=${hash(secret, [host, user])}=${host}=${user}@${domain}`;
}

/**
 * The address a rewritten one stands for: the original sender for our SRS0 addresses, the first
 * forwarder's SRS0 address for SRS1 ones (it checks its own stamp). Refuses addresses with a hash
 * none of the secrets made, and SRS0 addresses older than `maxAgeDays`.
 */
export function srsReverse(address: string, opts: SrsReverseOptions): SrsReverseResult {
  if (address === '') return { ok: true, original: '' };
  const parts = split(address);
  if (!parts) return { ok: false, reason: 'not an address' };
  if (opts.secrets.length === 0) return { ok: false, reason: 'no SRS secret is configured' };
  if (SRS0.test(parts.local)) {
    const m = /^SRS0[=+-]([^=]+)=([^=]+)=([^=]+)=(.+)$/i.exec(parts.local);
    if (!m) return { ok: false, reason: 'a malformed SRS0 address' };
    const [, given, stamp, host, user] = m as unknown as [string, string, string, string, string];
    const day = stampDay(stamp);
    if (day === null) return { ok: false, reason: 'a malformed SRS0 time stamp' };
    if (!verifies(given, opts.secrets, [stamp.toUpperCase(), host, user]))
      return { ok: false, reason: 'the SRS hash does not verify' };
    const today = Math.floor(opts.now / DAY_MS) % TIME_SLOTS;
    // Modulo the slots: a stamp from "tomorrow" (a skewed clock) counts as very old.
    const age = (today - day + TIME_SLOTS) % TIME_SLOTS;
    const maxAge = opts.maxAgeDays ?? SRS_MAX_AGE_DAYS;
    if (age > maxAge) return { ok: false, reason: `the SRS address is ${age} days old (at most ${maxAge})` };
    return { ok: true, original: `${user}@${host}` };
  }
  if (SRS1.test(parts.local)) {
    const m = /^SRS1[=+-]([^=]+)=([^=]+)=(.+)$/i.exec(parts.local);
    if (!m) return { ok: false, reason: 'a malformed SRS1 address' };
    const [, given, host, user] = m as unknown as [string, string, string, string];
    if (!verifies(given, opts.secrets, [host, user]))
      return { ok: false, reason: 'the SRS hash does not verify' };
    return { ok: true, original: `SRS0${user}@${host}` };
  }
  return { ok: false, reason: 'not an SRS address' };
}

/**
 * For the MX side: the sender an address stands for when it is one of our SRS addresses at the
 * forward domain and verifies; null otherwise (and always without secrets).
 */
export function srsReturnPath(opts: {
  domain: string;
  secrets: readonly string[];
  now: () => number;
}): (rcpt: string) => string | null {
  const domain = opts.domain.toLowerCase();
  return (rcpt) => {
    if (opts.secrets.length === 0 || domain === '') return null;
    const at = rcpt.lastIndexOf('@');
    if (at < 0 || rcpt.slice(at + 1).toLowerCase() !== domain) return null;
    if (!/^SRS[01][=+-]/i.test(rcpt)) return null;
    const r = srsReverse(rcpt, { secrets: opts.secrets, now: opts.now() });
    return r.ok && r.original !== '' ? r.original : null;
  };
}
