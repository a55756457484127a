// Main-thread side of the SQLite writer thread: a promise per op.
import { Worker } from 'node:worker_threads';
import type { WriteOpName, WriteOps } from './write-ops.ts';
import type { WriterNotice, WriterReply } from './writer-worker.ts';

type ArgsOf<K extends WriteOpName> = Parameters<WriteOps[K]>[1];

export class SqliteWriter {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: number) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;
  onBatch: ((size: number, ms: number) => void) | null = null;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (msg: WriterReply | WriterNotice) => {
      if ('kind' in msg) {
        if (msg.kind === 'batch') this.onBatch?.(msg.size, msg.ms);
        return;
      }
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.ok) w.resolve(msg.value);
      else w.reject(new Error(msg.error));
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`SQLite writer thread exited (code ${code})`)));
  }

  /** Starts the writer thread; resolves once migrations are applied. */
  static start(file: string): Promise<SqliteWriter> {
    const worker = new Worker(new URL('./writer-worker.ts', import.meta.url), { workerData: { file } });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      worker.once('error', onError);
      worker.once('message', (msg: WriterNotice) => {
        worker.off('error', onError);
        if (msg.kind === 'ready') resolve(new SqliteWriter(worker));
        else reject(new Error('SQLite writer sent an unexpected first message'));
      });
    });
  }

  run<K extends WriteOpName>(op: K, args: ArgsOf<K>, transfer: ArrayBuffer[] = []): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, args }, transfer);
    });
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage({ kind: 'close' });
    await exited;
  }
}
