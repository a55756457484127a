// The delivery worker: claims due deliveries with a lease, hands each to the transport, and
// records what happened, per recipient, with the events. Runs on every node with the worker
// role; the queue's leases keep one delivery on one worker, and an expired lease (a node that
// died mid-attempt) returns the delivery to the queue.
import { FINAL_DELIVERY_STATES } from '../domain/delivery.ts';
import type { Logger } from '../observability/logger.ts';
import type { AttemptRecord, ClaimedDelivery, OutboundStore } from '../storage/ports.ts';
import { nextAttemptAt, type RetrySchedule } from './retry-schedule.ts';
import type { RecipientResult, Transport } from './transport.ts';

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
  /** How often the queue is looked at without a wake-up (scheduled and retried mail). */
  pollMs: number;
  now?: () => number;
}

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

/** Every recipient of the delivery is suppressed: there is no transaction to make. */
class NothingToTry extends Error {}

export class DeliveryWorker {
  private readonly o: DeliveryWorkerOptions;
  private readonly now: () => number;
  private active = 0;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private ticking = false;
  private again = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private lastReap = 0;

  constructor(options: DeliveryWorkerOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.running = true;
    this.timer = setInterval(() => this.wake(), this.o.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** Looks at the queue now (new mail was queued); calls during a look make it look once more. */
  wake(): void {
    if (!this.running) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    void this.tick()
      .catch((err) => this.o.logger.error({ err }, 'delivery worker: claiming failed'))
      .finally(() => {
        this.ticking = false;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** One look at the queue, then waits until every attempt under way is recorded (tests, drains). */
  async runOnce(): Promise<void> {
    await this.tick();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Stops claiming and waits for attempts under way; their leases end on their own otherwise. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
    this.abort.abort();
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
    if (free <= 0 || !this.running) return;
    const claimed = await this.o.queue.claim({
      owner: this.o.owner,
      now: new Date(now).toISOString(),
      leaseMs: this.o.leaseMs,
      limit: free,
    });
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
    const recipients = d.recipients
      .filter((r) => r.state === 'pending' || r.state === 'deferred')
      .map((r) => r.address);
    const now0 = new Date(this.now()).toISOString();
    const blocked = new Map(
      (await this.o.queue.suppressedAmong(recipients, now0)).map((s) => [s.address, s] as const),
    );
    const skipped: RecipientResult[] = recipients
      .filter((a) => blocked.has(a.toLowerCase()))
      .map((address) => ({
        address,
        outcome: 'suppressed',
        reply: `suppressed: ${blocked.get(address.toLowerCase())!.reason}`,
      }));
    const tried = recipients.filter((a) => !blocked.has(a.toLowerCase()));
    let results: RecipientResult[] = [];
    let reply = skipped[0]?.reply ?? '';
    try {
      if (tried.length === 0) throw new NothingToTry();
      const raw = await this.o.queue.raw(d.outboundId);
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
      ({ results, reply } = await this.o.transport.deliver(job, this.abort.signal));
    } catch (err) {
      if (!(err instanceof NothingToTry)) {
        // The transport could not try at all (no route, a local fault): every recipient waits.
        reply = `451 4.4.0 ${(err as Error).message}`;
        results = tried.map((address) => ({ address, outcome: 'deferred', reply }));
      }
    }
    results = [...skipped, ...results];
    const now = this.now();
    const outcome = attemptOutcome(
      results,
      reply,
      this.o.schedule,
      { attempts: d.attempts, queuedAt: c.queuedAt },
      now,
    );
    const saved = await this.o.queue.recordAttempt({
      deliveryId: d.id,
      owner: this.o.owner,
      now: new Date(now).toISOString(),
      results,
      ...outcome,
    });
    if (!saved) log.warn('delivery worker: lease lost before the attempt was recorded');
    else if (FINAL_DELIVERY_STATES.has(outcome.state))
      log.info({ state: outcome.state, reply }, 'delivery finished');
    else log.info({ state: outcome.state, reply, next: outcome.nextAttemptAt }, 'delivery deferred');
  }
}
