// Parses every spooled message, off the SMTP path: the backlog at start, each message announced
// on the local bus, and (by polling) messages spooled by other nodes sharing the database. A
// message that cannot be parsed is still saved, with its error, so it stays listed and its raw
// bytes stay downloadable.
import type { Envelope, ParsedMessage, SpoolEntry } from '../domain/message.ts';
import type { EventBus } from '../events/bus.ts';
import type { BatchParse, MimeParser } from '../mime/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { ParsedRecord, Storage } from '../storage/ports.ts';
import { BURST_GAP_MS, Burst } from './burst.ts';
import type { Tagger } from './tagger.ts';

export interface ParseRunnerDeps {
  storage: Storage;
  parser: MimeParser;
  events: EventBus;
  /** Gives parsed messages their automatic tags; none when absent. */
  tagger?: Tagger;
  /**
   * Told once each batch is saved, with the saved messages that announce a delivery or feedback
   * report, their bytes and parsed form (the reports about our own mail are read there). Its
   * failures are logged; the parse stays saved.
   */
  onSaved?: (saved: { id: string; raw: Uint8Array; parsed: ParsedMessage }[]) => Promise<void>;
  metrics: Metrics;
  logger: Logger;
  /** Batches in flight; about twice the parser's worker count keeps every worker busy. */
  concurrency: number;
  /** How often to look for pending messages that no local event announced. */
  pollMs?: number;
  /** First pause before a parse that missed its time budget is tried again (grows per attempt). */
  retryDelayMs?: number;
  /** How long a batch that is not full waits for more messages (0: none). */
  settleMs?: number;
  /**
   * Ingest first: while this process's spool commits a burst, parsing waits, at most this long
   * for any message (0: never waits). See Burst.
   */
  deferMs?: number;
  /** The clock, for tests; performance.now by default. */
  now?: () => number;
}

const DEFAULT_POLL_MS = 2000;
/** A batch that is not full waits this long for more messages before it goes to a worker. */
const SETTLE_MS = 5;
const POLL_BATCH = 500;
/** Messages per round trip to a parse worker: amortises thread hand-offs, keeps batches short. */
const BATCH_MESSAGES = 64;
/** Handed-over bytes per batch, so one batch of large messages stays within its time budget. */
const BATCH_BYTES = 4 * 1024 * 1024;
/** Attempts for a parse that missed its time budget before the failure is recorded. */
const MAX_ATTEMPTS = 3;
const RETRY_DELAY_MS = 5000;
/**
 * Bytes of just-spooled messages kept in memory so they need not be read back from storage. When
 * parsing keeps up, 8 MiB is thousands of small messages; when it falls behind (PostgreSQL during a
 * burst) the backlog is read back in batches anyway, and a larger budget only raised the process's
 * memory after the burst (32 MiB: +40 MB RSS at 50,000 messages, ADR 0007).
 */
const HANDOFF_BUDGET = 8 * 1024 * 1024;

export class ParseRunner {
  private readonly deps: ParseRunnerDeps;
  /** Ids waiting for a slot, in order; `known` also holds the ones being parsed, so none runs twice. */
  private readonly waiting: string[] = [];
  /** When each id in `waiting` was queued (same index), for the deferral's bound. */
  private readonly queuedAt: number[] = [];
  /** Index of the next id in `waiting` to take. */
  private head = 0;
  private readonly burst = new Burst();
  private deferTimer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly known = new Set<string>();
  /** Messages handed over by the spool, by id, within HANDOFF_BUDGET; read from storage otherwise. */
  private readonly handed = new Map<string, SpoolEntry>();
  private handedBytes = 0;
  /** Time-budget misses so far, by id; a busy machine may be the cause, so they are retried. */
  private readonly attempts = new Map<string, number>();
  /** Retries decided inside a batch, armed once that batch is done (its ids leave `known`). */
  private readonly retryAfterBatch = new Map<string, number>();
  private running = 0;
  private stopped = true;
  private polling = false;
  /** The last poll filled its batch, so more pending messages are likely behind it. */
  private backlog = false;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private onIdle: (() => void) | null = null;
  private settle: NodeJS.Timeout | null = null;
  private readonly settleMs: number;

