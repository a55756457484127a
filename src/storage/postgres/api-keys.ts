// PostgreSQL side of the API key port. Nodes sharing the database may create keys at the same
// moment: an advisory lock held for the transaction makes the count of active keys and the insert
// one step, so the cap holds across nodes.
import type pg from 'pg';
import type { ApiKey, ApiKeyScope, NewApiKey } from '../../domain/api-key.ts';
import type { ApiKeyStore } from '../ports.ts';
import { inTransaction } from './transaction.ts';

/** Key of the transaction-level advisory lock that serialises key creation ('keys' in ASCII). */
const CREATE_LOCK_KEY = 0x6b657973;

interface ApiKeyRow {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  secret_hash: string;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

function toApiKey(r: ApiKeyRow): ApiKey {
  return {
    id: r.id,
    name: r.name,
    scopes: r.scopes,
    createdAt: r.created_at.toISOString(),
    lastUsedAt: iso(r.last_used_at),
    expiresAt: iso(r.expires_at),
    revokedAt: iso(r.revoked_at),
  };
}

const ACTIVE = 'revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)';

export class PostgresApiKeys implements ApiKeyStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  createApiKey(key: NewApiKey, maxActive: number): Promise<boolean> {
    return inTransaction(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [CREATE_LOCK_KEY]);
      const { rows } = await c.query<{ n: string }>(`SELECT count(*) AS n FROM api_keys WHERE ${ACTIVE}`, [
        key.createdAt,
      ]);
      if (Number(rows[0]?.n ?? 0) >= maxActive) return false;
      await c.query(
        `INSERT INTO api_keys (id, name, scopes, secret_hash, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6)`,
        [key.id, key.name, key.scopes, key.secretHash, key.createdAt, key.expiresAt],
      );
      return true;
    });
  }

  async apiKey(id: string): Promise<ApiKey | null> {
    return (await this.apiKeyWithHash(id))?.key ?? null;
  }

  async apiKeyWithHash(id: string): Promise<{ key: ApiKey; secretHash: string } | null> {
    const { rows } = await this.pool.query<ApiKeyRow>('SELECT * FROM api_keys WHERE id = $1', [id]);
    const row = rows[0];
    return row ? { key: toApiKey(row), secretHash: row.secret_hash } : null;
  }

  async apiKeys(q: { start: number; limit: number }): Promise<ApiKey[]> {
    const { rows } = await this.pool.query<ApiKeyRow>(
      'SELECT * FROM api_keys ORDER BY created_at DESC, id LIMIT $1 OFFSET $2',
      [q.limit, q.start],
    );
    return rows.map(toApiKey);
  }

  async countActiveApiKeys(now: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM api_keys WHERE ${ACTIVE}`,
      [now],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Like every commit of a Mailroom session, durable (see DURABLE_SESSION): a crash does not undo it. */
  async revokeApiKey(id: string, at: string): Promise<ApiKey | null> {
    const { rows } = await this.pool.query<ApiKeyRow>(
      'UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING *',
      [id, at],
    );
    return rows[0] ? toApiKey(rows[0]) : null;
  }

  async touchApiKey(id: string, at: string, since: string): Promise<void> {
    await this.pool.query(
      'UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)',
      [id, at, since],
    );
  }
}
