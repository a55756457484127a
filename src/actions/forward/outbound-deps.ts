// What the actions that send mail (forward, auto-reply) need of the outbound side, and the one way
// they queue a message: durably, once per job, however often the job runs.
import { createHash } from 'node:crypto';
import { newMessageId } from '../../domain/ids.ts';
import type { ActionJob, AutoReplyClaim } from '../../storage/inbound-ports.ts';

export type { AutoReplyClaim };

import type { OutboundStore } from '../../storage/ports.ts';
import type { ActionResult } from '../action.ts';

export interface OutboundActionDeps {
  queue: Pick<OutboundStore, 'enqueue'>;
  /** Right-hand side of generated Message-IDs, and the name forward trace headers carry. */
  hostname: string;
  /** queueLifetime: how long the queued message is tried. */
  lifetimeMs: number;
  now: () => number;
  /** DKIM: signs for the domain of `from` when a key covers it, else returns the bytes as they are. */
  sign?: (raw: Buffer, from: string) => Promise<Buffer>;
  /** Told about each newly queued message (wakes the local delivery worker). */
  onQueued: (id: string) => void;
  forward: {
    /** SRS rewrites forwarded mail's envelope sender to this domain; its SPF record must list us. */
    domain: string;
    /** SRS keys: the first signs, all verify. */
    secrets: readonly string[];
    /** Larger messages are not forwarded. */
    maxBytes: number;
  };
  /**
   * Takes the right to auto-reply to a sender (storage.inbound.claimAutoReply): true when no reply
   * went to them from this route within the period, or when this same job took it (a retry).
   */
  claimAutoReply: (req: AutoReplyClaim) => Promise<boolean>;
}

/** How long the key is kept at least, like the send API's (a day). */
const KEY_TTL_MS = 24 * 3_600_000;

/**
 * The idempotency key of a job's message. The space keeps it apart from every send API key (those
 * are printable ASCII without spaces), so no API client can take it first. The job's expiry is in
 * it because a replay (POST /api/v1/actions/{ID}/replay) gives the job a fresh lifetime and is
 * meant to send again, while retries and re-runs after a lost lease keep the lifetime and so the key.
 */
export function actionKey(job: Pick<ActionJob, 'id' | 'expiresAt'>): string {
  return `action ${job.id} ${job.expiresAt}`;
}

export interface ToQueue {
  mailFrom: string;
  rcptTo: string[];
  raw: Uint8Array;
  headerMessageId: string;
  metadata: Record<string, string>;
}

/**
 * Enqueues the message durably under an idempotency key: the same key again gives back the
 * message queued first ('replayed'), so a retried run sends nothing twice.
 */
export function enqueueKeyed(
  deps: Pick<OutboundActionDeps, 'queue' | 'lifetimeMs'>,
  m: ToQueue,
  idempotency: { key: string; expiresAt: string },
  now: number,
): ReturnType<OutboundActionDeps['queue']['enqueue']> {
  const at = new Date(now).toISOString();
  return deps.queue.enqueue({
    id: newMessageId(),
    ...m,
    source: 'system',
    client: { ip: '', authUser: null },
    tags: [],
    queuedAt: at,
    sendAt: at,
    expiresAt: new Date(now + deps.lifetimeMs).toISOString(),
    idempotency: {
      key: idempotency.key,
      // The bytes differ from run to run (Message-ID, Date, DKIM time), the key does not.
      requestHash: createHash('sha256').update(idempotency.key).digest('hex'),
      expiresAt: idempotency.expiresAt,
    },
  });
}

/**
 * Queues the message under the job's key. A store failure (a database hiccup) is worth a retry;
 * a key already used means an earlier run queued it, which is success.
 */
export async function queueOnce(
  deps: Pick<OutboundActionDeps, 'queue' | 'lifetimeMs' | 'onQueued'>,
  job: ActionJob,
  now: number,
  m: ToQueue,
  /** What was done, for the outcome's detail: "forwarded to a@b.example". */
  what: string,
): Promise<ActionResult> {
  const key = actionKey(job);
  let result: Awaited<ReturnType<OutboundActionDeps['queue']['enqueue']>>;
  try {
    result = await enqueueKeyed(
      deps,
      m,
      // Kept while the job can still run again, and at least as long as the send API's keys.
      { key, expiresAt: new Date(Math.max(Date.parse(job.expiresAt), now) + KEY_TTL_MS).toISOString() },
      now,
    );
  } catch (err) {
    return { outcome: 'retry', reason: `could not queue the message: ${(err as Error).message}` };
  }
  if (result.outcome === 'queued') {
    deps.onQueued(result.id);
    return { outcome: 'succeeded', detail: `${what}: queued as outbound message ${result.id}` };
  }
  if (result.outcome === 'replayed')
    return {
      outcome: 'succeeded',
      detail: `${what}: queued as outbound message ${result.id} by an earlier run`,
    };
  return { outcome: 'failed', reason: `the key ${key} was used for another message (${result.id})` };
}