  constructor(deps: ParseRunnerDeps) {
    this.deps = deps;
    this.settleMs = deps.settleMs ?? SETTLE_MS;
    this.now = deps.now ?? (() => performance.now());
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
    if (this.settle) clearTimeout(this.settle);
    this.settle = null;
    if (this.deferTimer) clearTimeout(this.deferTimer);
    this.deferTimer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    // Ids before `head` are in flight and leave `known` when their batch is done.
    for (const id of this.waiting.slice(this.head)) this.known.delete(id);
    this.waiting.length = 0;
    this.queuedAt.length = 0;
    this.head = 0;
    this.handed.clear();
    this.handedBytes = 0;
    if (this.running > 0) await new Promise<void>((resolve) => (this.onIdle = resolve));
  }

  /**
   * A message this process just committed, with its bytes: parsing it then costs no read of the
   * raw bytes back from storage (a synchronous read on the main thread for SQLite).
   */
  offer(id: string, raw: Uint8Array, envelope: Envelope): void {
    this.burst.committed(this.now());
    if (this.stopped || this.known.has(id)) return;
    if (this.handedBytes + raw.byteLength <= HANDOFF_BUDGET) {
      this.handed.set(id, { id, raw, envelope });
      this.handedBytes += raw.byteLength;
    }
    this.enqueue(id);
  }

  /** The batch's messages: those handed over, and the rest read from storage in one go. */
  private async entries(ids: readonly string[]): Promise<SpoolEntry[]> {
    const found: SpoolEntry[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const entry = this.handed.get(id);
      if (!entry) {
        missing.push(id);
        continue;
      }
      this.handed.delete(id);
      this.handedBytes -= entry.raw.byteLength;
      found.push(entry);
    }
    // Messages deleted between being announced and picked up are simply not there.
    if (missing.length > 0) found.push(...(await this.deps.storage.toParse(missing)));
    return found;
  }

  private enqueue(id: string): void {
    if (this.stopped || this.known.has(id)) return;
    this.known.add(id);
    this.waiting.push(id);
    this.queuedAt.push(this.now());
    this.pump();
  }

  /**
   * Starts batches while there is room: each batch is one round trip to a parse worker. A batch
   * that is not full waits SETTLE_MS for company first, so that mail arriving one message at a
   * time is parsed a few at a time (each round trip wakes two threads, the save a third).
   */
  private pump(): void {
    if (this.waiting.length - this.head < BATCH_MESSAGES && this.settleMs > 0) {
      this.settle ??= setTimeout(() => {
        this.settle = null;
        this.startBatches();
      }, this.settleMs).unref();
      return;
    }
    this.startBatches();
  }

  private startBatches(): void {
    while (!this.stopped && this.running < this.deps.concurrency && this.waiting.length > this.head) {
      if (this.deferring()) return;
      const ids = this.takeBatch();
      this.running++;
      void this.parseBatch(ids).finally(() => this.done(ids));
    }
  }

  /**
   * True while a burst goes on and the oldest waiting message has waited less than deferMs; then
   * a timer looks again shortly (the burst's end is seen BURST_GAP_MS after its last commit).
   */
  private deferring(): boolean {
    const deferMs = this.deps.deferMs ?? 0;
    if (deferMs <= 0) return false;
    const now = this.now();
    const waited = now - this.queuedAt[this.head]!;
    if (waited >= deferMs || !this.burst.active(now)) return false;
    this.deferTimer ??= setTimeout(
      () => {
        this.deferTimer = null;
        this.startBatches();
      },
      Math.min(BURST_GAP_MS, deferMs - waited),
    ).unref();
    return true;
  }

