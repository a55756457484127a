// Main-thread side of the SQLite writer thread: a promise per op. Ops requested during one turn
// of the event loop travel together in one message (each postMessage wakes the other thread with
// a system call), and the writer answers a whole commit in one message too.
import { Worker } from 'node:worker_threads';
import type { WriteOpName, WriteOps } from './write-ops.ts';
import type { WriterNotice, WriterRequest } from './writer-worker.ts';

/** Young-generation cap of the writer thread, in MiB. */
const WRITER_YOUNG_GENERATION_MB = 8;

type ArgsOf<K extends WriteOpName> = Parameters<WriteOps[K]>[1];
type ResultOf<K extends WriteOpName> = ReturnType<WriteOps[K]>;

export class SqliteWriter {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;
  private outbox: WriterRequest[] = [];
  private outboxTransfer: ArrayBuffer[] = [];
  private flushScheduled = false;
  private exited = false;
  onBatch: ((size: number, ms: number) => void) | null = null;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (msg: WriterNotice) => {
      if (msg.kind !== 'committed') return;
      for (const reply of msg.replies) {
        const w = this.waiting.get(reply.id);
        if (!w) continue;
        this.waiting.delete(reply.id);
        if (reply.ok) w.resolve(reply.value);
        else w.reject(new Error(reply.error));
      }
      if (msg.spooled > 0) this.onBatch?.(msg.spooled, msg.ms);
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      this.exited = true;
      fail(new Error(`SQLite writer thread exited (code ${code})`));
    });
  }

  /** Starts the writer thread; resolves once migrations are applied. */
  static start(file: string): Promise<SqliteWriter> {
    const worker = new Worker(new URL('./writer-worker.ts', import.meta.url), {
      workerData: { file },
      // Left to itself V8 grows a busy thread's young generation to 64 MiB and keeps it; this
      // thread's objects are small and short-lived (docs/adr/0007-memory-budget.md).
      resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB },
    });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      const onExit = (code: number) =>
        reject(new Error(`SQLite writer thread exited during start (code ${code})`));
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.once('message', (msg: WriterNotice) => {
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (msg.kind === 'ready') resolve(new SqliteWriter(worker));
        else reject(new Error('SQLite writer sent an unexpected first message'));
      });
    });
  }

  run<K extends WriteOpName>(op: K, args: ArgsOf<K>, transfer: ArrayBuffer[] = []): Promise<ResultOf<K>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<ResultOf<K>>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.outbox.push({ id, op, args });
      this.outboxTransfer.push(...transfer);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // After this turn's I/O callbacks: every session that finished DATA in it rides along.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outbox.length === 0) return;
    const requests = this.outbox;
    const transfer = this.outboxTransfer;
    this.outbox = [];
    this.outboxTransfer = [];
    try {
      this.worker.postMessage({ kind: 'ops', requests }, transfer);
    } catch (err) {
      for (const r of requests) {
        this.waiting.get(r.id)?.reject(err as Error);
        this.waiting.delete(r.id);
      }
    }
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    // Ops still waiting for this turn's flush go first; the writer commits them before closing.
    if (this.outbox.length > 0) this.flush();
    this.worker.postMessage({ kind: 'close' });
    await exited;
  }
}
