// Runs the action jobs routing started: claims due jobs with a lease, finds each one's executor in
// the registry, and records the result with an event. A job that may succeed later is retried with
// a growing wait (from 30 s, doubling, at most 2 h between tries) until its lifetime ends.
import type { ActionType } from '../domain/route.ts';
import { readOwnResults } from '../ingest/auth-results-read.ts';
import type { Logger } from '../observability/logger.ts';
import { WakeLoop } from '../runtime/wake-loop.ts';
import type { ActionJob } from '../storage/inbound-ports.ts';
import type { Storage } from '../storage/ports.ts';
import type { ActionContext, ActionExecutor, ActionResult } from './action.ts';

export interface ActionRunnerDeps {
  storage: Storage;
  executors: readonly ActionExecutor[];
  logger: Logger;
  owner: string;
  concurrency: number;
  leaseMs: number;
  pollMs?: number;
  now?: () => number;
  /** Our authserv-id: the sender checks actions see are read from our Authentication-Results. */
  hostname?: string;
}

const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 2 * 3600_000;

/** The wait before try `attempts + 1`. */
export function retryDelay(attempts: number, retryAfterMs?: number): number {
  const backoff = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
  return Math.max(backoff, Math.min(retryAfterMs ?? 0, MAX_RETRY_MS));
}

export class ActionRunner {
  private readonly d: ActionRunnerDeps;
  private readonly now: () => number;
  private readonly registry: Map<ActionType, ActionExecutor>;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private readonly loop: WakeLoop;
  private stopped = false;
  private lastReap = 0;

  constructor(deps: ActionRunnerDeps) {
    this.d = deps;
    this.now = deps.now ?? Date.now;
    this.registry = new Map(deps.executors.map((e) => [e.type, e]));
    this.loop = new WakeLoop(
      () => this.tick(),
      (err) => this.d.logger.error({ err }, 'actions: claiming failed'),
    );
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), this.d.pollMs ?? 1000);
    this.timer.unref();
    this.wake();
  }

  wake(): void {
    this.loop.wake();
  }

  /** One look at the jobs, waiting for every attempt it starts (tests). */
  async runOnce(): Promise<void> {
    await this.tick();
    await Promise.allSettled([...this.inFlight]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.loop.stop();
    await Promise.allSettled([...this.inFlight]);
    this.abort.abort();
    await Promise.allSettled(this.d.executors.map((e) => e.close?.()));
  }

  private async tick(): Promise<void> {
    const now = this.now();
    if (now - this.lastReap >= this.d.leaseMs / 2) {
      this.lastReap = now;
      await this.d.storage.inbound.reapActions(new Date(now).toISOString());
    }
    const free = this.d.concurrency - this.inFlight.size;
    if (free <= 0 || this.stopped) return;
    const jobs = await this.d.storage.inbound.claimActions({
      owner: this.d.owner,
      now: new Date(now).toISOString(),
      leaseMs: this.d.leaseMs,
      limit: free,
    });
    for (const job of jobs) {
      const p: Promise<void> = this.attempt(job).finally(() => {
        this.inFlight.delete(p);
        if (jobs.length === free) this.wake();
      });
      this.inFlight.add(p);
    }
  }

  private async attempt(job: ActionJob): Promise<void> {
    const log = this.d.logger.child({ message: job.messageId, route: job.routeId, job: job.id });
    const result = await this.run(job).catch(
      (err: Error): ActionResult => ({ outcome: 'retry', reason: `the action threw: ${err.message}` }),
    );
    const now = this.now();
    const at = new Date(now).toISOString();
    const base = { messageId: job.messageId, routeId: job.routeId };
    const data = { action: job.action.type, index: job.actionIndex, attempt: job.attempts };
    let record: Parameters<Storage['inbound']['recordAction']>[0];
    if (result.outcome === 'succeeded') {
      record = {
        id: job.id,
        owner: this.d.owner,
        now: at,
        state: 'succeeded',
        error: null,
        events: [
          {
            ...base,
            id: `${job.id}:succeeded`,
            type: 'action:succeeded',
            data: { ...data, detail: result.detail },
          },
        ],
      };
    } else {
      const next =
        now + retryDelay(job.attempts, result.outcome === 'retry' ? result.retryAfterMs : undefined);
      const retry = result.outcome === 'retry' && next < Date.parse(job.expiresAt);
      const reason =
        result.outcome === 'retry' && !retry
          ? `${result.reason}; no more tries: its lifetime ended`
          : result.reason;
      record = {
        id: job.id,
        owner: this.d.owner,
        now: at,
        state: retry ? 'pending' : 'failed',
        ...(retry ? { nextAttemptAt: new Date(next).toISOString() } : {}),
        error: reason,
        events: [
          {
            ...base,
            id: `${job.id}:failed:${job.attempts}`,
            type: 'action:failed',
            data: {
              ...data,
              reason,
              willRetry: retry,
              ...(retry ? { nextAttemptAt: new Date(next).toISOString() } : {}),
            },
          },
        ],
      };
    }
    if (!(await this.d.storage.inbound.recordAction(record))) {
      log.warn('actions: lease lost before the attempt was recorded');
      return;
    }
    log.info({ action: job.action.type, state: record.state, reason: record.error }, 'action attempted');
  }

  private async run(job: ActionJob): Promise<ActionResult> {
    const executor = this.registry.get(job.action.type);
    if (!executor)
      return { outcome: 'failed', reason: `no executor for ${job.action.type} actions on this node` };
    const message = await this.d.storage.get(job.messageId);
    if (!message) return { outcome: 'failed', reason: 'the message was deleted before the action ran' };
    let raw: Promise<Uint8Array | null> | null = null;
    const ctx: ActionContext = {
      job,
      message,
      raw: () => {
        raw ??= this.d.storage.getRaw(job.messageId);
        return raw;
      },
      signal: this.abort.signal,
      auth: this.d.hostname ? readOwnResults(message.parsed?.headers ?? [], this.d.hostname) : null,
    };
    return executor.execute(job.action, ctx);
  }
}
