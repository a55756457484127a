// PostgreSQL side of the outbound queue port. Several nodes claim from one queue: a claim locks
// the due rows it takes and skips rows another claim holds (FOR UPDATE SKIP LOCKED), so each
// delivery goes to one worker; a lease that runs out returns it to the queue (reapLeases).
import type pg from 'pg';
import {
  ACTION_EVENTS,
  afterAction,
  type DeliveryRecord,
  type DeliveryState,
  groupByDomain,
  type QueueAction,
  type RecipientStatus,
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
  OutboundEvent,
  OutboundStore,
  OutboundView,
} from '../ports.ts';
import { inTransaction } from './transaction.ts';

type Db = pg.Pool | pg.PoolClient;

/** No per-domain limit: more than any queue holds. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;

interface DeliveryRow {
  seq: string;
  id: string;
  outbound_id: string;
  domain: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: Date;
  expires_at: Date;
  last_reply: string | null;
  created_at: Date;
  updated_at: Date;
}

interface ClaimExtras {
  mail_from: string;
  queued_at: Date;
  source: ClaimedDelivery['source'];
  client_ip: string;
  auth_user: string | null;
  raw: Buffer | null;
}

const DELIVERY_SELECT = `SELECT d.seq, d.id, o.id AS outbound_id, d.domain, d.state, d.attempts, d.next_attempt_at,
  d.expires_at, d.last_reply, d.created_at, d.updated_at
  FROM deliveries d JOIN outbound o ON o.seq = d.outbound_seq`;

async function withRecipients(db: Db, rows: readonly DeliveryRow[]): Promise<DeliveryRecord[]> {
  if (rows.length === 0) return [];
  const { rows: recipients } = await db.query<RecipientStatus & { delivery_seq: string }>(
    `SELECT delivery_seq, address, state, reply FROM delivery_recipients
     WHERE delivery_seq = ANY ($1::bigint[]) ORDER BY delivery_seq, address`,
    [rows.map((r) => r.seq)],
  );
  const bySeq = new Map<string, RecipientStatus[]>();
  for (const r of recipients) {
    const list = bySeq.get(r.delivery_seq) ?? [];
    list.push({ address: r.address, state: r.state, reply: r.reply });
    bySeq.set(r.delivery_seq, list);
  }
  return rows.map((r) => toDelivery(r, bySeq.get(r.seq) ?? []));
}

function toDelivery(r: DeliveryRow, recipients: RecipientStatus[]): DeliveryRecord {
  return {
    id: r.id,
    outboundId: r.outbound_id,
    domain: r.domain,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at.toISOString(),
    expiresAt: r.expires_at.toISOString(),
    lastReply: r.last_reply,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    recipients,
  };
}

async function addEvent(
  db: Db,
  e: { at: string; type: string; outboundSeq: string; deliverySeq: string | null; data: object },
): Promise<void> {
  await db.query(
    'INSERT INTO outbound_events (id, at, type, outbound_seq, delivery_seq, data) VALUES ($1, $2, $3, $4, $5, $6)',
    [newMessageId(), e.at, e.type, e.outboundSeq, e.deliverySeq, JSON.stringify(e.data)],
  );
}

/** Claims the key for this message; the earlier request's outcome when the key is still live. */
async function claimKey(db: Db, m: NewOutbound): Promise<EnqueueResult | null> {
  if (!m.idempotency) return null;
  const { key, requestHash, expiresAt } = m.idempotency;
  // A concurrent insert of the same key waits for this one's commit, then finds it live.
  const taken = await db.query(
    `INSERT INTO idempotency_keys (key, request_hash, outbound_id, expires_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (key) DO UPDATE SET request_hash = EXCLUDED.request_hash, outbound_id = EXCLUDED.outbound_id,
       expires_at = EXCLUDED.expires_at
     WHERE idempotency_keys.expires_at <= $5
     RETURNING key`,
    [key, requestHash, m.id, expiresAt, m.queuedAt],
  );
  if (taken.rowCount) return null;
  const { rows } = await db.query<{ request_hash: string; outbound_id: string }>(
    'SELECT request_hash, outbound_id FROM idempotency_keys WHERE key = $1',
    [key],
  );
  const prev = rows[0]!;
  return { outcome: prev.request_hash === requestHash ? 'replayed' : 'conflict', id: prev.outbound_id };
}

