// Builders for what a route action is handed: the job, the stored message and the context around
// them, plus an in-memory outbound queue with the idempotency rules of the real one. The action
// tests differ only in route, message and envelope, so those are what the builders take.
import type { ActionContext } from '../../src/actions/action.ts';
import type { Envelope, StoredMessage } from '../../src/domain/message.ts';
import { parseMessage } from '../../src/mime/extract.ts';
import type { ActionJob } from '../../src/storage/inbound-ports.ts';
import type { EnqueueResult, NewOutbound } from '../../src/storage/ports.ts';
import { envelope } from './fixtures.ts';

const HOUR = 3_600_000;

/**
 * A running job on its first attempt, created at `at` (epoch ms) and expiring 26 hours later. The
 * id follows the real scheme (message, route, action index) unless one is given.
 */
export function actionJob(at: number, over: Partial<ActionJob> & Pick<ActionJob, 'action'>): ActionJob {
  const messageId = over.messageId ?? 'M1';
  const routeId = over.routeId ?? 'r1';
  const actionIndex = over.actionIndex ?? 0;
  return {
    id: `${messageId}:${routeId}:${actionIndex}`,
    messageId,
    routeId,
    actionIndex,
    captures: {},
    recipient: null,
    expiresAt: new Date(at + 26 * HOUR).toISOString(),
    state: 'running',
    attempts: 1,
    nextAttemptAt: new Date(at).toISOString(),
    lastError: null,
    createdAt: new Date(at).toISOString(),
    updatedAt: new Date(at).toISOString(),
    ...over,
  };
}

/** A parsed message with nothing in it but what `over` says; `parsed` stays null unless given. */
export function storedMessage(
  over: Partial<StoredMessage> & Pick<StoredMessage, 'id' | 'receivedAt'>,
): StoredMessage {
  return {
    seq: 1,
    size: 0,
    read: false,
    envelope: envelope(),
    parseState: 'parsed',
    parseError: null,
    messageId: '',
    subject: '',
    from: null,
    to: [],
    cc: [],
    bcc: [],
    replyTo: [],
    snippet: '',
    attachmentCount: 0,
    inlineCount: 0,
    tags: [],
    parsed: null,
    ...over,
  };
}

/**
 * The context a job gets for `raw`: the bytes parsed as the pipeline would, stored under the job's
 * message id as received when the job was created, with the envelope `env` (over the fixture's).
 */
export async function actionContext(
  raw: Uint8Array,
  job: ActionJob,
  env: Partial<Envelope>,
): Promise<ActionContext> {
  const parsed = await parseMessage(raw);
  const message = storedMessage({
    id: job.messageId,
    receivedAt: job.createdAt,
    size: raw.byteLength,
    envelope: envelope(env),
    messageId: parsed.messageId,
    subject: parsed.subject,
    from: parsed.from,
    to: parsed.to,
    replyTo: parsed.replyTo,
    snippet: parsed.snippet,
    parsed,
  });
  return { job, message, raw: async () => raw, signal: new AbortController().signal };
}

/**
 * The outbound queue's idempotency in memory: a key seen before answers replayed with the same
 * request, conflict with another, and queues nothing. `fail` makes every enqueue throw it.
 */
export class MemoryQueue {
  readonly queued: NewOutbound[] = [];
  private readonly keys = new Map<string, { hash: string; id: string }>();
  fail: Error | null = null;

  async enqueue(m: NewOutbound): Promise<EnqueueResult> {
    if (this.fail) throw this.fail;
    const seen = m.idempotency && this.keys.get(m.idempotency.key);
    if (seen)
      return { outcome: seen.hash === m.idempotency!.requestHash ? 'replayed' : 'conflict', id: seen.id };
    if (m.idempotency) this.keys.set(m.idempotency.key, { hash: m.idempotency.requestHash, id: m.id });
    this.queued.push(m);
    return { outcome: 'queued', id: m.id };
  }
}
