// Reads of the API key table shared by the reader (api-keys.ts) and the writer thread
// (api-key-ops.ts): both hold a DatabaseSync on the same file.
import type { DatabaseSync } from 'node:sqlite';
import type { ApiKey, ApiKeyScope } from '../../domain/api-key.ts';
import { stmt } from './statements.ts';

export interface ApiKeyRow {
  id: string;
  name: string;
  scopes: string;
  secret_hash: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
}

export function toApiKey(r: ApiKeyRow): ApiKey {
  return {
    id: r.id,
    name: r.name,
    scopes: JSON.parse(r.scopes) as ApiKeyScope[],
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}

/** One key with the hash of its secret, or null. */
export function apiKeyById(db: DatabaseSync, id: string): { key: ApiKey; secretHash: string } | null {
  const row = stmt(db, 'SELECT * FROM api_keys WHERE id = ?').get(id) as unknown as ApiKeyRow | undefined;
  return row ? { key: toApiKey(row), secretHash: row.secret_hash } : null;
}
