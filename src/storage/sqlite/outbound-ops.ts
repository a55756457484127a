// Writes of the outbound queue, run in the SQLite writer thread (one transaction per batch, a
// savepoint per op). SQLite has one writer, so a claim needs no row locks: no other claim can
// run between its SELECT and its UPDATE.
import type { DatabaseSync } from 'node:sqlite';
import {
  ACTION_EVENTS,
  afterAction,
  type DeliveryRecord,
  groupByDomain,
  type QueueAction,
  type Suppression,
} from '../../domain/delivery.ts';
import { newMessageId } from '../../domain/ids.ts';
import type { MessageTemplate } from '../../domain/template.ts';
import type {
  AttemptRecord,
  ClaimedDelivery,
  ClaimRequest,
  EnqueueResult,
  LateEvent,
  NewOutbound,
} from '../ports.ts';

/** No per-domain limit: more than any queue holds. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;

import {
  DELIVERY_COLUMNS,
  DELIVERY_FROM,
  type DeliveryRow,
  deliveryById,
  suppressedAmong,
  withRecipients,
} from './outbound-sql.ts';
import { stmt } from './statements.ts';

interface ClaimExtras {
  mail_from: string;
  queued_at: string;
  source: ClaimedDelivery['source'];
  client_ip: string;
  auth_user: string | null;
  raw: Uint8Array | null;
}

function addEvent(
  db: DatabaseSync,
  e: { at: string; type: string; outboundSeq: number; deliverySeq: number | null; data: object },
): void {
  stmt(
    db,
    'INSERT INTO outbound_events (id, at, type, outbound_seq, delivery_seq, data) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(newMessageId(), e.at, e.type, e.outboundSeq, e.deliverySeq, JSON.stringify(e.data));
}

/** The earlier request under this key, if the key is still remembered. */
function idempotencyOutcome(db: DatabaseSync, m: NewOutbound): EnqueueResult | null {
  if (!m.idempotency) return null;
  const prev = stmt(
    db,
    'SELECT request_hash, outbound_id FROM idempotency_keys WHERE key = ? AND expires_at > ?',
  ).get(m.idempotency.key, m.queuedAt) as { request_hash: string; outbound_id: string } | undefined;
  if (!prev) return null;
  return {
    outcome: prev.request_hash === m.idempotency.requestHash ? 'replayed' : 'conflict',
    id: prev.outbound_id,
  };
}

function insertDeliveries(db: DatabaseSync, m: NewOutbound, outboundSeq: number): void {
  const insertDelivery = stmt(
    db,
    `INSERT INTO deliveries (id, outbound_seq, domain, state, next_attempt_at, expires_at, created_at, updated_at)
     VALUES (?, ?, ?, 'queued', ?, ?, ?, ?) RETURNING seq`,
  );
  const insertRecipient = stmt(db, 'INSERT INTO delivery_recipients (delivery_seq, address) VALUES (?, ?)');
  for (const [domain, rcpts] of groupByDomain(m.rcptTo)) {
    const { seq } = insertDelivery.get(
      newMessageId(),
      outboundSeq,
      domain,
      m.sendAt,
      m.expiresAt,
      m.queuedAt,
      m.queuedAt,
    ) as { seq: number };
    for (const rcpt of rcpts) insertRecipient.run(seq, rcpt);
  }
}