async function insertOutbound(db: Db, m: NewOutbound): Promise<void> {
  const { rows } = await db.query<{ seq: string }>(
    `INSERT INTO outbound (id, mail_from, rcpt_to, header_message_id, size, source, client_ip, auth_user, tags,
       metadata, queued_at, send_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq`,
    [
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
    ],
  );
  const seq = rows[0]!.seq;
  await db.query('INSERT INTO outbound_raw (seq, raw) VALUES ($1, $2)', [seq, m.raw]);
  for (const [domain, rcpts] of groupByDomain(m.rcptTo)) {
    const d = await db.query<{ seq: string }>(
      `INSERT INTO deliveries (id, outbound_seq, domain, state, next_attempt_at, expires_at, created_at, updated_at)
       VALUES ($1, $2, $3, 'queued', $4, $5, $6, $6) RETURNING seq`,
      [newMessageId(), seq, domain, m.sendAt, m.expiresAt, m.queuedAt],
    );
    await db.query('INSERT INTO delivery_recipients (delivery_seq, address) SELECT $1, unnest($2::text[])', [
      d.rows[0]!.seq,
      rcpts,
    ]);
  }
  const data = { recipients: m.rcptTo.length, sendAt: m.sendAt };
  await addEvent(db, { at: m.queuedAt, type: 'message:queued', outboundSeq: seq, deliverySeq: null, data });
}

interface TemplateRow {
  name: string;
  subject: string;
  text_body: string;
  html_body: string;
  updated_at: Date;
  engine: NonNullable<MessageTemplate['engine']>;
}

function toTemplate(r: TemplateRow): MessageTemplate {
  return {
    name: r.name,
    subject: r.subject,
    text: r.text_body,
    html: r.html_body,
    engine: r.engine,
    updatedAt: r.updated_at.toISOString(),
  };
}

interface SuppressionRow {
  address: string;
  reason: Suppression['reason'];
  detail: string | null;
  created_at: Date;
  expires_at: Date | null;
}

/** A suppressions row as json_agg gives it: timestamps as text. */
type SuppressionJson = Omit<SuppressionRow, 'created_at' | 'expires_at'> & {
  created_at: string;
  expires_at: string | null;
};

function jsonDates(x: SuppressionJson): Pick<SuppressionRow, 'created_at' | 'expires_at'> {
  return {
    created_at: new Date(x.created_at),
    expires_at: x.expires_at === null ? null : new Date(x.expires_at),
  };
}

const ASCII = /^[\x00-\x7f]*$/;

function toSuppression(r: SuppressionRow): Suppression {
  return {
    address: r.address,
    reason: r.reason,
    detail: r.detail,
    createdAt: r.created_at.toISOString(),
    expiresAt: r.expires_at ? r.expires_at.toISOString() : null,
  };
}

/**
 * The claim statement: domains at a limit are passed over; the earliest due deliveries of the
 * others (a window of four times the limit) are ranked within their domain, a domain getting as
 * many as its free places, and only then locked. Rows another claim holds are skipped, and the
 * ones this claim does not take stay free for the others. A domain that fills the window takes its
 * free places and is then at its limit, so the next claim passes over it. The attempts of the last
 * minute are counted only under a per-minute limit (`rated`): that reads each of them.
 * Parameters: $1 now, $2 limit, $3 owner, $4 lease end, $5 concurrency, $6 raw bytes up to; rated: $7 a
 * minute ago, $8 per minute.
 *
 * The suppression entries of each delivery's recipients come along, matched on the address in
 * lower case. Under the "C" collation lower() changes only ASCII letters, exactly as JavaScript's
 * toLowerCase (which wrote the entries) does for an ASCII address; other addresses are left to
 * suppressedAmong (see claim).
 */
