// PostgreSQL side of the inbound pipeline port. The routing cursor is one row whose lease lets one
// node route at a time; action jobs are claimed with FOR UPDATE SKIP LOCKED, like deliveries.
import type pg from 'pg';
import type { SpoolEntry } from '../../domain/message.ts';
import type { RouteAction } from '../../domain/route.ts';
import type {
  ActionAttempt,
  ActionJob,
  ActionJobState,
  AutoReplyClaim,
  InboundEvent,
  InboundEventInput,
  InboundStore,
  RoutingCandidate,
  RoutingCommit,
  WebhookEndpoint,
  WebhookOutcome,
} from '../inbound-ports.ts';
import * as intake from './intake.ts';
import { inTransaction } from './transaction.ts';

type Db = pg.Pool | pg.PoolClient;
type Lease = { owner: string; now: string; leaseMs: number; limit: number };

interface ActionJobRow {
  id: string;
  message_id: string;
  route_id: string;
  action_index: number;
  action: RouteAction;
  captures: Record<string, string>;
  recipient: string | null;
  state: ActionJobState;
  attempts: number;
  next_attempt_at: Date;
  expires_at: Date;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
}

function toActionJob(r: ActionJobRow): ActionJob {
  return {
    id: r.id,
    messageId: r.message_id,
    routeId: r.route_id,
    actionIndex: r.action_index,
    action: r.action,
    captures: r.captures,
    recipient: r.recipient,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at.toISOString(),
    expiresAt: r.expires_at.toISOString(),
    lastError: r.last_error,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

async function addEvents(db: Db, events: readonly InboundEventInput[], now: string): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `INSERT INTO inbound_events (id, at, type, message_id, route_id, data)
     SELECT e.id, $1, e.type, e.message_id, e.route_id, e.data::jsonb
     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY
       AS e(id, type, message_id, route_id, data, n)
     ORDER BY e.n
     ON CONFLICT (id) DO NOTHING`,
    [
      now,
      events.map((e) => e.id),
      events.map((e) => e.type),
      events.map((e) => e.messageId),
      events.map((e) => e.routeId),
      events.map((e) => JSON.stringify(e.data)),
    ],
  );
}

