// Checks bearer tokens against the stored API keys (domain/api-key.ts) for the access policy.
//
// Answers are cached for KEY_CACHE_TTL_MS, found keys and refusals alike, so a client sending many
// requests costs one database read per key and TTL rather than one per request, and a client
// retrying a bad key does not reach the database each time. The bound this gives: a key revoked
// through DELETE /api/v1/keys/{id} stops working on the node that served the DELETE at once (the
// route drops it from this cache); revoked on another node or with `mailroom keys revoke`, it
// keeps working for at most KEY_CACHE_TTL_MS longer. An expiry is checked on every request.
//
// Use is recorded at most once per KEY_USE_INTERVAL_MS per key and process, never waited for;
// the store also skips the write when another node recorded a use within the interval.
import { createHash } from 'node:crypto';
import { type ApiKey, type ApiKeyScope, parseApiKey, secretMatches } from '../../domain/api-key.ts';
import type { ApiKeyStore } from '../../storage/ports.ts';

/** How long a lookup's answer is reused: the longest a revocation elsewhere goes unnoticed. */
export const KEY_CACHE_TTL_MS = 5_000;
/** Last-used times are written at most this often per key. */
export const KEY_USE_INTERVAL_MS = 60_000;
/** Entries per cache (found keys, refusals); the oldest go first. */
const CACHE_MAX = 1024;

export interface VerifiedKey {
  id: string;
  scopes: readonly ApiKeyScope[];
}

interface Found {
  id: string;
  until: number;
  /** The key, or null when the token is no key: unknown id, wrong secret, or revoked. */
  key: Promise<ApiKey | null>;
}

/** Map insertion order is age order: dropping the first entry drops the oldest. */
function setBounded<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= CACHE_MAX) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
  map.set(key, value);
}

export class ApiKeyCache {
  private readonly store: ApiKeyStore;
  private readonly now: () => number;
  /** Lookups in flight and keys found, by a hash of the whole token. */
  private readonly found = new Map<string, Found>();
  /** Tokens that are no key → until when that answer holds. Kept apart so junk cannot evict keys. */
  private readonly refused = new Map<string, number>();
  /** Key id → when this process last recorded a use. */
  private readonly used = new Map<string, number>();

  constructor(store: ApiKeyStore, options: { now?: () => number } = {}) {
    this.store = store;
    this.now = options.now ?? Date.now;
  }

  /**
   * The key this bearer token is, or null when it is none (or revoked, or expired). A token not
   * written like a Mailroom key is refused without a lookup. Rejects when the store fails.
   */
  async verify(token: string): Promise<VerifiedKey | null> {
    const parsed = parseApiKey(token);
    if (!parsed) return null;
    // An unkeyed hash is enough here: the secret has 256 random bits.
    const id = createHash('sha256').update(token).digest('base64');
    const now = this.now();
    const refusedUntil = this.refused.get(id);
    if (refusedUntil !== undefined) {
      if (refusedUntil > now) return null;
      this.refused.delete(id);
    }
    let entry = this.found.get(id);
    if (entry && entry.until <= now) {
      this.found.delete(id);
      entry = undefined;
    }
    if (!entry) {
      const lookup = this.lookup(parsed.id, parsed.secret);
      const fresh: Found = { id: parsed.id, until: now + KEY_CACHE_TTL_MS, key: lookup };
      setBounded(this.found, id, fresh);
      entry = fresh;
      lookup.then(
        (key) => {
          if (key !== null || this.found.get(id) !== fresh) return;
          this.found.delete(id);
          setBounded(this.refused, id, fresh.until);
        },
        // A failed lookup is not remembered: the next request asks again.
        () => {
          if (this.found.get(id) === fresh) this.found.delete(id);
        },
      );
    }
    const key = await entry.key;
    if (key === null) return null;
    const at = this.now();
    if (key.expiresAt !== null && Date.parse(key.expiresAt) <= at) return null;
    this.recordUse(key, at);
    return { id: key.id, scopes: key.scopes };
  }

  /** Forgets a key at once (it was just revoked here). */
  forget(keyId: string): void {
    for (const [id, entry] of this.found) if (entry.id === keyId) this.found.delete(id);
  }

  private async lookup(keyId: string, secret: string): Promise<ApiKey | null> {
    const stored = await this.store.apiKeyWithHash(keyId);
    if (!stored || !secretMatches(stored.secretHash, secret)) return null;
    return stored.key.revokedAt === null ? stored.key : null;
  }

  private recordUse(key: ApiKey, now: number): void {
    const last = this.used.get(key.id) ?? (key.lastUsedAt === null ? 0 : Date.parse(key.lastUsedAt));
    if (now - last < KEY_USE_INTERVAL_MS) return;
    setBounded(this.used, key.id, now);
    const since = new Date(now - KEY_USE_INTERVAL_MS).toISOString();
    // Last use is for people deciding which keys to revoke; a failed write must not fail the request.
    this.store.touchApiKey(key.id, new Date(now).toISOString(), since).catch(() => {});
  }
}
