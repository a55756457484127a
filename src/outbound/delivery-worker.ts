// The delivery worker: claims due deliveries with a lease, hands each to the transport, and
// records what happened, per recipient, with the events. Runs on every node with the worker
// role; the queue's leases keep one delivery on one worker, and an expired lease (a node that
// died mid-attempt) returns the delivery to the queue.
import { type DeliveryState, FINAL_DELIVERY_STATES, type Suppression } from '../domain/delivery.ts';
import type { Logger } from '../observability/logger.ts';
import { WakeLoop } from '../runtime/wake-loop.ts';
import type { AttemptRecord, ClaimedDelivery, OutboundStore } from '../storage/ports.ts';
import type { FailedDelivery } from './bounce-notice.ts';
import { nextAttemptAt, type RetrySchedule } from './retry-schedule.ts';
import type { RecipientResult, Transport, TransportResult } from './transport.ts';

export interface DeliveryWorkerOptions {
  queue: OutboundStore;
  transport: Transport;
  schedule: RetrySchedule;
  logger: Logger;
  /** Names this worker's leases (host and pid, say). */
  owner: string;
  /** Deliveries attempted at once. */
  concurrency: number;
  /** How long a claimed delivery is this worker's; longer than any attempt may take. */
  leaseMs: number;
  /** Per recipient domain: deliveries at once and attempts a minute (see ClaimRequest). */
  perDomain?: { concurrency: number; perMinute: number };
  /** How often the queue is looked at without a wake-up (scheduled and retried mail). */
  pollMs: number;
  now?: () => number;
  /** True for a bounce that says the address does not exist: it goes on the suppression list. */
  isHardBounce?: (reply: string) => boolean;
  /** Told about each delivery that failed for good, with the recipients that failed (the DSN). */
  onFailed?: (failure: FailedDelivery) => Promise<unknown>;
}

/**
 * Messages up to this size come with the claim (one read fewer per delivery); a full claim holds
 * at most `concurrency` of them in memory.
 */
const RAW_WITH_CLAIM = 256 * 1024;

type Outcome = Pick<AttemptRecord, 'state' | 'nextAttemptAt' | 'reply' | 'events'>;

/**
 * The delivery's state after an attempt: deferred while a recipient is deferred and the lifetime
 * allows another try (expired when it does not); else delivered when every recipient that could
 * be tried was delivered; otherwise bounced.
 */
export function attemptOutcome(
  results: readonly RecipientResult[],
  reply: string,
  schedule: RetrySchedule,
  claimed: { attempts: number; queuedAt: string },
  now: number,
): Outcome {
  const count = (o: RecipientResult['outcome']) => results.filter((r) => r.outcome === o).length;
  const deferred = count('deferred');
  const bounced = count('bounced');
  const suppressed = count('suppressed');
  const delivered = count('delivered');
  const data = { reply, delivered, deferred, bounced, suppressed };
  const events: Outcome['events'] = [];
  if (delivered + deferred + bounced > 0) events.push({ type: 'delivery:attempted', data });
  if (suppressed > 0) {
    const addresses = results.filter((r) => r.outcome === 'suppressed').map((r) => r.address);
    events.push({ type: 'delivery:suppressed', data: { addresses } });
  }
  if (deferred > 0) {
    const next = nextAttemptAt(schedule, claimed.attempts, Date.parse(claimed.queuedAt), now);
    if (next !== null) {
      const nextAt = new Date(next).toISOString();
      events.push({ type: 'delivery:deferred', data: { ...data, nextAttemptAt: nextAt } });
      return { state: 'deferred', nextAttemptAt: nextAt, reply, events };
    }
    events.push({ type: 'delivery:expired', data });
    return { state: 'expired', reply, events };
  }
  // Suppressed recipients were never tried: with nobody delivered, the delivery failed for good.
  if (bounced > 0 || delivered === 0) {
    events.push({ type: 'delivery:bounced', data });
    return { state: 'bounced', reply, events };
  }
  events.push({ type: 'delivery:delivered', data });
  return { state: 'delivered', reply, events };
}

export class DeliveryWorker {
  private readonly o: DeliveryWorkerOptions;
  private readonly now: () => number;
  private active = 0;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** Set by stop(): no claim after it, even from runOnce(). */
  private stopped = false;
  private readonly loop: WakeLoop;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private lastReap = 0;

  constructor(options: DeliveryWorkerOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
    this.loop = new WakeLoop(
      () => this.tick(),
      (err) => this.o.logger.error({ err }, 'delivery worker: claiming failed'),
    );
  }

