// MIME parsing off the SMTP hot path: a fixed set of worker threads, each with a heap limit
// (the memory budget) and a per-job timer (the time budget). Parsers have denial-of-service edges
// (deep nesting, huge parts, pathological headers); a job that trips a budget costs only its own
// worker, which is replaced, while the raw bytes stay stored and other jobs carry on.
// Like Postfix's max_idle, a worker with nothing to do for `idleMs` exits and the next job starts a
// new one: an idle server does not keep a V8 isolate per parse worker (ADR 0007).
import { Worker } from 'node:worker_threads';
import type { ParsedMessage } from '../domain/message.ts';
import { copyFor, movable, transferable } from '../runtime/thread-bytes.ts';
import { batchParse } from './batch-parse.ts';
import {
  type BatchParse,
  type MimeParser,
  ParserUnavailableError,
  ParseTimeoutError,
  type PartContent,
} from './types.ts';
import type { JobSuccess, WorkerReply, WorkerRequest } from './worker-protocol.ts';

export interface ParsePoolOptions {
  workers: number;
  /** Wall-clock budget of one job, from the moment a worker picks it up. */
  timeoutMs: number;
  /** Heap budget of each worker (V8 old generation). */
  memoryBytes: number;
  /** Jobs allowed to wait for a worker; beyond this parse() rejects at once. */
  maxQueued?: number;
  /** A worker idle this long exits; the next job starts a new one. 0 keeps workers for ever. */
  idleMs?: number;
}

type Request =
  | { kind: 'parse'; raw: Uint8Array }
  | { kind: 'parseBatch'; raws: Uint8Array[] }
  | { kind: 'extract'; raw: Uint8Array; partId: string };

interface Job {
  id: number;
  request: Request;
  resolve(value: JobSuccess): void;
  reject(err: Error): void;
}

interface Slot {
  /** Null while the slot is retired (idle): the next job dispatched to it starts a worker. */
  worker: Worker | null;
  ready: boolean;
  job: Job | null;
  timer: NodeJS.Timeout | null;
  idleTimer: NodeJS.Timeout | null;
}

const MIB = 1024 * 1024;
const DEFAULT_MAX_QUEUED = 10_000;
const MIN_MEMORY_BYTES = 16 * MIB;

function failure(err: unknown): BatchParse {
  return { ok: false, error: (err as Error).message, retryable: err instanceof ParseTimeoutError };
}

export class ParsePool implements MimeParser {
  private readonly opts: Required<ParsePoolOptions>;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private startupError: Error | null = null;
  private onDrained: (() => void) | null = null;
  private retired = 0;
  private started = 0;

  private constructor(opts: Required<ParsePoolOptions>) {
    this.opts = opts;
  }

  static start(opts: ParsePoolOptions): ParsePool {
    // Measured on Node 24: with 8 MiB a worker cannot boot, and with 2 MiB V8 aborts the whole
    // process instead of failing the worker. Hence a floor, the same as the config's minimum.
    if (!(opts.workers >= 1) || !(opts.timeoutMs > 0) || !(opts.memoryBytes >= MIN_MEMORY_BYTES)) {
      throw new Error('ParsePool needs workers >= 1, timeoutMs > 0 and memoryBytes >= 16 MiB');
    }
    const pool = new ParsePool({ maxQueued: DEFAULT_MAX_QUEUED, idleMs: 0, ...opts });
    for (let i = 0; i < opts.workers; i++) {
      const slot: Slot = { worker: null, ready: false, job: null, timer: null, idleTimer: null };
      pool.slots.push(slot);
      // Started now, so a broken set-up (budget, missing module) shows at start-up, not at the
      // first message; an idle pool then retires them.
      pool.start(slot);
    }
    return pool;
  }

  /** Workers running now (started and not retired or dead). */
  get liveWorkers(): number {
    return this.slots.filter((s) => s.worker).length;
  }

  /** Workers retired for idleness, and started (first ones included), since the pool began. */
  get stats(): { retired: number; started: number } {
    return { retired: this.retired, started: this.started };
  }

