// Webhook signatures: HMAC-SHA256 (RFC 2104) over "<timestamp>.<body>", sent as
// `Mailroom-Signature: v1=<hex>`. The timestamp is signed so a captured request cannot be replayed
// later than the receiver's tolerance. While a secret is rotated, Mailroom signs with every live
// secret and sends one v1= value per secret, so receivers holding either secret accept the request.
// `verifySignature` is the receiver's side, used by the tests and shown in docs/webhooks.md.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TIMESTAMP_HEADER = 'Mailroom-Timestamp';
export const SIGNATURE_HEADER = 'Mailroom-Signature';
/** The signature scheme; a new scheme would get a new prefix and be sent alongside. */
export const SIGNATURE_SCHEME = 'v1';

/** More values than any rotation needs; bounds the work a forged header can cause. */
const MAX_SIGNATURES = 8;
const HEX_SHA256 = /^[0-9a-f]{64}$/i;

export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

export type VerifyResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason:
        | 'missing-timestamp'
        | 'bad-timestamp'
        | 'stale-timestamp'
        | 'missing-signature'
        | 'mismatch';
    };

/** Hex HMAC-SHA256 of "<timestamp>.<body>" under one secret. */
export function computeSignature(secret: string, timestamp: number, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/**
 * The headers that sign `body` at `timestamp` (seconds since the Unix epoch). Pass several
 * secrets while rotating: the signature header then carries one v1= value per secret.
 */
export function signatureHeaders(
  secret: string | readonly string[],
  timestamp: number,
  body: string | Uint8Array,
): Record<string, string> {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new Error('a webhook needs at least one signing secret');
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new Error(`bad timestamp ${timestamp}`);
  const values = secrets.map((s) => `${SIGNATURE_SCHEME}=${computeSignature(s, timestamp, body)}`);
  return { [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: values.join(' ') };
}

/** One header, case-insensitively, as node:http hands them (lower-case) or as sent (any case). */
function header(headers: HeaderBag, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return typeof value === 'string' ? value : value.join(' ');
  }
  return undefined;
}

/** The v1 signatures in a header value, as bytes; other schemes and malformed values are skipped. */
function v1Signatures(value: string): Buffer[] {
  return value
    .split(/[\s,]+/)
    .filter((part) => part.startsWith(`${SIGNATURE_SCHEME}=`))
    .map((part) => part.slice(SIGNATURE_SCHEME.length + 1))
    .filter((hex) => HEX_SHA256.test(hex))
    .slice(0, MAX_SIGNATURES)
    .map((hex) => Buffer.from(hex, 'hex'));
}

/**
 * Checks a received webhook: the timestamp within `toleranceSeconds` of `nowMs` (milliseconds,
 * as Date.now()) either way, and some v1 signature made with one of `secrets` over the raw body.
 */
export function verifySignature(
  secrets: readonly string[],
  headers: HeaderBag,
  body: string | Uint8Array,
  nowMs: number,
  toleranceSeconds: number,
): VerifyResult {
  const stamp = header(headers, TIMESTAMP_HEADER);
  if (stamp === undefined) return { ok: false, reason: 'missing-timestamp' };
  if (!/^\d{1,15}$/.test(stamp.trim())) return { ok: false, reason: 'bad-timestamp' };
  const timestamp = Number(stamp.trim());
  if (Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds) return { ok: false, reason: 'stale-timestamp' };
  const received = v1Signatures(header(headers, SIGNATURE_HEADER) ?? '');
  if (received.length === 0) return { ok: false, reason: 'missing-signature' };
  let matched = false;
  // Every pair is compared, in constant time each, so timing says nothing about which matched.
  for (const secret of secrets) {
    const expected = Buffer.from(computeSignature(secret, timestamp, body), 'hex');
    for (const candidate of received) matched = timingSafeEqual(expected, candidate) || matched;
  }
  return matched ? { ok: true } : { ok: false, reason: 'mismatch' };
}