  /** Up to BATCH_MESSAGES ids, fewer when the handed-over bytes pass BATCH_BYTES. */
  private takeBatch(): string[] {
    const ids: string[] = [];
    let bytes = 0;
    while (this.head < this.waiting.length && ids.length < BATCH_MESSAGES && bytes < BATCH_BYTES) {
      const id = this.waiting[this.head++]!;
      ids.push(id);
      bytes += this.handed.get(id)?.raw.byteLength ?? 0;
    }
    // Drop the consumed prefix now and then rather than shifting an array per message.
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.queuedAt.splice(0, this.head);
      this.head = 0;
    }
    return ids;
  }

  private done(ids: readonly string[]): void {
    for (const id of ids) {
      this.known.delete(id);
      const delay = this.retryAfterBatch.get(id);
      if (delay === undefined) continue;
      this.retryAfterBatch.delete(id);
      setTimeout(() => this.enqueue(id), delay).unref();
    }
    this.running--;
    if (this.running === 0 && this.onIdle) this.onIdle();
    this.pump();
    if (this.backlog && this.waiting.length === this.head) void this.poll();
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

  /** True when a retryable failure gets another attempt later instead of being recorded now. */
  private retryLater(r: { id: string; result: BatchParse }): boolean {
    if (r.result.ok || !r.result.retryable) return false;
    const attempt = (this.attempts.get(r.id) ?? 0) + 1;
    if (attempt >= MAX_ATTEMPTS) return false;
    this.attempts.set(r.id, attempt);
    this.deps.logger.info({ message: r.id, attempt, error: r.result.error }, 'parse will be tried again');
    this.retryAfterBatch.set(r.id, (this.deps.retryDelayMs ?? RETRY_DELAY_MS) * attempt);
    return true;
  }

  /** The tagger's tags for a parse. */
  private tagsFor(id: string, raw: Uint8Array, result: BatchParse, envelope: Envelope): string[] | undefined {
    const { tagger } = this.deps;
    if (!tagger || !result.ok) return undefined;
    const { search, columns } = result.stored;
    try {
      return tagger.tagsOf(
        { facts: result.facts, search, attachments: columns.attachment_count, inline: columns.inline_count },
        envelope,
        raw.byteLength,
      );
    } catch (err) {
      this.deps.logger.warn({ message: id, err }, 'tagging failed; message stored without tags');
      return undefined;
    }
  }

  private async parseBatch(ids: readonly string[]): Promise<void> {
    const { storage, parser, metrics, events, logger } = this.deps;
    try {
      const found = await this.entries(ids);
      if (found.length === 0) return;
      const started = performance.now();
      const results = await parser.parseBatch(found.map((f) => f.raw));
      const perMessage = (performance.now() - started) / 1000 / found.length;
      const final = found.map((f, i) => ({ ...f, result: results[i]! })).filter((r) => !this.retryLater(r));
      const records: ParsedRecord[] = [];
      for (const { id, raw, envelope, result } of final) {
        const tags = this.tagsFor(id, raw, result, envelope);
        records.push({ id, result: result.ok ? { ok: true, stored: result.stored } : result, tags });
      }
      await storage.saveParsed(records);
      for (const { id, raw, result } of final) {
        this.attempts.delete(id);
        metrics.parseSeconds.observe(perMessage);
        metrics.parsed.inc({ outcome: result.ok ? 'parsed' : 'failed' });
        events.emit('message:parsed', { id, ok: result.ok });
        if (!result.ok) {
          logger.warn(
            { message: id, size: raw.byteLength, error: result.error },
            'message could not be parsed; kept with its error',
          );
        }
      }
      logger.debug({ messages: found.length, seconds: perMessage * found.length }, 'messages parsed');
      if (this.deps.onSaved) {
        const saved = final.flatMap(({ id, raw, result }) =>
          result.ok && result.report ? [{ id, raw, parsed: result.report }] : [],
        );
        await this.deps.onSaved(saved).catch((err) => logger.error({ err }, 'after-parse step failed'));
      }
    } catch (err) {
      // Left pending (parser unavailable, or the save failed): the next poll tries again.
      logger.error({ messages: ids, err }, 'parsing or saving a batch failed; left pending');
    }
  }
}