  /**
   * Parses in a worker. The pool takes the bytes: when `raw` spans its whole ArrayBuffer, that
   * buffer is transferred to the worker (detached here, no copy); a view into a larger buffer is
   * copied first; shared bytes are shared (src/runtime/thread-bytes.ts).
   */
  async parse(raw: Uint8Array): Promise<ParsedMessage> {
    const reply = await this.submit({ kind: 'parse', raw });
    if (!reply.parsed) throw new Error('parse worker returned no message');
    return reply.parsed;
  }

  /**
   * Parses many messages in one job (one message each way between threads instead of one per
   * message). The job's time budget is the per-message budget times the count. If the job fails
   * as a whole (a budget tripped, the worker died), each message is parsed alone, so only the
   * guilty one ends with the error. The caller's buffers are copied, never taken (shared ones are
   * shared).
   */
  async parseBatch(raws: readonly Uint8Array[]): Promise<BatchParse[]> {
    if (raws.length === 0) return [];
    try {
      const reply = await this.submit({ kind: 'parseBatch', raws: raws.map((r) => copyFor(r)) });
      if (reply.results?.length !== raws.length) throw new Error('parse worker returned a short batch');
      return reply.results;
    } catch (err) {
      if (err instanceof ParserUnavailableError) throw err;
      if (raws.length === 1) return [failure(err)];
      return Promise.all(
        raws.map((raw) =>
          this.parse(copyFor(raw)).then(batchParse, (e: Error): BatchParse => {
            if (e instanceof ParserUnavailableError) throw e;
            return failure(e);
          }),
        ),
      );
    }
  }

  /** Decoded content of one part; `raw` is taken as in parse(). */
  async extractPart(raw: Uint8Array, partId: string): Promise<PartContent | null> {
    const reply = await this.submit({ kind: 'extract', raw, partId });
    return reply.part ?? null;
  }

  /** Refuses new jobs, rejects queued ones, lets running ones finish (each is time-bounded), then stops the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new ParserUnavailableError('parse pool is closed'));
    if (this.slots.some((s) => s.job)) await new Promise<void>((resolve) => (this.onDrained = resolve));
    for (const slot of this.slots) this.clearIdle(slot);
    await Promise.all(this.slots.map((s) => s.worker?.terminate()));
  }

  private submit(request: Request): Promise<JobSuccess> {
    if (this.closed) return Promise.reject(new ParserUnavailableError('parse pool is closed'));
    if (this.startupError) return Promise.reject(this.startupError);
    if (this.queue.length >= this.opts.maxQueued) {
      return Promise.reject(
        new ParserUnavailableError(`parse queue is full (${this.opts.maxQueued} waiting)`),
      );
    }
    const owned: Request =
      request.kind === 'parseBatch' ? request : { ...request, raw: transferable(request.raw) };
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, request: owned, resolve, reject });
      this.dispatch();
    });
  }

  /** Starts a worker in an empty slot. */
  private start(slot: Slot): void {
    slot.worker = this.spawn();
    slot.ready = false;
    this.started++;
    this.watch(slot);
  }

  private spawn(): Worker {
    const mb = Math.max(1, Math.floor(this.opts.memoryBytes / MIB));
    const worker = new Worker(new URL('./parse-worker.ts', import.meta.url), {
      // The young generation is part of the heap too; a small slice of the budget keeps the
      // old-generation limit the one that decides.
      resourceLimits: {
        maxOldGenerationSizeMb: mb,
        maxYoungGenerationSizeMb: Math.max(1, Math.min(8, mb >> 3)),
      },
    });
    return worker;
  }

  /** Listens to the slot's current worker; events from a worker already replaced are ignored. */
  private watch(slot: Slot): void {
    const worker = slot.worker as Worker;
    worker.on('message', (reply: WorkerReply) => this.onReply(slot, worker, reply));
    worker.on('error', (err: Error & { code?: string }) =>
      this.onWorkerDeath(slot, worker, this.deathError(err)),
    );
    worker.on('exit', (code) =>
      this.onWorkerDeath(slot, worker, new Error(`parse worker exited with code ${code}`)),
    );
  }

