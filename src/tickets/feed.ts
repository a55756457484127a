// Ticket events to webhooks (--ticket-webhook): each URL gets every event, in order, as a signed
// POST (the inbound webhooks' signature, docs/webhooks.md), one event per request with its stable
// id in Mailroom-Delivery-Id. Each URL has a durable position (storage.tickets feeds) held by one
// node at a time under a lease, so several nodes post each event once. A delivery the receiver
// may take later (408, 429, 5xx, network) is retried from 30 s doubling to 10 minutes, for up to
// 24 hours; an event the receiver refuses (another 4xx), or that stays undeliverable that long, is
// skipped with an error in the log, so one bad event cannot stop the feed for good.

import { DELIVERY_ID_HEADER, postWebhook } from '../actions/webhook/post.ts';
import { loggableUrl } from '../actions/webhook/webhook-action.ts';
import type { TicketEvent } from '../domain/ticket.ts';
import type { AddressPolicy } from '../net/address-policy.ts';
import type { AddressResolver } from '../net/safe-lookup.ts';
import type { Logger } from '../observability/logger.ts';
import type { TicketStore } from '../storage/ticket-ports.ts';

export interface FeedDeps {
  store: Pick<TicketStore, 'takeFeed' | 'advanceFeed' | 'events' | 'lastEventSeq'>;
  urls: readonly string[];
  secrets: readonly string[];
  policy: AddressPolicy;
  resolver: AddressResolver;
  timeoutMs: number;
  userAgent: string;
  owner: string;
  logger: Pick<Logger, 'warn' | 'error' | 'info'>;
  now: () => number;
  /** How often an idle feed looks for events recorded on other nodes. */
  pollMs?: number;
  leaseMs?: number;
  /** Retries of one event stop after this; then it is skipped. */
  giveUpMs?: number;
  /** The first retry's wait (doubling to 10 minutes). */
  firstRetryMs?: number;
}

const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 600_000;

/** The body a receiver gets: the event as the API shows it. */
export function feedBody(e: TicketEvent): string {
  return JSON.stringify({ Seq: e.seq, ID: e.id, Type: e.type, TicketID: e.ticketId, At: e.at, Data: e.data });
}

export class TicketFeed {
  private readonly d: FeedDeps & { pollMs: number; leaseMs: number; giveUpMs: number; firstRetryMs: number };
  private readonly stopped = new AbortController();
  private readonly wakers = new Set<() => void>();
  private readonly loops: Promise<void>[] = [];

  constructor(deps: FeedDeps) {
    this.d = {
      pollMs: 2000,
      leaseMs: 60_000,
      giveUpMs: 24 * 3_600_000,
      firstRetryMs: FIRST_RETRY_MS,
      ...deps,
    };
  }

  start(): void {
    if (this.d.secrets.length === 0 && this.d.urls.length > 0) {
      this.d.logger.error(
        '--ticket-webhook needs --webhook-secret to sign its posts; no ticket webhook is sent',
      );
      return;
    }
    for (const url of this.d.urls) this.loops.push(this.run(url));
  }

  /** Events were recorded on this node: look now. */
  wake(): void {
    for (const w of this.wakers) w();
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    this.wake();
    await Promise.all(this.loops);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  /** A wait only stopping ends early (a retry's backoff must not shorten when events arrive). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.stopped.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private async run(url: string): Promise<void> {
    const name = `ticket-webhook ${url}`;
    const at = () => new Date(this.d.now()).toISOString();
    while (!this.stopped.signal.aborted) {
      try {
        // A new feed starts with what happens from now on, not with the whole history.
        const position = await this.d.store.takeFeed({
          name,
          owner: this.d.owner,
          now: at(),
          leaseMs: this.d.leaseMs,
          startSeq: await this.d.store.lastEventSeq(),
        });
        if (position === null) {
          await this.sleep(this.d.pollMs * 5);
          continue;
        }
        const events = await this.d.store.events(position, 50);
        if (events.length === 0) {
          await this.sleep(this.d.pollMs);
          continue;
        }
        for (const e of events) {
          if (this.stopped.signal.aborted) return;
          await this.deliver(url, e);
          if (this.stopped.signal.aborted) return;
          const kept = await this.d.store.advanceFeed({
            name,
            owner: this.d.owner,
            seq: e.seq,
            now: at(),
            leaseMs: this.d.leaseMs,
          });
          if (!kept) break;
        }
      } catch (err) {
        this.d.logger.error({ err, url: loggableUrl(url) }, 'ticket webhook feed failed; trying again');
        await this.sleep(this.d.pollMs * 5);
      }
    }
  }

  /** Posts one event until it is taken, refused, or too old; returns when the feed may move on. */
  private async deliver(url: string, e: TicketEvent): Promise<void> {
    const started = this.d.now();
    let wait = this.d.firstRetryMs;
    const body = feedBody(e);
    while (!this.stopped.signal.aborted) {
      const attempt = await postWebhook(
        { url, body, headers: { [DELIVERY_ID_HEADER]: e.id }, secrets: [...this.d.secrets] },
        {
          timeoutMs: this.d.timeoutMs,
          maxResponseBytes: 16 * 1024,
          policy: this.d.policy,
          resolver: this.d.resolver,
          userAgent: this.d.userAgent,
          signal: this.stopped.signal,
          now: this.d.now,
        },
      );
      if (attempt.outcome === 'delivered') return;
      const log = { url: loggableUrl(url), event: e.id, status: attempt.status, reason: attempt.reason };
      if (attempt.outcome === 'failed') {
        this.d.logger.error(log, 'the ticket webhook refused an event; it is skipped');
        return;
      }
      if (this.d.now() - started > this.d.giveUpMs) {
        this.d.logger.error(log, 'a ticket event could not be delivered for 24 hours; it is skipped');
        return;
      }
      this.d.logger.warn(log, 'ticket webhook delivery failed; retrying');
      await this.pause(attempt.retryAfterMs ?? wait);
      wait = Math.min(wait * 2, MAX_RETRY_MS);
    }
  }
}