function claimSql(rated: boolean): string {
  const recent = rated
    ? 'recent AS (SELECT domain, count(*) AS n FROM deliveries WHERE claimed_at > $7 GROUP BY domain),'
    : '';
  const full = rated
    ? 'SELECT domain FROM busy WHERE n >= $5 UNION SELECT domain FROM recent WHERE n >= $8'
    : 'SELECT domain FROM busy WHERE n >= $5';
  const joinRecent = rated ? 'LEFT JOIN recent q USING (domain)' : '';
  const underRate = rated ? 'AND r.rn <= $8 - coalesce(q.n, 0)' : '';
  return `WITH busy AS (SELECT domain, count(*) AS n FROM deliveries WHERE state = 'sending' GROUP BY domain),
    ${recent}
    cand AS (
      SELECT seq, domain, next_attempt_at FROM deliveries
      WHERE state IN ('queued', 'deferred') AND next_attempt_at <= $1 AND domain NOT IN (${full})
      ORDER BY next_attempt_at, seq LIMIT $2 * 4),
    ranked AS (
      SELECT seq, domain, next_attempt_at,
             row_number() OVER (PARTITION BY domain ORDER BY next_attempt_at, seq) AS rn
      FROM cand),
    pick AS (
      SELECT r.seq FROM ranked r LEFT JOIN busy b USING (domain) ${joinRecent}
      WHERE r.rn <= $5 - coalesce(b.n, 0) ${underRate}),
    locked AS (
      SELECT seq FROM deliveries
      WHERE seq IN (SELECT seq FROM pick) AND state IN ('queued', 'deferred')
      ORDER BY next_attempt_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED),
    taken AS (
      UPDATE deliveries d SET state = 'sending', lease_owner = $3, lease_expires_at = $4,
        attempts = d.attempts + 1, claimed_at = $1, updated_at = $1
      FROM locked WHERE d.seq = locked.seq
      RETURNING d.seq, d.id, d.outbound_seq, d.domain, d.state, d.attempts, d.next_attempt_at, d.expires_at,
        d.last_reply, d.created_at, d.updated_at)
    SELECT t.seq, t.id, o.id AS outbound_id, t.domain, t.state, t.attempts, t.next_attempt_at, t.expires_at,
      t.last_reply, t.created_at, t.updated_at, o.mail_from, o.queued_at, o.source, o.client_ip, o.auth_user,
      (SELECT coalesce(json_agg(json_build_object('address', r.address, 'state', r.state, 'reply', r.reply)
                ORDER BY r.address), '[]')
       FROM delivery_recipients r WHERE r.delivery_seq = t.seq) AS recipients,
      (SELECT coalesce(json_agg(s.*), '[]') FROM delivery_recipients r
         JOIN suppressions s ON s.address = lower(r.address COLLATE "C")
       WHERE r.delivery_seq = t.seq AND (s.expires_at IS NULL OR s.expires_at > $1)) AS suppressed,
      CASE WHEN o.size <= $6 THEN (SELECT raw FROM outbound_raw WHERE seq = o.seq) END AS raw
    FROM taken t JOIN outbound o ON o.seq = t.outbound_seq
    ORDER BY t.next_attempt_at, t.seq`;
}