  start(): void {
    this.running = true;
    this.timer = setInterval(() => this.wake(), this.o.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** Looks at the queue now (new mail was queued); calls during a look make it look once more. */
  wake(): void {
    if (this.running) this.loop.wake();
  }

  /** One look at the queue, then waits until every attempt under way is recorded (tests, drains). */
  async runOnce(): Promise<void> {
    await this.tick();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Stops claiming and waits for attempts under way; their leases end on their own otherwise. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.loop.stop();
    await Promise.allSettled([...this.inFlight]);
    this.abort.abort();
    this.o.transport.close?.();
  }

  private async tick(): Promise<void> {
    const now = this.now();
    if (now - this.lastReap >= this.o.leaseMs / 2) {
      this.lastReap = now;
      const reaped = await this.o.queue.reapLeases(new Date(now).toISOString());
      if (reaped > 0)
        this.o.logger.warn({ reaped }, 'delivery worker: returned deliveries whose lease ran out');
    }
    const free = this.o.concurrency - this.active;
    if (free <= 0 || this.stopped) return;
    const claimed = await this.o.queue.claim({
      owner: this.o.owner,
      now: new Date(now).toISOString(),
      leaseMs: this.o.leaseMs,
      limit: free,
      rawUpTo: RAW_WITH_CLAIM,
      ...(this.o.perDomain ? { perDomain: this.o.perDomain } : {}),
    });
    // Fewer than asked for, but some: domains at their limits filled the claim's window, and they
    // are passed over now, so look again at once (an empty claim ends this).
    if (claimed.length > 0 && claimed.length < free) this.loop.requestAnother();
    for (const c of claimed) {
      this.active++;
      const p = this.attempt(c).finally(() => {
        this.active--;
        this.inFlight.delete(p);
        // A slot is free: more may be due.
        if (claimed.length === free) this.wake();
      });
      this.inFlight.add(p);
    }
  }

  private async attempt(c: ClaimedDelivery): Promise<void> {
    const d = c.delivery;
    const log = this.o.logger.child({ outbound: d.outboundId, delivery: d.id, domain: d.domain });
    const pending = d.recipients
      .filter((r) => r.state === 'pending' || r.state === 'deferred')
      .map((r) => r.address);
    const { skipped, tried } = await this.partition(pending, c.suppressed);
    // Every recipient suppressed: no transaction, and no bytes to read.
    const raw = tried.length > 0 ? (c.raw ?? (await this.o.queue.raw(d.outboundId))) : null;
    const sent =
      tried.length > 0 ? await this.send(c, tried, raw) : { results: [], reply: skipped[0]?.reply ?? '' };
    const results = [...skipped, ...sent.results];
    const now = this.now();
    const claimed = { attempts: d.attempts, queuedAt: c.queuedAt };
    const outcome = attemptOutcome(results, sent.reply, this.o.schedule, claimed, now);
    const record = {
      deliveryId: d.id,
      owner: this.o.owner,
      now: new Date(now).toISOString(),
      results,
      ...outcome,
    };
    if (!(await this.o.queue.recordAttempt(record))) {
      log.warn('delivery worker: lease lost before the attempt was recorded');
      return;
    }
    const { state, nextAttemptAt: next } = outcome;
    log.info(
      { state, reply: sent.reply, ...(next ? { next } : {}) },
      FINAL_DELIVERY_STATES.has(state) ? 'delivery finished' : 'delivery deferred',
    );
    await this.followUp(c, raw, results, state, now).catch((err) =>
      log.error({ err }, 'delivery worker: the bounce follow-up failed'),
    );
  }

  /**
   * Splits recipients into those on the suppression list (never tried) and the rest, with the
   * entries the claim brought, or else asked for now.
   */
  private async partition(
    recipients: string[],
    known: Suppression[] | undefined,
  ): Promise<{ skipped: RecipientResult[]; tried: string[] }> {
    const now = new Date(this.now()).toISOString();
    const entries = known ?? (await this.o.queue.suppressedAmong(recipients, now));
    const blocked = new Map(entries.map((e) => [e.address, e]));
    const reason = (a: string) => blocked.get(a.toLowerCase())?.reason;
    return {
      skipped: recipients
        .filter((a) => reason(a))
        .map((address) => ({ address, outcome: 'suppressed', reply: `suppressed: ${reason(address)}` })),
      tried: recipients.filter((a) => !reason(a)),
    };
  }

  /** One transaction through the transport; when it cannot even try, every recipient waits. */
  private async send(c: ClaimedDelivery, tried: string[], raw: Uint8Array | null): Promise<TransportResult> {
    const d = c.delivery;
    try {
      if (!raw) throw new Error('the message is gone from the queue');
      const job = {
        outboundId: d.outboundId,
        deliveryId: d.id,
        domain: d.domain,
        mailFrom: c.mailFrom,
        recipients: tried,
        raw,
        source: c.source,
        client: c.client,
        attempt: d.attempts,
      };
      return await this.o.transport.deliver(job, this.abort.signal);
    } catch (err) {
      // No route, a local fault: not the recipients' doing.
      const reply = `451 4.4.0 ${(err as Error).message}`;
      return { results: tried.map((address) => ({ address, outcome: 'deferred', reply })), reply };
    }
  }

  /** Hard bounces go on the suppression list; a delivery that failed for good tells its sender. */
  private async followUp(
    c: ClaimedDelivery,
    raw: Uint8Array | null,
    results: RecipientResult[],
    state: DeliveryState,
    now: number,
  ): Promise<void> {
    const at = new Date(now).toISOString();
    for (const r of results) {
      if (r.outcome !== 'bounced' || !this.o.isHardBounce?.(r.reply)) continue;
      await this.o.queue.suppress({
        address: r.address,
        reason: 'hard-bounce',
        detail: r.reply,
        createdAt: at,
        expiresAt: null,
      });
    }
    if (state !== 'bounced' && state !== 'expired') return;
    const failed = results.filter(
      (r) => r.outcome === 'bounced' || (state === 'expired' && r.outcome === 'deferred'),
    );
    if (failed.length > 0) await this.o.onFailed?.({ claimed: c, raw, failed, state, now });
  }
}
