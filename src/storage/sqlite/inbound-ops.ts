// Writes of the inbound pipeline, run in the SQLite writer thread. SQLite has one writer, so the
// cursor's lease check and its move, or a job's claim and its update, cannot be split.
import type { DatabaseSync } from 'node:sqlite';
import type {
  ActionAttempt,
  ActionJob,
  InboundEventInput,
  RoutingCandidate,
  RoutingCommit,
} from '../inbound-ports.ts';
import { type ActionJobRow, actionJobById, toActionJob } from './inbound-sql.ts';
import { stmt } from './statements.ts';

function addEvents(db: DatabaseSync, events: readonly InboundEventInput[], now: string): void {
  const insert = stmt(
    db,
    `INSERT INTO inbound_events (id, at, type, message_id, route_id, data) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO NOTHING`,
  );
  for (const e of events) insert.run(e.id, now, e.type, e.messageId, e.routeId, JSON.stringify(e.data));
}

/** True when `owner` holds the routing lease at `now`. */
function holdsRouting(db: DatabaseSync, owner: string, now: string): boolean {
  const row = stmt(
    db,
    "SELECT lease_owner, lease_expires_at FROM pipeline_cursors WHERE name = 'routing'",
  ).get() as { lease_owner: string | null; lease_expires_at: string | null } | undefined;
  return row?.lease_owner === owner && (row.lease_expires_at ?? '') > now;
}

export const inboundOps = {
  takeRouting(
    db: DatabaseSync,
    req: { owner: string; now: string; leaseMs: number; limit: number },
  ): RoutingCandidate[] | null {
    const leaseEnd = new Date(Date.parse(req.now) + req.leaseMs).toISOString();
    const taken = stmt(
      db,
      `UPDATE pipeline_cursors SET lease_owner = ?, lease_expires_at = ?
       WHERE name = 'routing' AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires_at <= ?)
       RETURNING seq`,
    ).get(req.owner, leaseEnd, req.owner, req.now) as { seq: number } | undefined;
    if (!taken) return null;
    const rows = stmt(
      db,
      `SELECT id, seq, json_extract(envelope, '$.listener') AS listener, parse_state,
         json_extract(envelope, '$.rcptTo') AS rcpt_to
       FROM messages WHERE seq > ? ORDER BY seq LIMIT ?`,
    ).all(taken.seq, req.limit) as {
      id: string;
      seq: number;
      listener: string;
      parse_state: string;
      rcpt_to: string | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      seq: r.seq,
      listener: r.listener as RoutingCandidate['listener'],
      parseState: r.parse_state as RoutingCandidate['parseState'],
      rcptTo: r.rcpt_to ? (JSON.parse(r.rcpt_to) as string[]) : [],
    }));
  },

  commitRouting(db: DatabaseSync, c: RoutingCommit): boolean {
    if (!holdsRouting(db, c.owner, c.now)) return false;
    addEvents(db, c.events, c.now);
    const insert = stmt(
      db,
      `INSERT INTO action_jobs (id, message_id, route_id, action_index, action, captures, recipient, state,
         next_attempt_at, expires_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    );
    for (const j of c.jobs) {
      insert.run(
        j.id,
        j.messageId,
        j.routeId,
        j.actionIndex,
        JSON.stringify(j.action),
        JSON.stringify(j.captures),
        j.recipient,
        j.dueAt,
        j.expiresAt,
        c.now,
        c.now,
      );
    }
    stmt(db, "UPDATE pipeline_cursors SET seq = max(seq, ?) WHERE name = 'routing'").run(c.throughSeq);
    return true;
  },

  claimActions(
    db: DatabaseSync,
    req: { owner: string; now: string; leaseMs: number; limit: number },
  ): ActionJob[] {
    const leaseEnd = new Date(Date.parse(req.now) + req.leaseMs).toISOString();
    const rows = stmt(
      db,
      `UPDATE action_jobs SET state = 'running', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1,
         updated_at = ?
       WHERE seq IN (SELECT seq FROM action_jobs WHERE state = 'pending' AND next_attempt_at <= ?
                     ORDER BY next_attempt_at, seq LIMIT ?)
       RETURNING *`,
    ).all(req.owner, leaseEnd, req.now, req.now, req.limit) as unknown as (ActionJobRow & { seq: number })[];
    return rows
      .sort((a, b) => a.next_attempt_at.localeCompare(b.next_attempt_at) || a.seq - b.seq)
      .map(toActionJob);
  },

  recordAction(db: DatabaseSync, a: ActionAttempt): boolean {
    const done = stmt(
      db,
      `UPDATE action_jobs SET state = ?, next_attempt_at = coalesce(?, next_attempt_at), last_error = ?,
         lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
       WHERE id = ? AND state = 'running' AND lease_owner = ?`,
    ).run(a.state, a.nextAttemptAt ?? null, a.error, a.now, a.id, a.owner);
    if (done.changes === 0) return false;
    addEvents(db, a.events, a.now);
    return true;
  },

  reapActions(db: DatabaseSync, args: { now: string }): number {
    return stmt(
      db,
      `UPDATE action_jobs SET state = 'pending', next_attempt_at = ?, lease_owner = NULL, lease_expires_at = NULL,
         last_error = 'the worker lost its lease before recording the attempt', updated_at = ?
       WHERE state = 'running' AND lease_expires_at <= ?`,
    ).run(args.now, args.now, args.now).changes as number;
  },

  replayAction(
    db: DatabaseSync,
    args: { id: string; now: string; expiresAt: string },
  ): ActionJob | null | false {
    const job = actionJobById(db, args.id);
    if (!job) return null;
    if (job.state === 'running') return false;
    stmt(
      db,
      `UPDATE action_jobs SET state = 'pending', next_attempt_at = ?, expires_at = ?, updated_at = ? WHERE id = ?`,
    ).run(args.now, args.expiresAt, args.now, args.id);
    return actionJobById(db, args.id);
  },

  addInboundEvents(db: DatabaseSync, args: { events: readonly InboundEventInput[]; now: string }): void {
    addEvents(db, args.events, args.now);
  },
} as const;
