// Writes of the API key store, run in the SQLite writer thread (one transaction per batch, a
// savepoint per op). SQLite has one writer, so counting the active keys and inserting a new one
// cannot be split by another create.
import type { DatabaseSync } from 'node:sqlite';
import type { ApiKey, NewApiKey } from '../../domain/api-key.ts';
import { type ApiKeyRow, toApiKey } from './api-key-sql.ts';
import { stmt } from './statements.ts';

export const apiKeyOps = {
  createApiKey(db: DatabaseSync, args: { key: NewApiKey; maxActive: number }): boolean {
    const { key } = args;
    const { n } = stmt(
      db,
      `SELECT count(*) AS n FROM api_keys
       WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`,
    ).get(key.createdAt) as { n: number };
    if (n >= args.maxActive) return false;
    stmt(
      db,
      `INSERT INTO api_keys (id, name, scopes, secret_hash, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(key.id, key.name, JSON.stringify(key.scopes), key.secretHash, key.createdAt, key.expiresAt);
    return true;
  },

  revokeApiKey(db: DatabaseSync, args: { id: string; at: string }): ApiKey | null {
    const row = stmt(
      db,
      'UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? RETURNING *',
    ).get(args.at, args.id) as unknown as ApiKeyRow | undefined;
    return row ? toApiKey(row) : null;
  },

  touchApiKey(db: DatabaseSync, args: { id: string; at: string; since: string }): void {
    stmt(
      db,
      'UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)',
    ).run(args.at, args.id, args.since);
  },
} as const;
