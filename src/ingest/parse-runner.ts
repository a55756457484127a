// Parses every spooled message, off the SMTP path: the backlog at start, each message announced
// on the local bus, and (by polling) messages spooled by other nodes sharing the database. A
// message that cannot be parsed is still saved, with its error, so it stays listed and its raw
// bytes stay downloadable.
import type { EventBus } from '../events/bus.ts';
import type { MimeParser } from '../mime/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Storage } from '../storage/ports.ts';

export interface ParseRunnerDeps {
  storage: Storage;
  parser: MimeParser;
  events: EventBus;
  metrics: Metrics;
  logger: Logger;
  /** Messages parsed at once; match the parser's worker count to keep every worker busy. */
  concurrency: number;
  /** How often to look for pending messages that no local event announced. */
  pollMs?: number;
}

const DEFAULT_POLL_MS = 2000;
const POLL_BATCH = 500;

type ParseOutcome = Parameters<Storage['saveParsed']>[1];

export class ParseRunner {
  private readonly deps: ParseRunnerDeps;
  /** Ids waiting for a slot, in order; `known` also holds the ones being parsed, so none runs twice. */
  private readonly waiting: string[] = [];
  private readonly known = new Set<string>();
  private running = 0;
  private stopped = true;
  private polling = false;
  /** The last poll filled its batch, so more pending messages are likely behind it. */
  private backlog = false;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private onIdle: (() => void) | null = null;

  constructor(deps: ParseRunnerDeps) {
    this.deps = deps;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe = this.deps.events.on('message:stored', ({ id }) => this.enqueue(id));
    this.timer = setInterval(() => void this.poll(), this.deps.pollMs ?? DEFAULT_POLL_MS);
    this.timer.unref();
    void this.poll();
  }

  /** Stops taking work and waits for the parses in flight to be saved. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const id of this.waiting.splice(0)) this.known.delete(id);
    if (this.running > 0) await new Promise<void>((resolve) => (this.onIdle = resolve));
  }

  private enqueue(id: string): void {
    if (this.stopped || this.known.has(id)) return;
    this.known.add(id);
    this.waiting.push(id);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.running < this.deps.concurrency && this.waiting.length > 0) {
      const id = this.waiting.shift() as string;
      this.running++;
      void this.parseOne(id).finally(() => this.done(id));
    }
  }

  private done(id: string): void {
    this.known.delete(id);
    this.running--;
    if (this.running === 0 && this.onIdle) this.onIdle();
    this.pump();
    if (this.backlog && this.waiting.length === 0) void this.poll();
  }

  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const ids = await this.deps.storage.pendingParse(POLL_BATCH);
      this.backlog = ids.length === POLL_BATCH;
      for (const id of ids) this.enqueue(id);
    } catch (err) {
      this.deps.logger.error({ err }, 'listing messages to parse failed');
    } finally {
      this.polling = false;
    }
  }

  private async parseOne(id: string): Promise<void> {
    const { storage, parser, metrics, events } = this.deps;
    const log = this.deps.logger.child({ message: id });
    try {
      const raw = await storage.getRaw(id);
      if (!raw) return; // deleted between being announced and being picked up
      const size = raw.byteLength;
      const started = performance.now();
      let outcome: ParseOutcome;
      try {
        outcome = { ok: true, parsed: await parser.parse(raw) };
      } catch (err) {
        outcome = { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
      const seconds = (performance.now() - started) / 1000;
      await storage.saveParsed(id, outcome);
      metrics.parseSeconds.observe(seconds);
      metrics.parsed.inc({ outcome: outcome.ok ? 'parsed' : 'failed' });
      events.emit('message:parsed', { id, ok: outcome.ok });
      if (outcome.ok) log.debug({ seconds, size }, 'message parsed');
      else
        log.warn({ seconds, size, error: outcome.error }, 'message could not be parsed; kept with its error');
    } catch (err) {
      // Left pending: the next poll tries again.
      log.error({ err }, 'saving the parse result failed');
    }
  }
}
