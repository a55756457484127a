// The SQLite writer thread. It owns the only write connection; the main thread posts ops and
// awaits replies. Ops that arrive while a commit (and its fsync) runs are queued by the message
// port and then committed together in the next transaction: group commit without a timer, and
// the fsync never blocks the main thread's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { migrate, openDatabase } from './open.ts';
import { type WriteOpName, writeOps } from './write-ops.ts';

export interface WriterRequest {
  id: number;
  op: WriteOpName;
  args: unknown;
}
export type WriterReply = { id: number; ok: true; value: number } | { id: number; ok: false; error: string };
export type WriterNotice = { kind: 'ready'; migrated: number } | { kind: 'batch'; size: number; ms: number };

const port = parentPort!;
const db = openDatabase((workerData as { file: string }).file);
port.postMessage({ kind: 'ready', migrated: migrate(db) } satisfies WriterNotice);

let queue: WriterRequest[] = [];
let scheduled = false;

function drain(): void {
  scheduled = false;
  const batch = queue;
  queue = [];
  const started = performance.now();
  const replies: WriterReply[] = [];
  try {
    db.exec('BEGIN IMMEDIATE');
    for (const req of batch) {
      // A savepoint per op: one failing op (a constraint, say) fails alone, not its batch mates.
      db.exec('SAVEPOINT op');
      try {
        const fn = writeOps[req.op] as (d: typeof db, a: unknown) => number;
        replies.push({ id: req.id, ok: true, value: fn(db, req.args) });
        db.exec('RELEASE op');
      } catch (err) {
        db.exec('ROLLBACK TO op');
        db.exec('RELEASE op');
        replies.push({ id: req.id, ok: false, error: (err as Error).message });
      }
    }
    db.exec('COMMIT');
  } catch (err) {
    // The commit itself failed (disk full, I/O error): nothing in the batch is durable.
    try {
      db.exec('ROLLBACK');
    } catch {}
    const error = `commit failed: ${(err as Error).message}`;
    for (const req of batch) port.postMessage({ id: req.id, ok: false, error } satisfies WriterReply);
    return;
  }
  for (const r of replies) port.postMessage(r);
  port.postMessage({
    kind: 'batch',
    size: batch.length,
    ms: performance.now() - started,
  } satisfies WriterNotice);
}

port.on('message', (req: WriterRequest | { kind: 'close' }) => {
  if ('kind' in req) {
    if (queue.length > 0) drain();
    db.close();
    port.close();
    return;
  }
  queue.push(req);
  if (!scheduled) {
    scheduled = true;
    setImmediate(drain);
  }
});