export const outboundOps = {
  enqueueOutbound(db: DatabaseSync, m: NewOutbound): EnqueueResult {
    const seen = idempotencyOutcome(db, m);
    if (seen) return seen;
    if (m.idempotency) {
      stmt(
        db,
        'INSERT OR REPLACE INTO idempotency_keys (key, request_hash, outbound_id, expires_at) VALUES (?, ?, ?, ?)',
      ).run(m.idempotency.key, m.idempotency.requestHash, m.id, m.idempotency.expiresAt);
    }
    const { seq } = stmt(
      db,
      `INSERT INTO outbound (id, mail_from, rcpt_to, header_message_id, size, source, client_ip, auth_user, tags,
         metadata, queued_at, send_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
    ).get(
      m.id,
      m.mailFrom,
      JSON.stringify(m.rcptTo),
      m.headerMessageId,
      m.raw.byteLength,
      m.source,
      m.client.ip,
      m.client.authUser,
      JSON.stringify(m.tags),
      JSON.stringify(m.metadata),
      m.queuedAt,
      m.sendAt,
    ) as { seq: number };
    stmt(db, 'INSERT INTO outbound_raw (seq, raw) VALUES (?, ?)').run(seq, m.raw);
    insertDeliveries(db, m, seq);
    addEvent(db, {
      at: m.queuedAt,
      type: 'message:queued',
      outboundSeq: seq,
      deliverySeq: null,
      data: { recipients: m.rcptTo.length, sendAt: m.sendAt },
    });
    return { outcome: 'queued', id: m.id };
  },

  claimDeliveries(db: DatabaseSync, req: ClaimRequest): ClaimedDelivery[] {
    const leaseEnd = new Date(Date.parse(req.now) + req.leaseMs).toISOString();
    const minuteAgo = new Date(Date.parse(req.now) - 60_000).toISOString();
    const { concurrency, perMinute } = req.perDomain ?? { concurrency: UNLIMITED, perMinute: UNLIMITED };
    // Domains at a limit are passed over first; then the earliest due deliveries of the others (a
    // window of four times the limit, read in the due index's order) are ranked within their
    // domain, and a domain gets as many as its free places. A domain that fills the window takes
    // its free places and is then at its limit, so the next claim passes over it. Counting the
    // attempts of the last minute reads each of them, so it is left out when no per-minute limit is set.
    const claimed = stmt(
      db,
      `WITH busy AS (SELECT domain, count(*) AS n FROM deliveries WHERE state = 'sending' GROUP BY domain),
       recent AS (SELECT domain, count(*) AS n FROM deliveries WHERE ? AND claimed_at > ? GROUP BY domain),
       full AS (SELECT domain FROM busy WHERE n >= ? UNION SELECT domain FROM recent WHERE n >= ?),
       cand AS (
         SELECT seq, domain, next_attempt_at FROM deliveries INDEXED BY deliveries_due
         WHERE state IN ('queued', 'deferred') AND next_attempt_at <= ? AND domain NOT IN (SELECT domain FROM full)
         ORDER BY next_attempt_at, seq LIMIT ? * 4),
       ranked AS (
         SELECT seq, domain, next_attempt_at,
                row_number() OVER (PARTITION BY domain ORDER BY next_attempt_at, seq) AS rn
         FROM cand)
       UPDATE deliveries SET state = 'sending', lease_owner = ?, lease_expires_at = ?,
         attempts = attempts + 1, claimed_at = ?, updated_at = ?
       WHERE seq IN (
         SELECT r.seq FROM ranked r
         LEFT JOIN busy b ON b.domain = r.domain
         LEFT JOIN recent q ON q.domain = r.domain
         WHERE r.rn <= ? - coalesce(b.n, 0) AND r.rn <= ? - coalesce(q.n, 0)
         ORDER BY r.next_attempt_at, r.seq LIMIT ?)
       RETURNING seq`,
    ).all(
      perMinute < UNLIMITED ? 1 : 0,
      minuteAgo,
      concurrency,
      perMinute,
      req.now,
      req.limit,
      req.owner,
      leaseEnd,
      req.now,
      req.now,
      concurrency,
      perMinute,
      req.limit,
    ) as { seq: number }[];
    if (claimed.length === 0) return [];
    const rows = stmt(
      db,
      `SELECT ${DELIVERY_COLUMNS}, o.mail_from, o.queued_at, o.source, o.client_ip, o.auth_user,
         CASE WHEN o.size <= ? THEN (SELECT raw FROM outbound_raw WHERE seq = o.seq) END AS raw
       FROM ${DELIVERY_FROM}
       WHERE d.seq IN (SELECT value FROM json_each(?)) ORDER BY d.next_attempt_at, d.seq`,
    ).all(req.rawUpTo ?? -1, JSON.stringify(claimed.map((c) => c.seq))) as unknown as (DeliveryRow &
      ClaimExtras)[];
    const records = withRecipients(db, rows);
    return records.map((delivery, i) => {
      const row = rows[i]!;
      const addresses = delivery.recipients.map((r) => r.address);
      return {
        delivery,
        suppressed: suppressedAmong(db, addresses, req.now),
        mailFrom: row.mail_from,
        queuedAt: row.queued_at,
        source: row.source,
        client: { ip: row.client_ip, authUser: row.auth_user },
        ...(row.raw ? { raw: row.raw } : {}),
      };
    });
  },

  recordAttempt(db: DatabaseSync, r: AttemptRecord): boolean {
    const held = stmt(
      db,
      "SELECT seq, outbound_seq FROM deliveries WHERE id = ? AND state = 'sending' AND lease_owner = ?",
    ).get(r.deliveryId, r.owner) as { seq: number; outbound_seq: number } | undefined;
    if (!held) return false;
    const setRecipient = stmt(
      db,
      'UPDATE delivery_recipients SET state = ?, reply = ? WHERE delivery_seq = ? AND address = ?',
    );
    for (const res of r.results) setRecipient.run(res.outcome, res.reply, held.seq, res.address);
    stmt(
      db,
      `UPDATE deliveries SET state = ?, next_attempt_at = coalesce(?, next_attempt_at), last_reply = ?,
         lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
       WHERE seq = ?`,
    ).run(r.state, r.nextAttemptAt ?? null, r.reply, r.now, held.seq);
    for (const e of r.events) {
      addEvent(db, {
        at: r.now,
        type: e.type,
        outboundSeq: held.outbound_seq,
        deliverySeq: held.seq,
        data: e.data,
      });
    }
    return true;
  },

  reapLeases(db: DatabaseSync, now: string): number {
    const reaped = stmt(
      db,
      `UPDATE deliveries SET state = 'deferred', next_attempt_at = ?, lease_owner = NULL, lease_expires_at = NULL,
         last_reply = 'the worker lost its lease before recording the attempt', updated_at = ?
       WHERE state = 'sending' AND lease_expires_at <= ?
       RETURNING seq, outbound_seq`,
    ).all(now, now, now) as { seq: number; outbound_seq: number }[];
    for (const d of reaped) {
      addEvent(db, {
        at: now,
        type: 'delivery:deferred',
        outboundSeq: d.outbound_seq,
        deliverySeq: d.seq,
        data: { reason: 'lease expired' },
      });
    }
    return reaped.length;
  },

  controlDelivery(
    db: DatabaseSync,
    req: { id: string; action: QueueAction; now: string },
  ): DeliveryRecord | null | false {
    const row = stmt(db, 'SELECT seq, outbound_seq, state FROM deliveries WHERE id = ?').get(req.id) as
      | { seq: number; outbound_seq: number; state: DeliveryRecord['state'] }
      | undefined;
    if (!row) return null;
    const next = afterAction(row.state, req.action);
    if (next === null) return false;
    const dueNow = req.action === 'release' || req.action === 'retry';
    stmt(
      db,
      `UPDATE deliveries SET state = ?, next_attempt_at = CASE WHEN ? THEN ? ELSE next_attempt_at END, updated_at = ?
       WHERE seq = ?`,
    ).run(next, dueNow ? 1 : 0, req.now, req.now, row.seq);
    addEvent(db, {
      at: req.now,
      type: ACTION_EVENTS[req.action],
      outboundSeq: row.outbound_seq,
      deliverySeq: row.seq,
      data: { from: row.state, to: next },
    });
    return deliveryById(db, req.id);
  },

  addEvents(db: DatabaseSync, req: { outboundId: string; events: readonly LateEvent[] }): number {
    const message = stmt(db, 'SELECT seq FROM outbound WHERE id = ?').get(req.outboundId) as
      | { seq: number }
      | undefined;
    if (!message) return 0;
    const delivery = stmt(db, 'SELECT seq FROM deliveries WHERE id = ? AND outbound_seq = ?');
    const insert = stmt(
      db,
      `INSERT INTO outbound_events (id, at, type, outbound_seq, delivery_seq, data) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
    );
    let added = 0;
    for (const e of req.events) {
      const d = e.deliveryId
        ? (delivery.get(e.deliveryId, message.seq) as { seq: number } | undefined)
        : undefined;
      added += Number(
        insert.run(e.id, e.at, e.type, message.seq, d?.seq ?? null, JSON.stringify(e.data)).changes,
      );
    }
    return added;
  },

  suppress(db: DatabaseSync, e: Suppression): void {
    stmt(
      db,
      `INSERT INTO suppressions (address, reason, detail, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (address) DO UPDATE SET reason = excluded.reason, detail = excluded.detail,
         created_at = excluded.created_at, expires_at = excluded.expires_at`,
    ).run(e.address.toLowerCase(), e.reason, e.detail, e.createdAt, e.expiresAt);
  },

  unsuppress(db: DatabaseSync, address: string): boolean {
    return (
      Number(stmt(db, 'DELETE FROM suppressions WHERE address = ?').run(address.toLowerCase()).changes) > 0
    );
  },

  saveTemplate(db: DatabaseSync, t: MessageTemplate): void {
    stmt(
      db,
      `INSERT INTO templates (name, subject, text_body, html_body, engine, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET subject = excluded.subject, text_body = excluded.text_body,
         html_body = excluded.html_body, engine = excluded.engine, updated_at = excluded.updated_at`,
    ).run(t.name, t.subject, t.text, t.html, t.engine ?? 'handlebars', t.updatedAt);
  },

  deleteTemplate(db: DatabaseSync, name: string): boolean {
    return Number(stmt(db, 'DELETE FROM templates WHERE name = ?').run(name).changes) > 0;
  },

  pruneIdempotencyKeys(db: DatabaseSync, now: string): number {
    return Number(stmt(db, 'DELETE FROM idempotency_keys WHERE expires_at <= ?').run(now).changes);
  },
} as const;