export class PostgresInbound implements InboundStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  async takeRouting(req: Lease): Promise<RoutingCandidate[] | null> {
    const leaseEnd = new Date(Date.parse(req.now) + req.leaseMs).toISOString();
    const { rows: taken } = await this.pool.query<{ seq: string }>(
      `UPDATE pipeline_cursors SET lease_owner = $1, lease_expires_at = $2
       WHERE name = 'routing' AND (lease_owner IS NULL OR lease_owner = $1 OR lease_expires_at <= $3)
       RETURNING seq`,
      [req.owner, leaseEnd, req.now],
    );
    if (!taken[0]) return null;
    const { rows } = await this.pool.query<{
      id: string;
      seq: string;
      listener: string;
      parse_state: string;
      rcpt_to: string[] | null;
    }>(
      `SELECT id, seq, envelope->>'listener' AS listener, parse_state, envelope->'rcptTo' AS rcpt_to FROM messages
       WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [taken[0].seq, req.limit],
    );
    return rows.map((r) => ({
      id: r.id,
      seq: Number(r.seq),
      listener: r.listener as RoutingCandidate['listener'],
      parseState: r.parse_state as RoutingCandidate['parseState'],
      rcptTo: r.rcpt_to ?? [],
    }));
  }

  commitRouting(c: RoutingCommit): Promise<boolean> {
    return inTransaction(this.pool, async (db) => {
      const { rows } = await db.query(
        `SELECT 1 FROM pipeline_cursors WHERE name = 'routing' AND lease_owner = $1 AND lease_expires_at > $2
         FOR UPDATE`,
        [c.owner, c.now],
      );
      if (rows.length === 0) return false;
      await addEvents(db, c.events, c.now);
      if (c.jobs.length > 0) {
        await db.query(
          `INSERT INTO action_jobs (id, message_id, route_id, action_index, action, captures, recipient, state,
             next_attempt_at, expires_at, created_at, updated_at)
           SELECT j.id, j.message_id, j.route_id, j.action_index, j.action::jsonb, j.captures::jsonb, j.recipient,
             'pending', j.due_at, j.expires_at, $1, $1
           FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[],
                       $9::timestamptz[], $10::timestamptz[]) WITH ORDINALITY
             AS j(id, message_id, route_id, action_index, action, captures, recipient, due_at, expires_at, n)
           ORDER BY j.n
           ON CONFLICT (id) DO NOTHING`,
          [
            c.now,
            c.jobs.map((j) => j.id),
            c.jobs.map((j) => j.messageId),
            c.jobs.map((j) => j.routeId),
            c.jobs.map((j) => j.actionIndex),
            c.jobs.map((j) => JSON.stringify(j.action)),
            c.jobs.map((j) => JSON.stringify(j.captures)),
            c.jobs.map((j) => j.recipient),
            c.jobs.map((j) => j.dueAt),
            c.jobs.map((j) => j.expiresAt),
          ],
        );
      }
      await db.query("UPDATE pipeline_cursors SET seq = greatest(seq, $1) WHERE name = 'routing'", [
        c.throughSeq,
      ]);
      return true;
    });
  }

  async claimActions(req: Lease): Promise<ActionJob[]> {
    const leaseEnd = new Date(Date.parse(req.now) + req.leaseMs).toISOString();
    const { rows } = await this.pool.query<ActionJobRow>(
      `WITH picked AS (
         SELECT seq FROM action_jobs WHERE state = 'pending' AND next_attempt_at <= $3
         ORDER BY next_attempt_at, seq LIMIT $4 FOR UPDATE SKIP LOCKED)
       UPDATE action_jobs a SET state = 'running', lease_owner = $1, lease_expires_at = $2,
         attempts = a.attempts + 1, updated_at = $3
       FROM picked WHERE a.seq = picked.seq
       RETURNING a.*`,
      [req.owner, leaseEnd, req.now, req.limit],
    );
    return rows
      .sort((a, b) => a.next_attempt_at.getTime() - b.next_attempt_at.getTime() || a.id.localeCompare(b.id))
      .map(toActionJob);
  }

  recordAction(a: ActionAttempt): Promise<boolean> {
    return inTransaction(this.pool, async (db) => {
      const { rowCount } = await db.query(
        `UPDATE action_jobs SET state = $1, next_attempt_at = coalesce($2, next_attempt_at), last_error = $3,
           lease_owner = NULL, lease_expires_at = NULL, updated_at = $4
         WHERE id = $5 AND state = 'running' AND lease_owner = $6`,
        [a.state, a.nextAttemptAt ?? null, a.error, a.now, a.id, a.owner],
      );
      if (!rowCount) return false;
      await addEvents(db, a.events, a.now);
      return true;
    });
  }

  async reapActions(now: string): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE action_jobs SET state = 'pending', next_attempt_at = $1, lease_owner = NULL, lease_expires_at = NULL,
         last_error = 'the worker lost its lease before recording the attempt', updated_at = $1
       WHERE seq IN (SELECT seq FROM action_jobs WHERE state = 'running' AND lease_expires_at <= $1
                     FOR UPDATE SKIP LOCKED)`,
      [now],
    );
    return rowCount ?? 0;
  }

  async actionJobs(q: {
    messageId?: string;
    state?: ActionJobState;
    start: number;
    limit: number;
  }): Promise<ActionJob[]> {
    const { rows } = await this.pool.query<ActionJobRow>(
      `SELECT * FROM action_jobs WHERE ($1::text IS NULL OR message_id = $1) AND ($2::text IS NULL OR state = $2)
       ORDER BY seq DESC LIMIT $3 OFFSET $4`,
      [q.messageId ?? null, q.state ?? null, q.limit, q.start],
    );
    return rows.map(toActionJob);
  }

  async actionJob(id: string): Promise<ActionJob | null> {
    const { rows } = await this.pool.query<ActionJobRow>('SELECT * FROM action_jobs WHERE id = $1', [id]);
    return rows[0] ? toActionJob(rows[0]) : null;
  }

  replayAction(id: string, now: string, expiresAt: string): Promise<ActionJob | null | false> {
    return inTransaction(this.pool, async (db) => {
      const { rows } = await db.query<{ state: ActionJobState }>(
        'SELECT state FROM action_jobs WHERE id = $1 FOR UPDATE',
        [id],
      );
      if (!rows[0]) return null;
      if (rows[0].state === 'running') return false;
      const { rows: after } = await db.query<ActionJobRow>(
        `UPDATE action_jobs SET state = 'pending', next_attempt_at = $2, expires_at = $3, updated_at = $2
         WHERE id = $1 RETURNING *`,
        [id, now, expiresAt],
      );
      return toActionJob(after[0]!);
    });
  }

  async addInboundEvents(events: readonly InboundEventInput[], now: string): Promise<void> {
    await addEvents(this.pool, events, now);
  }

  async inboundEvents(messageId: string): Promise<InboundEvent[]> {
    const { rows } = await this.pool.query<{
      seq: string;
      id: string;
      at: Date;
      type: string;
      message_id: string;
      route_id: string | null;
      data: Record<string, unknown>;
    }>('SELECT * FROM inbound_events WHERE message_id = $1 ORDER BY seq', [messageId]);
    return rows.map((r) => ({
      seq: Number(r.seq),
      id: r.id,
      at: r.at.toISOString(),
      type: r.type,
      messageId: r.message_id,
      routeId: r.route_id,
      data: r.data,
    }));
  }

  importedAmong(keys: readonly string[]): Promise<Set<string>> {
    return intake.importedAmong(this.pool, keys);
  }

  importMessage(entry: SpoolEntry, keys: readonly string[], now: string): Promise<'stored' | 'duplicate'> {
    return intake.importMessage(this.pool, entry, keys, now);
  }

  claimAutoReply(req: AutoReplyClaim): Promise<boolean> {
    return intake.claimAutoReply(this.pool, req);
  }

  recordWebhookOutcome(o: WebhookOutcome): Promise<{ endpoint: WebhookEndpoint; disabledNow: boolean }> {
    return intake.recordWebhookOutcome(this.pool, o);
  }

  webhookEndpoint(url: string): Promise<WebhookEndpoint | null> {
    return intake.webhookEndpoint(this.pool, url);
  }

  webhookEndpoints(): Promise<WebhookEndpoint[]> {
    return intake.webhookEndpoints(this.pool);
  }

  enableWebhookEndpoint(url: string, now: string): Promise<WebhookEndpoint | null> {
    return intake.enableWebhookEndpoint(this.pool, url, now);
  }
}
