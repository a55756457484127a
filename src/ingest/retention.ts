// Applies the retention caps (--retain-messages, --retain-age, --retain-size) continuously: soon
// after new mail arrives (at most once per interval, so a flood costs one prune per second, not one
// per message) and on a timer, for the age cap. Pruning deletes the oldest messages in bounded
// batches; the live UI is told through `messages:pruned`.
import type { Config } from '../config/schema.ts';
import type { EventBus } from '../events/bus.ts';
import type { Logger } from '../observability/logger.ts';
import type { Storage } from '../storage/ports.ts';

const AFTER_MAIL_MS = 1000;
const TIMER_MS = 60_000;

export interface RetentionDeps {
  storage: Storage;
  events: EventBus;
  logger: Logger;
  config: Pick<Config, 'retainMessages' | 'retainAge' | 'retainSize'>;
  now?: () => number;
}

export class Retention {
  private readonly deps: RetentionDeps;
  private timer: NodeJS.Timeout | null = null;
  private soon: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(deps: RetentionDeps) {
    this.deps = deps;
  }

  get enabled(): boolean {
    const c = this.deps.config;
    return c.retainMessages > 0 || c.retainAge > 0 || c.retainSize > 0;
  }

  start(): void {
    if (!this.enabled) return;
    this.unsubscribe = this.deps.events.on('message:stored', () => this.schedule());
    this.timer = setInterval(() => void this.pruneNow(), TIMER_MS);
    this.timer.unref();
    void this.pruneNow();
  }

  /** One pass over every cap; concurrent calls share it. Returns how many messages went. */
  pruneNow(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    await this.running?.catch(() => {});
  }

  private schedule(): void {
    this.soon ??= setTimeout(() => {
      this.soon = null;
      void this.pruneNow();
    }, AFTER_MAIL_MS);
  }

  private async pass(): Promise<number> {
    const { storage, events, logger, config } = this.deps;
    try {
      const count = await storage.prune({
        maxMessages: config.retainMessages,
        maxAgeMs: config.retainAge,
        maxBytes: config.retainSize,
        now: (this.deps.now ?? Date.now)(),
      });
      if (count > 0) {
        logger.info({ count }, 'retention pruned the oldest messages');
        events.emit('messages:pruned', { count });
      }
      return count;
    } catch (err) {
      logger.error({ err }, 'retention pass failed; will try again');
      return 0;
    }
  }
}
