// API keys kept in the database (made with `mailroom keys create` or POST /api/v1/keys), beside the
// tokens of --http-tokens. Pure rules, no I/O: how a key is written, made, checked and named.
//
// A key reads `mr_<id>_<secret>`: the `mr_` prefix lets secret scanners and people recognise it,
// the id (22 base62 characters, like every Mailroom id) is not secret and may be logged or shown,
// and the secret is 32 random bytes in base64url (43 characters). Only a SHA-256 hash of the secret
// is stored. A fast hash is the right one here: a slow password hash (bcrypt, scrypt) protects
// guessable secrets, but 256 random bits cannot be guessed however fast each guess is, and a fast
// hash keeps the check cheap on every request.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isMessageId, newMessageId } from './ids.ts';

/** What a key may do; the same scopes as a configured token (http/middleware/access.ts). */
export const API_KEY_SCOPES = ['send', 'read', 'manage'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export const API_KEY_PREFIX = 'mr_';
/** Longest key name, in characters. */
export const API_KEY_NAME_MAX = 100;
/** Keys neither revoked nor expired that may exist at once. */
export const MAX_ACTIVE_API_KEYS = 1000;
const SECRET_BYTES = 32;
/** base64url of 32 bytes, without padding. */
const SECRET_LENGTH = 43;
const KEY_PATTERN = new RegExp(`^${API_KEY_PREFIX}([0-9A-Za-z]{22})_([A-Za-z0-9_-]{${SECRET_LENGTH}})$`);

export interface ApiKey {
  id: string;
  name: string;
  /** In the order of API_KEY_SCOPES, each once. */
  scopes: ApiKeyScope[];
  /** ISO 8601 times. */
  createdAt: string;
  /** Updated at most about once a minute per key, not on every request. */
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

/** A key to store: its record without use or revocation, and the hash of its secret. */
export interface NewApiKey {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  /** Lower-case hex SHA-256 of the secret. */
  secretHash: string;
  createdAt: string;
  expiresAt: string | null;
}

export type ApiKeyState = 'active' | 'expired' | 'revoked';

export function apiKeyState(key: Pick<ApiKey, 'expiresAt' | 'revokedAt'>, now: number): ApiKeyState {
  if (key.revokedAt !== null) return 'revoked';
  if (key.expiresAt !== null && Date.parse(key.expiresAt) <= now) return 'expired';
  return 'active';
}

/** Each scope once, in the canonical order. */
export function normalizeScopes(scopes: readonly ApiKeyScope[]): ApiKeyScope[] {
  return API_KEY_SCOPES.filter((s) => scopes.includes(s));
}

export function isApiKeyId(value: string): boolean {
  return isMessageId(value);
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Splits a presented key into id and secret; null when it is not written like a Mailroom key. */
export function parseApiKey(presented: string): { id: string; secret: string } | null {
  const m = KEY_PATTERN.exec(presented);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

/** Does the secret hash to the stored hash? Compared in constant time. */
export function secretMatches(storedHash: string, secret: string): boolean {
  const expected = Buffer.from(storedHash, 'hex');
  const actual = Buffer.from(hashSecret(secret), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Why a key name is refused, or null when it is fine. Names are for people: one line, no control characters. */
export function keyNameProblem(name: string): string | null {
  if (name.trim() === '') return 'the name is empty';
  if (name.length > API_KEY_NAME_MAX) return `the name is longer than ${API_KEY_NAME_MAX} characters`;
  if (/\p{Cc}/u.test(name)) return 'the name contains control characters';
  return null;
}

export interface KeyRequest {
  name: string;
  scopes: readonly ApiKeyScope[];
  expiresAt: string | null;
  now: number;
}

export type IssueResult =
  /** `token` is the whole key, to hand over once: only its hash is kept. */
  | { outcome: 'created'; token: string; key: ApiKey }
  /** MAX_ACTIVE_API_KEYS keys are active already; nothing was stored. */
  | { outcome: 'limit' };

/**
 * Makes a key and stores it through `create` (ApiKeyStore.createApiKey), which refuses when
 * `maxActive` keys are active already. The caller has validated name, scopes and expiry.
 */
export async function issueApiKey(
  create: (key: NewApiKey, maxActive: number) => Promise<boolean>,
  request: KeyRequest,
): Promise<IssueResult> {
  const id = newMessageId();
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  const record: NewApiKey = {
    id,
    name: request.name.trim(),
    scopes: normalizeScopes(request.scopes),
    secretHash: hashSecret(secret),
    createdAt: new Date(request.now).toISOString(),
    // Stored as toISOString() writes it, so times compare as text in SQLite.
    expiresAt: request.expiresAt === null ? null : new Date(request.expiresAt).toISOString(),
  };
  if (!(await create(record, MAX_ACTIVE_API_KEYS))) return { outcome: 'limit' };
  const { secretHash: _, ...stored } = record;
  return {
    outcome: 'created',
    token: `${API_KEY_PREFIX}${id}_${secret}`,
    key: { ...stored, lastUsedAt: null, revokedAt: null },
  };
}