  private deathError(err: Error & { code?: string }): Error {
    if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      const mib = Number((this.opts.memoryBytes / MIB).toFixed(1));
      return new Error(`parse exceeded the memory budget of ${mib} MiB`);
    }
    return new Error(`parse worker failed: ${err.message}`);
  }

  private onReply(slot: Slot, worker: Worker, reply: WorkerReply): void {
    if (slot.worker !== worker) return;
    if (reply.type === 'ready') {
      slot.ready = true;
      this.scheduleIdle(slot);
    } else {
      const job = slot.job;
      this.release(slot);
      if (job && job.id === reply.id) {
        if (reply.ok) job.resolve(reply);
        else job.reject(new Error(reply.error));
      }
    }
    this.dispatch();
  }

  /** A worker died (heap limit, crash) or was terminated by us: fail its job, replace it. */
  private onWorkerDeath(slot: Slot, worker: Worker, err: Error): void {
    if (slot.worker !== worker) return;
    const job = slot.job;
    const wasReady = slot.ready;
    this.release(slot);
    job?.reject(err);
    if (this.closed) {
      this.checkDrained();
      return;
    }
    if (!wasReady && !job) {
      // Dying before it could take a job means every replacement would too (bad budget, missing module).
      this.startupError = new ParserUnavailableError(`parse worker failed to start: ${err.message}`);
      for (const queued of this.queue.splice(0)) queued.reject(this.startupError);
      return;
    }
    this.replace(slot);
  }

  private replace(slot: Slot): void {
    const old = slot.worker;
    this.clearIdle(slot);
    this.start(slot);
    void old?.terminate();
    this.dispatch();
  }

  private release(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.job = null;
    if (this.closed) this.checkDrained();
    else this.scheduleIdle(slot);
  }

  /** Arms the slot's idle timer: a ready worker with no job exits once it runs out. */
  private scheduleIdle(slot: Slot): void {
    this.clearIdle(slot);
    if (this.opts.idleMs <= 0 || !slot.worker || !slot.ready || slot.job) return;
    slot.idleTimer = setTimeout(() => this.retire(slot), this.opts.idleMs);
    slot.idleTimer.unref();
  }

  private clearIdle(slot: Slot): void {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = null;
  }

  /** The slot's worker exits; its 'exit' event is ignored, as for any worker no longer in a slot. */
  private retire(slot: Slot): void {
    slot.idleTimer = null;
    if (this.closed || !slot.worker || slot.job || !slot.ready) return;
    const old = slot.worker;
    slot.worker = null;
    slot.ready = false;
    this.retired++;
    void old.terminate();
  }

  private checkDrained(): void {
    if (this.onDrained && !this.slots.some((s) => s.job)) this.onDrained();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.closed || this.queue.length === 0) return;
      if (!slot.worker) {
        // A retired slot: start its worker; it takes the job when it says it is ready.
        this.start(slot);
        continue;
      }
      if (!slot.ready || slot.job) continue;
      this.clearIdle(slot);
      const job = this.queue.shift() as Job;
      slot.job = job;
      const r = job.request;
      const count = r.kind === 'parseBatch' ? r.raws.length : 1;
      slot.timer = setTimeout(() => this.onTimeout(slot, job), this.opts.timeoutMs * count);
      const message = { id: job.id, ...r } as WorkerRequest;
      const buffers = movable(r.kind === 'parseBatch' ? r.raws : [r.raw]);
      try {
        (slot.worker as Worker).postMessage(message, buffers);
      } catch (err) {
        this.release(slot);
        job.reject(new Error(`parse job could not be sent to a worker: ${(err as Error).message}`));
      }
    }
  }

  private onTimeout(slot: Slot, job: Job): void {
    if (slot.job !== job) return;
    this.release(slot);
    const r = job.request;
    const ms = this.opts.timeoutMs * (r.kind === 'parseBatch' ? r.raws.length : 1);
    job.reject(new ParseTimeoutError(`parse timed out after ${ms} ms`));
    if (this.closed) {
      void slot.worker?.terminate();
      return;
    }
    this.replace(slot);
  }
}
