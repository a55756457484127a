// Writes in the SQLite writer thread for polled imports, automatic-reply periods and webhook
// endpoint health. One writer means each check and its write cannot be split by another node.
import type { DatabaseSync } from 'node:sqlite';
import type { SpoolEntry } from '../../domain/message.ts';
import type { AutoReplyClaim, WebhookEndpoint, WebhookOutcome } from '../inbound-ports.ts';
import { stmt } from './statements.ts';

export interface WebhookEndpointRow {
  url: string;
  consecutive_failures: number;
  disabled_at: string | null;
  last_error: string | null;
  last_success_at: string | null;
  updated_at: string;
}

export function toWebhookEndpoint(r: WebhookEndpointRow): WebhookEndpoint {
  return {
    url: r.url,
    consecutiveFailures: r.consecutive_failures,
    disabledAt: r.disabled_at,
    lastError: r.last_error,
    lastSuccessAt: r.last_success_at,
    updatedAt: r.updated_at,
  };
}

export function knownImportKeys(
  db: DatabaseSync,
  keys: readonly string[],
): { key: string; message_id: string }[] {
  if (keys.length === 0) return [];
  return stmt(
    db,
    'SELECT key, message_id FROM import_keys WHERE key IN (SELECT value FROM json_each(?)) ORDER BY imported_at',
  ).all(JSON.stringify(keys)) as { key: string; message_id: string }[];
}

export const intakeOps = {
  importMessage(
    db: DatabaseSync,
    a: { entry: SpoolEntry; keys: readonly string[]; now: string },
    appendSpool: (db: DatabaseSync, entries: SpoolEntry[]) => number,
  ): 'stored' | 'duplicate' {
    const known = knownImportKeys(db, a.keys);
    const insert = stmt(
      db,
      'INSERT INTO import_keys (key, message_id, imported_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING',
    );
    const owner = known[0]?.message_id ?? a.entry.id;
    for (const key of a.keys) insert.run(key, owner, a.now);
    if (known.length > 0) return 'duplicate';
    appendSpool(db, [a.entry]);
    return 'stored';
  },

  claimAutoReply(db: DatabaseSync, r: AutoReplyClaim): boolean {
    const since = new Date(Date.parse(r.now) - r.periodMs).toISOString();
    const sender = r.sender.toLowerCase();
    const row = stmt(db, 'SELECT job_id, replied_at FROM auto_replies WHERE scope = ? AND sender = ?').get(
      r.scope,
      sender,
    ) as { job_id: string; replied_at: string } | undefined;
    if (row && row.job_id !== r.jobId && row.replied_at > since) return false;
    if (row?.job_id === r.jobId) return true;
    stmt(
      db,
      `INSERT INTO auto_replies (scope, sender, job_id, replied_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (scope, sender) DO UPDATE SET job_id = excluded.job_id, replied_at = excluded.replied_at`,
    ).run(r.scope, sender, r.jobId, r.now);
    return true;
  },

  recordWebhookOutcome(
    db: DatabaseSync,
    o: WebhookOutcome,
  ): { endpoint: WebhookEndpoint; disabledNow: boolean } {
    const before = stmt(db, 'SELECT disabled_at FROM webhook_endpoints WHERE url = ?').get(o.url) as
      | { disabled_at: string | null }
      | undefined;
    const row = (o.ok
      ? stmt(
          db,
          `INSERT INTO webhook_endpoints (url, consecutive_failures, last_success_at, updated_at)
             VALUES (?, 0, ?, ?)
             ON CONFLICT (url) DO UPDATE SET consecutive_failures = 0, last_success_at = excluded.last_success_at,
               updated_at = excluded.updated_at
             RETURNING *`,
        ).get(o.url, o.now, o.now)
      : stmt(
          db,
          `INSERT INTO webhook_endpoints (url, consecutive_failures, last_error, updated_at, disabled_at)
             VALUES (?1, 1, ?2, ?3, CASE WHEN ?4 > 0 AND 1 >= ?4 THEN ?3 END)
             ON CONFLICT (url) DO UPDATE SET
               consecutive_failures = consecutive_failures + 1,
               last_error = excluded.last_error,
               updated_at = excluded.updated_at,
               disabled_at = coalesce(disabled_at,
                 CASE WHEN ?4 > 0 AND consecutive_failures + 1 >= ?4 THEN ?3 END)
             RETURNING *`,
        ).get(o.url, o.error, o.now, o.disableAfter)) as unknown as WebhookEndpointRow;
    const endpoint = toWebhookEndpoint(row);
    return { endpoint, disabledNow: endpoint.disabledAt !== null && !before?.disabled_at };
  },

  enableWebhookEndpoint(db: DatabaseSync, a: { url: string; now: string }): WebhookEndpoint | null {
    const row = stmt(
      db,
      `UPDATE webhook_endpoints SET disabled_at = NULL, consecutive_failures = 0, updated_at = ?
       WHERE url = ? RETURNING *`,
    ).get(a.now, a.url) as WebhookEndpointRow | undefined;
    return row ? toWebhookEndpoint(row) : null;
  },
};
