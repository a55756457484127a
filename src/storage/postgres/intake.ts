// PostgreSQL side of polled imports, automatic-reply periods and webhook endpoint health. Import
// keys are inserted first: a second node importing the same message at the same moment waits on
// the key's unique index, then sees the key taken and stores nothing.
import type pg from 'pg';
import type { SpoolEntry } from '../../domain/message.ts';
import type { AutoReplyClaim, WebhookEndpoint, WebhookOutcome } from '../inbound-ports.ts';
import { SPOOL_CHANNEL } from './spool-commit.ts';
import { inTransaction } from './transaction.ts';
import { insertSpool } from './write-ops.ts';

interface WebhookEndpointRow {
  url: string;
  consecutive_failures: number;
  disabled_at: Date | null;
  last_error: string | null;
  last_success_at: Date | null;
  updated_at: Date;
}

function toEndpoint(r: WebhookEndpointRow): WebhookEndpoint {
  return {
    url: r.url,
    consecutiveFailures: r.consecutive_failures,
    disabledAt: r.disabled_at?.toISOString() ?? null,
    lastError: r.last_error,
    lastSuccessAt: r.last_success_at?.toISOString() ?? null,
    updatedAt: r.updated_at.toISOString(),
  };
}

export async function importedAmong(pool: pg.Pool, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await pool.query<{ key: string }>(
    'SELECT key FROM import_keys WHERE key = ANY($1::text[])',
    [keys],
  );
  return new Set(rows.map((r) => r.key));
}

export function importMessage(
  pool: pg.Pool,
  entry: SpoolEntry,
  keys: readonly string[],
  now: string,
): Promise<'stored' | 'duplicate'> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ key: string }>(
      `INSERT INTO import_keys (key, message_id, imported_at) SELECT k, $2, $3 FROM unnest($1::text[]) AS k
       ON CONFLICT (key) DO NOTHING RETURNING key`,
      [keys, entry.id, now],
    );
    if (rows.length < new Set(keys).size) {
      // Known by another key: the keys new to us point at the message imported before.
      await client.query(
        `UPDATE import_keys SET message_id = (
           SELECT message_id FROM import_keys WHERE key = ANY($1::text[]) AND NOT key = ANY($2::text[])
           ORDER BY imported_at LIMIT 1)
         WHERE key = ANY($2::text[])`,
        [keys, rows.map((r) => r.key)],
      );
      return 'duplicate';
    }
    await insertSpool(client, [entry]);
    await client.query(`NOTIFY ${SPOOL_CHANNEL}`);
    return 'stored';
  });
}

export async function claimAutoReply(pool: pg.Pool, r: AutoReplyClaim): Promise<boolean> {
  // One statement: the row is taken (inserted or moved to this job) only when the period is over
  // or the row is this job's; concurrent claims serialize on the row.
  const { rowCount } = await pool.query(
    `INSERT INTO auto_replies (scope, sender, job_id, replied_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (scope, sender) DO UPDATE SET job_id = excluded.job_id,
       replied_at = CASE WHEN auto_replies.job_id = excluded.job_id THEN auto_replies.replied_at ELSE excluded.replied_at END
     WHERE auto_replies.job_id = excluded.job_id
        OR auto_replies.replied_at <= excluded.replied_at - make_interval(secs => $5::double precision / 1000)`,
    [r.scope, r.sender.toLowerCase(), r.jobId, r.now, r.periodMs],
  );
  return rowCount === 1;
}

export async function recordWebhookOutcome(
  pool: pg.Pool,
  o: WebhookOutcome,
): Promise<{ endpoint: WebhookEndpoint; disabledNow: boolean }> {
  if (o.ok) {
    const { rows } = await pool.query<WebhookEndpointRow>(
      `INSERT INTO webhook_endpoints (url, consecutive_failures, last_success_at, updated_at) VALUES ($1, 0, $2, $2)
       ON CONFLICT (url) DO UPDATE SET consecutive_failures = 0, last_success_at = $2, updated_at = $2
       RETURNING *`,
      [o.url, o.now],
    );
    return { endpoint: toEndpoint(rows[0]!), disabledNow: false };
  }
  const { rows } = await pool.query<WebhookEndpointRow & { was_disabled: boolean }>(
    `WITH before AS (SELECT disabled_at FROM webhook_endpoints WHERE url = $1)
     INSERT INTO webhook_endpoints AS w (url, consecutive_failures, last_error, updated_at, disabled_at)
     VALUES ($1, 1, $2, $3, CASE WHEN $4::int > 0 AND 1 >= $4::int THEN $3::timestamptz END)
     ON CONFLICT (url) DO UPDATE SET
       consecutive_failures = w.consecutive_failures + 1,
       last_error = $2,
       updated_at = $3,
       disabled_at = coalesce(w.disabled_at,
         CASE WHEN $4::int > 0 AND w.consecutive_failures + 1 >= $4::int THEN $3::timestamptz END)
     RETURNING w.*, (SELECT disabled_at IS NOT NULL FROM before) AS was_disabled`,
    [o.url, o.error, o.now, o.disableAfter],
  );
  const row = rows[0]!;
  return { endpoint: toEndpoint(row), disabledNow: row.disabled_at !== null && row.was_disabled !== true };
}

export async function webhookEndpoint(pool: pg.Pool, url: string): Promise<WebhookEndpoint | null> {
  const { rows } = await pool.query<WebhookEndpointRow>('SELECT * FROM webhook_endpoints WHERE url = $1', [
    url,
  ]);
  return rows[0] ? toEndpoint(rows[0]) : null;
}

export async function webhookEndpoints(pool: pg.Pool): Promise<WebhookEndpoint[]> {
  const { rows } = await pool.query<WebhookEndpointRow>(
    'SELECT * FROM webhook_endpoints ORDER BY disabled_at IS NULL, url COLLATE "C"',
  );
  return rows.map(toEndpoint);
}

export async function enableWebhookEndpoint(
  pool: pg.Pool,
  url: string,
  now: string,
): Promise<WebhookEndpoint | null> {
  const { rows } = await pool.query<WebhookEndpointRow>(
    `UPDATE webhook_endpoints SET disabled_at = NULL, consecutive_failures = 0, updated_at = $2
     WHERE url = $1 RETURNING *`,
    [url, now],
  );
  return rows[0] ? toEndpoint(rows[0]) : null;
}
