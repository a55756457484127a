// Rows of the inbound pipeline's tables, read by the reader (inbound.ts) and the writer thread
// (inbound-ops.ts).
import type { DatabaseSync } from 'node:sqlite';
import type { RouteAction } from '../../domain/route.ts';
import type { ActionJob, ActionJobState, InboundEvent } from '../inbound-ports.ts';
import { stmt } from './statements.ts';

export interface ActionJobRow {
  id: string;
  message_id: string;
  route_id: string;
  action_index: number;
  action: string;
  captures: string;
  recipient: string | null;
  state: ActionJobState;
  attempts: number;
  next_attempt_at: string;
  expires_at: string;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export function toActionJob(r: ActionJobRow): ActionJob {
  return {
    id: r.id,
    messageId: r.message_id,
    routeId: r.route_id,
    actionIndex: r.action_index,
    action: JSON.parse(r.action) as RouteAction,
    captures: JSON.parse(r.captures) as Record<string, string>,
    recipient: r.recipient,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    expiresAt: r.expires_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface InboundEventRow {
  seq: number;
  id: string;
  at: string;
  type: string;
  message_id: string;
  route_id: string | null;
  data: string;
}

export function toInboundEvent(r: InboundEventRow): InboundEvent {
  return {
    seq: r.seq,
    id: r.id,
    at: r.at,
    type: r.type,
    messageId: r.message_id,
    routeId: r.route_id,
    data: JSON.parse(r.data) as Record<string, unknown>,
  };
}

export function actionJobById(db: DatabaseSync, id: string): ActionJob | null {
  const row = stmt(db, 'SELECT * FROM action_jobs WHERE id = ?').get(id) as unknown as
    | ActionJobRow
    | undefined;
  return row ? toActionJob(row) : null;
}
