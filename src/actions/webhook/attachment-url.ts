// Signed download URLs for the attachments of a routed message, for webhooks that ask for
// `attachments: 'url'`: the receiver fetches each part when it wants it, without API credentials.
// The URL is its own credential: an HMAC-SHA256 (RFC 2104) over the message id, the part id and the
// expiry, so it opens one part of one message until then and cannot be altered to open another.
//
// The key is its own setting and never a webhook secret: every receiver holds the webhook secret
// to check signatures, and with it could mint download URLs for messages routed to others.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../../config/load.ts';
import type { Config } from '../../config/schema.ts';

/** Where the download route is served (routes/inbound-attachments). */
export const ATTACHMENT_PATH = '/api/v1/inbound/attachments';
/** Shorter keys are refused at start: they could be guessed. */
export const MIN_ATTACHMENT_URL_SECRET = 32;

export interface AttachmentUrlSettings {
  /** Public base URL of the HTTP API, without a trailing slash; null: no URLs are made. */
  baseUrl: string | null;
  /** The signing key; null: none configured, so no URL is made and none is accepted. */
  secret: string | null;
  lifetimeMs: number;
  /** Why no URL can be made, for the payload's URLError; null when URLs are made. */
  unavailable: string | null;
}

/** The settings, checked; throws ConfigError for a malformed URL or a short key. */
export function attachmentUrlsFromConfig(
  c: Pick<Config, 'publicUrl' | 'attachmentUrlSecret' | 'attachmentUrlLifetime'>,
): AttachmentUrlSettings {
  const secret = c.attachmentUrlSecret === '' ? null : c.attachmentUrlSecret;
  if (secret !== null && secret.length < MIN_ATTACHMENT_URL_SECRET) {
    throw new ConfigError(
      `--attachment-url-secret (MAILROOM_ATTACHMENT_URL_SECRET) has ${secret.length} characters; at least ${MIN_ATTACHMENT_URL_SECRET} are needed`,
    );
  }
  const baseUrl = c.publicUrl === '' ? null : checkedBaseUrl(c.publicUrl);
  const missing = [baseUrl === null && '--public-url', secret === null && '--attachment-url-secret'].filter(
    Boolean,
  );
  return {
    baseUrl,
    secret,
    lifetimeMs: c.attachmentUrlLifetime,
    unavailable:
      missing.length === 0 ? null : `no download URL: ${missing.join(' and ')} not set on the server`,
  };
}

function checkedBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`--public-url: "${text}" is not a URL`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username) {
    throw new ConfigError('--public-url: give an http(s) base URL without query, fragment or credentials');
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** base64url HMAC-SHA256; the leading "a" keeps these MACs apart from any other use of the key. */
function mac(secret: string, messageId: string, partId: string, expires: number): Buffer {
  return createHmac('sha256', secret).update(`a\n${messageId}\n${partId}\n${expires}`).digest();
}

/** The URL of one part, valid until `nowMs + lifetimeMs` (whole seconds, rounded down). */
export function attachmentUrl(
  s: { baseUrl: string; secret: string; lifetimeMs: number },
  messageId: string,
  partId: string,
  nowMs: number,
): string {
  const expires = Math.floor((nowMs + s.lifetimeMs) / 1000);
  const sig = mac(s.secret, messageId, partId, expires).toString('base64url');
  const path = `${ATTACHMENT_PATH}/${encodeURIComponent(messageId)}/${encodeURIComponent(partId)}`;
  return `${s.baseUrl}${path}?expires=${expires}&sig=${sig}`;
}

export type AttachmentUrlCheck = { ok: true } | { ok: false; reason: 'malformed' | 'mismatch' | 'expired' };

/** 32 bytes in base64url, unpadded. */
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;
/** Unix seconds; twelve digits reach far past any lifetime allowed. */
const EXPIRES = /^\d{1,12}$/;

/**
 * Checks a download request's `expires` and `sig` for this message and part at `nowMs`. The MAC is
 * compared in constant time and before the expiry, so a forged URL learns nothing from the answer.
 */
export function verifyAttachmentUrl(
  secret: string,
  req: { messageId: string; partId: string; expires: string | undefined; sig: string | undefined },
  nowMs: number,
): AttachmentUrlCheck {
  if (req.expires === undefined || req.sig === undefined) return { ok: false, reason: 'malformed' };
  if (!EXPIRES.test(req.expires) || !SIGNATURE.test(req.sig)) return { ok: false, reason: 'malformed' };
  const expires = Number(req.expires);
  // Compared as text, not decoded bytes: base64url ignores the last character's low bits, and a
  // second spelling of the same signature should not be accepted.
  const expected = Buffer.from(mac(secret, req.messageId, req.partId, expires).toString('base64url'));
  if (!timingSafeEqual(expected, Buffer.from(req.sig))) return { ok: false, reason: 'mismatch' };
  if (expires * 1000 <= nowMs) return { ok: false, reason: 'expired' };
  return { ok: true };
}