export class PostgresOutbound implements OutboundStore {
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  private tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn);
  }

  async enqueue(m: NewOutbound): Promise<EnqueueResult> {
    return this.tx(async (c) => {
      const seen = await claimKey(c, m);
      if (seen) return seen;
      await insertOutbound(c, m);
      return { outcome: 'queued', id: m.id } as const;
    });
  }

  /** One statement (see claimSql). */
  async claim(req: ClaimRequest): Promise<ClaimedDelivery[]> {
    const leaseEnd = new Date(Date.parse(req.now) + req.leaseMs).toISOString();
    const minuteAgo = new Date(Date.parse(req.now) - 60_000).toISOString();
    const { concurrency, perMinute } = req.perDomain ?? { concurrency: UNLIMITED, perMinute: UNLIMITED };
    const rated = perMinute < UNLIMITED;
    const { rows } = await this.pool.query<
      DeliveryRow & ClaimExtras & { recipients: RecipientStatus[]; suppressed: SuppressionJson[] }
    >({
      name: rated ? 'outbound-claim-rated' : 'outbound-claim',
      text: claimSql(rated),
      values: [
        req.now,
        req.limit,
        req.owner,
        leaseEnd,
        concurrency,
        req.rawUpTo ?? -1,
        ...(rated ? [minuteAgo, perMinute] : []),
      ],
    });
    return rows.map((r) => ({
      delivery: toDelivery(r, r.recipients),
      mailFrom: r.mail_from,
      queuedAt: r.queued_at.toISOString(),
      source: r.source,
      client: { ip: r.client_ip, authUser: r.auth_user },
      ...(r.raw ? { raw: r.raw } : {}),
      // Matched in SQL only for ASCII addresses (see claimSql); the worker looks the others up.
      ...(r.recipients.every((x) => ASCII.test(x.address))
        ? { suppressed: r.suppressed.map((x) => toSuppression({ ...x, ...jsonDates(x) })) }
        : {}),
    }));
  }

  /** One statement, so one round trip: the lease is checked in the update of the delivery itself. */
  async recordAttempt(r: AttemptRecord): Promise<boolean> {
    const { rows } = await this.pool.query<{ held: boolean }>({
      name: 'outbound-record-attempt',
      text: `WITH held AS (
         UPDATE deliveries SET state = $1, next_attempt_at = coalesce($2, next_attempt_at), last_reply = $3,
           lease_owner = NULL, lease_expires_at = NULL, updated_at = $4
         WHERE id = $5 AND state = 'sending' AND lease_owner = $6
         RETURNING seq, outbound_seq),
       results AS (
         UPDATE delivery_recipients dr SET state = x.state, reply = x.reply
         FROM held, unnest($7::text[], $8::text[], $9::text[]) AS x(address, state, reply)
         WHERE dr.delivery_seq = held.seq AND dr.address = x.address),
       events AS (
         INSERT INTO outbound_events (id, at, type, outbound_seq, delivery_seq, data)
         SELECT e.id, $4, e.type, held.outbound_seq, held.seq, e.data::jsonb
         FROM held, unnest($10::text[], $11::text[], $12::text[]) WITH ORDINALITY AS e(id, type, data, n)
         ORDER BY e.n)
       SELECT EXISTS (SELECT 1 FROM held) AS held`,
      values: [
        r.state,
        r.nextAttemptAt ?? null,
        r.reply,
        r.now,
        r.deliveryId,
        r.owner,
        r.results.map((x) => x.address),
        r.results.map((x) => x.outcome),
        r.results.map((x) => x.reply),
        r.events.map(() => newMessageId()),
        r.events.map((e) => e.type),
        r.events.map((e) => JSON.stringify(e.data)),
      ],
    });
    return rows[0]?.held === true;
  }

  async reapLeases(now: string): Promise<number> {
    return this.tx(async (c) => {
      const { rows } = await c.query<{ seq: string; outbound_seq: string }>(
        `UPDATE deliveries SET state = 'deferred', next_attempt_at = $1, lease_owner = NULL, lease_expires_at = NULL,
           last_reply = 'the worker lost its lease before recording the attempt', updated_at = $1
         WHERE seq IN (SELECT seq FROM deliveries WHERE state = 'sending' AND lease_expires_at <= $1
                       FOR UPDATE SKIP LOCKED)
         RETURNING seq, outbound_seq`,
        [now],
      );
      for (const d of rows) {
        const data = { reason: 'lease expired' };
        await addEvent(c, {
          at: now,
          type: 'delivery:deferred',
          outboundSeq: d.outbound_seq,
          deliverySeq: d.seq,
          data,
        });
      }
      return rows.length;
    });
  }

  async control(id: string, action: QueueAction, now: string): Promise<DeliveryRecord | null | false> {
    return this.tx(async (c) => {
      const { rows } = await c.query<{ seq: string; outbound_seq: string; state: DeliveryState }>(
        'SELECT seq, outbound_seq, state FROM deliveries WHERE id = $1 FOR UPDATE',
        [id],
      );
      const row = rows[0];
      if (!row) return null;
      const next = afterAction(row.state, action);
      if (next === null) return false;
      const dueNow = action === 'release' || action === 'retry';
      await c.query(
        `UPDATE deliveries SET state = $1, next_attempt_at = CASE WHEN $2 THEN $3::timestamptz ELSE next_attempt_at END,
           updated_at = $3 WHERE seq = $4`,
        [next, dueNow, now, row.seq],
      );
      const data = { from: row.state, to: next };
      await addEvent(c, {
        at: now,
        type: ACTION_EVENTS[action],
        outboundSeq: row.outbound_seq,
        deliverySeq: row.seq,
        data,
      });
      const { rows: after } = await c.query<DeliveryRow>(`${DELIVERY_SELECT} WHERE d.seq = $1`, [row.seq]);
      return (await withRecipients(c, after))[0]!;
    });
  }

  async suppress(e: Suppression): Promise<void> {
    await this.pool.query(
      `INSERT INTO suppressions (address, reason, detail, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (address) DO UPDATE SET reason = EXCLUDED.reason, detail = EXCLUDED.detail,
         created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at`,
      [e.address.toLowerCase(), e.reason, e.detail, e.createdAt, e.expiresAt],
    );
  }

  async unsuppress(address: string): Promise<boolean> {
    const r = await this.pool.query('DELETE FROM suppressions WHERE address = $1', [address.toLowerCase()]);
    return (r.rowCount ?? 0) > 0;
  }

  async suppressions(q: { start: number; limit: number; now: string }): Promise<Suppression[]> {
    const { rows } = await this.pool.query<SuppressionRow>(
      `SELECT * FROM suppressions WHERE expires_at IS NULL OR expires_at > $1
       ORDER BY created_at DESC, address LIMIT $2 OFFSET $3`,
      [q.now, q.limit, q.start],
    );
    return rows.map(toSuppression);
  }

  async suppressedAmong(addresses: readonly string[], now: string): Promise<Suppression[]> {
    if (addresses.length === 0) return [];
    const { rows } = await this.pool.query<SuppressionRow>({
      name: 'outbound-suppressed-among',
      text: 'SELECT * FROM suppressions WHERE address = ANY ($1::text[]) AND (expires_at IS NULL OR expires_at > $2)',
      values: [addresses.map((a) => a.toLowerCase()), now],
    });
    return rows.map(toSuppression);
  }

  async saveTemplate(t: MessageTemplate): Promise<void> {
    await this.pool.query(
      `INSERT INTO templates (name, subject, text_body, html_body, engine, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (name) DO UPDATE SET subject = EXCLUDED.subject, text_body = EXCLUDED.text_body,
         html_body = EXCLUDED.html_body, engine = EXCLUDED.engine, updated_at = EXCLUDED.updated_at`,
      [t.name, t.subject, t.text, t.html, t.engine ?? 'handlebars', t.updatedAt],
    );
  }

  async deleteTemplate(name: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM templates WHERE name = $1', [name])).rowCount ?? 0) > 0;
  }

  async template(name: string): Promise<MessageTemplate | null> {
    const { rows } = await this.pool.query<TemplateRow>('SELECT * FROM templates WHERE name = $1', [name]);
    return rows[0] ? toTemplate(rows[0]) : null;
  }

  async templates(): Promise<MessageTemplate[]> {
    return (await this.pool.query<TemplateRow>('SELECT * FROM templates ORDER BY name')).rows.map(toTemplate);
  }

  async pruneIdempotencyKeys(now: string): Promise<number> {
    const r = await this.pool.query('DELETE FROM idempotency_keys WHERE expires_at <= $1', [now]);
    return r.rowCount ?? 0;
  }

  async get(id: string): Promise<OutboundView | null> {
    const { rows } = await this.pool.query('SELECT * FROM outbound WHERE id = $1', [id]);
    const row = rows[0];
    if (!row) return null;
    const deliveries = await this.pool.query<DeliveryRow>(
      `${DELIVERY_SELECT} WHERE d.outbound_seq = $1 ORDER BY d.seq`,
      [row.seq],
    );
    return {
      id: row.id,
      mailFrom: row.mail_from,
      rcptTo: row.rcpt_to,
      headerMessageId: row.header_message_id,
      size: Number(row.size),
      source: row.source,
      client: { ip: row.client_ip, authUser: row.auth_user },
      tags: row.tags,
      metadata: row.metadata,
      queuedAt: row.queued_at.toISOString(),
      sendAt: row.send_at.toISOString(),
      deliveries: await withRecipients(this.pool, deliveries.rows),
    };
  }

  async raw(id: string): Promise<Uint8Array | null> {
    const { rows } = await this.pool.query<{ raw: Buffer }>({
      name: 'outbound-raw',
      text: 'SELECT r.raw FROM outbound_raw r JOIN outbound o ON o.seq = r.seq WHERE o.id = $1',
      values: [id],
    });
    return rows[0]?.raw ?? null;
  }

  async deliveries(query: {
    state?: DeliveryState;
    start: number;
    limit: number;
  }): Promise<DeliveryRecord[]> {
    const { rows } = await this.pool.query<DeliveryRow>(
      `${DELIVERY_SELECT} WHERE ($1::text IS NULL OR d.state = $1) ORDER BY d.seq DESC LIMIT $2 OFFSET $3`,
      [query.state ?? null, query.limit, query.start],
    );
    return withRecipients(this.pool, rows);
  }

  async findByHeaderMessageId(headerMessageId: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ id: string }>(
      'SELECT id FROM outbound WHERE header_message_id = $1 ORDER BY seq DESC LIMIT 1',
      [headerMessageId],
    );
    return rows[0]?.id ?? null;
  }

  async addEvents(outboundId: string, events: readonly LateEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    // One statement: the events in order, each delivery id checked against the message's own.
    const r = await this.pool.query(
      `INSERT INTO outbound_events (id, at, type, outbound_seq, delivery_seq, data)
       SELECT e.id, e.at, e.type, o.seq, d.seq, e.data
         FROM outbound o
         CROSS JOIN unnest($2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::jsonb[])
           WITH ORDINALITY AS e(id, at, type, delivery_id, data, n)
         LEFT JOIN deliveries d ON d.id = e.delivery_id AND d.outbound_seq = o.seq
        WHERE o.id = $1
        ORDER BY e.n
       ON CONFLICT (id) DO NOTHING`,
      [
        outboundId,
        events.map((e) => e.id),
        events.map((e) => e.at),
        events.map((e) => e.type),
        events.map((e) => e.deliveryId),
        events.map((e) => JSON.stringify(e.data)),
      ],
    );
    return r.rowCount ?? 0;
  }

  async events(outboundId: string): Promise<OutboundEvent[]> {
    const { rows } = await this.pool.query<{
      id: string;
      type: string;
      at: Date;
      delivery_id: string | null;
      data: object;
    }>(
      `SELECT e.id, e.type, e.at, d.id AS delivery_id, e.data FROM outbound_events e
       JOIN outbound o ON o.seq = e.outbound_seq LEFT JOIN deliveries d ON d.seq = e.delivery_seq
       WHERE o.id = $1 ORDER BY e.seq`,
      [outboundId],
    );
    return rows.map((r) => ({
      id: r.id,
      type: r.type,
      at: r.at.toISOString(),
      outboundId,
      deliveryId: r.delivery_id,
      data: r.data as Record<string, unknown>,
    }));
  }
}
