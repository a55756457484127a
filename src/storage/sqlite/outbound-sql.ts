// Reads of the outbound queue shared by the reader (outbound.ts) and the writer thread
// (outbound-ops.ts): both hold a DatabaseSync on the same file.
import type { DatabaseSync } from 'node:sqlite';
import type { DeliveryRecord, DeliveryState, RecipientStatus, Suppression } from '../../domain/delivery.ts';
import { stmt } from './statements.ts';

export interface DeliveryRow {
  seq: number;
  id: string;
  outbound_id: string;
  domain: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: string;
  expires_at: string;
  last_reply: string | null;
  created_at: string;
  updated_at: string;
}

export const DELIVERY_COLUMNS = `d.seq, d.id, o.id AS outbound_id, d.domain, d.state, d.attempts,
  d.next_attempt_at, d.expires_at, d.last_reply, d.created_at, d.updated_at`;

/** `deliveries d JOIN outbound o`: what every delivery read selects from. */
export const DELIVERY_FROM = 'deliveries d JOIN outbound o ON o.seq = d.outbound_seq';

/** Deliveries with their recipients, in the order of `rows`. */
export function withRecipients(db: DatabaseSync, rows: readonly DeliveryRow[]): DeliveryRecord[] {
  if (rows.length === 0) return [];
  const recipients = stmt(
    db,
    `SELECT delivery_seq, address, state, reply FROM delivery_recipients
     WHERE delivery_seq IN (SELECT value FROM json_each(?)) ORDER BY delivery_seq, address`,
  ).all(JSON.stringify(rows.map((r) => r.seq))) as unknown as (RecipientStatus & { delivery_seq: number })[];
  const bySeq = new Map<number, RecipientStatus[]>();
  for (const r of recipients) {
    const list = bySeq.get(r.delivery_seq) ?? [];
    list.push({ address: r.address, state: r.state, reply: r.reply });
    bySeq.set(r.delivery_seq, list);
  }
  return rows.map((r) => ({
    id: r.id,
    outboundId: r.outbound_id,
    domain: r.domain,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    expiresAt: r.expires_at,
    lastReply: r.last_reply,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    recipients: bySeq.get(r.seq) ?? [],
  }));
}

/** One delivery by id, or null. */
export function deliveryById(db: DatabaseSync, id: string): DeliveryRecord | null {
  const row = stmt(db, `SELECT ${DELIVERY_COLUMNS} FROM ${DELIVERY_FROM} WHERE d.id = ?`).get(
    id,
  ) as unknown as DeliveryRow | undefined;
  return row ? withRecipients(db, [row])[0]! : null;
}

export interface SuppressionRow {
  address: string;
  reason: Suppression['reason'];
  detail: string | null;
  created_at: string;
  expires_at: string | null;
}

export function toSuppression(r: SuppressionRow): Suppression {
  return {
    address: r.address,
    reason: r.reason,
    detail: r.detail,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

/** The entries in force at `now` for these addresses (compared in lower case). */
export function suppressedAmong(db: DatabaseSync, addresses: readonly string[], now: string): Suppression[] {
  if (addresses.length === 0) return [];
  const rows = stmt(
    db,
    `SELECT * FROM suppressions WHERE address IN (SELECT value FROM json_each(?))
       AND (expires_at IS NULL OR expires_at > ?)`,
  ).all(JSON.stringify(addresses.map((a) => a.toLowerCase())), now) as unknown as SuppressionRow[];
  return rows.map(toSuppression);
}
