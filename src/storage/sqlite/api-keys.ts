// SQLite side of the API key port: reads on the calling thread's read-only connection, writes
// through the writer thread (api-key-ops.ts).
import type { DatabaseSync } from 'node:sqlite';
import type { ApiKey, NewApiKey } from '../../domain/api-key.ts';
import type { ApiKeyStore } from '../ports.ts';
import { type ApiKeyRow, apiKeyById, toApiKey } from './api-key-sql.ts';
import { stmt } from './statements.ts';
import type { SqliteWriter } from './writer.ts';

export class SqliteApiKeys implements ApiKeyStore {
  private readonly db: DatabaseSync;
  private readonly writer: SqliteWriter;

  constructor(db: DatabaseSync, writer: SqliteWriter) {
    this.db = db;
    this.writer = writer;
  }

  createApiKey(key: NewApiKey, maxActive: number): Promise<boolean> {
    return this.writer.run('createApiKey', { key, maxActive });
  }

  async apiKey(id: string): Promise<ApiKey | null> {
    return apiKeyById(this.db, id)?.key ?? null;
  }

  async apiKeyWithHash(id: string): Promise<{ key: ApiKey; secretHash: string } | null> {
    return apiKeyById(this.db, id);
  }

  async apiKeys(q: { start: number; limit: number }): Promise<ApiKey[]> {
    const rows = stmt(this.db, 'SELECT * FROM api_keys ORDER BY created_at DESC, id LIMIT ? OFFSET ?').all(
      q.limit,
      q.start,
    ) as unknown as ApiKeyRow[];
    return rows.map(toApiKey);
  }

  async countActiveApiKeys(now: string): Promise<number> {
    const { n } = stmt(
      this.db,
      'SELECT count(*) AS n FROM api_keys WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)',
    ).get(now) as { n: number };
    return n;
  }

  revokeApiKey(id: string, at: string): Promise<ApiKey | null> {
    return this.writer.run('revokeApiKey', { id, at });
  }

  async touchApiKey(id: string, at: string, since: string): Promise<void> {
    await this.writer.run('touchApiKey', { id, at, since });
  }
}
