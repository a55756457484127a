// The SQLite writer thread. It owns the only write connection; the main thread posts ops and
// awaits replies. Ops that arrive while a commit (and its fsync) runs are queued by the message
// port and then committed together in the next transaction: group commit without a timer, and
// the fsync never blocks the main thread's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { startIdleGc } from '../../runtime/idle-gc.ts';
import { Checkpoints } from './checkpoints.ts';
import { migrate, openDatabase } from './open.ts';
import { registerSearchFunctions } from './search-sql.ts';
import { stmt } from './statements.ts';
import { REBUILDABLE_OPS, UNSYNCED_OPS, type WriteOpName, writeOps } from './write-ops.ts';

export interface WriterRequest {
  id: number;
  op: WriteOpName;
  args: unknown;
}
export type WriterReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
/** Main thread → writer. */
export type WriterMessage = { kind: 'ops'; requests: WriterRequest[] } | { kind: 'close' };
/** Writer → main thread: readiness, then one message per commit with every reply in it. */
export type WriterNotice =
  | { kind: 'ready'; migrated: number }
  /** `spooled`: spool appends in the commit, the group-commit size both adapters report. */
  | { kind: 'committed'; replies: WriterReply[]; spooled: number; ms: number };

const port = parentPort!;
const db = openDatabase((workerData as { file: string }).file);
registerSearchFunctions(db);
startIdleGc();
port.postMessage({ kind: 'ready', migrated: migrate(db) } satisfies WriterNotice);
const checkpoints = new Checkpoints(db);

/**
 * Rebuildable ops (parse results) wait up to this long for company when nothing durable is queued,
 * then commit together. Each SQLite transaction rewrites whole pages into the WAL, so one commit
 * per parse result cost more CPU than the parsing itself.
 */
const REBUILDABLE_DELAY_MS = 20;
/**
 * Rebuildable records (parsed messages) this many commit at once instead of waiting for the timer:
 * a full parse batch is company enough, and a backlog being parsed must not wait 20 ms per batch.
 */
const REBUILDABLE_BATCH = 64;
/**
 * Durable ops (spool appends: a client waits for each one's 250) never queue behind a backlog of
 * rebuildable ones. A commit takes every durable op waiting plus this many rebuildable ops (as
 * riders, one fsync for both), or only these when nothing durable waits; the rest go in later
 * commits, between durable ones. A saveParsed op carries a parse batch (up to 64 messages, about
 * 2 ms of index writes), so a spool commit waits at most that long for parse results (ADR 0013).
 */
const REBUILDABLE_PER_COMMIT = 1;

/** Durable ops in arrival order. */
let durable: WriterRequest[] = [];
/** Rebuildable ops in arrival order. */
let rebuildable: WriterRequest[] = [];
/** Records in `rebuildable` (a saveParsed op carries a batch of them). */
let rebuildableRecords = 0;
let scheduled = false;
let lazyTimer: NodeJS.Timeout | null = null;
let synchronous: 'FULL' | 'NORMAL' = 'FULL';

/** How many records a rebuildable op carries: a saveParsed op's batch, else one. */
function records(r: WriterRequest): number {
  return Array.isArray(r.args) ? r.args.length : 1;
}

/** FULL (fsync at commit) unless every op in the batch is rebuildable or needs no fsync. */
function setSynchronous(batch: WriterRequest[]): void {
  const wanted = batch.every((r) => REBUILDABLE_OPS.has(r.op) || UNSYNCED_OPS.has(r.op)) ? 'NORMAL' : 'FULL';
  if (wanted === synchronous) return;
  db.exec(`PRAGMA synchronous = ${wanted}`);
  synchronous = wanted;
}

/** The next transaction's ops: durable ones first in line, rebuildable ones bounded. */
function nextBatch(): WriterRequest[] {
  const riders = rebuildable.slice(0, REBUILDABLE_PER_COMMIT);
  const batch = durable.concat(riders);
  durable = [];
  rebuildable = rebuildable.slice(REBUILDABLE_PER_COMMIT);
  for (const r of riders) rebuildableRecords -= records(r);
  return batch;
}

function schedule(): void {
  if (scheduled) return;
  if (durable.length > 0 || rebuildableRecords >= REBUILDABLE_BATCH) {
    scheduled = true;
    if (lazyTimer) clearTimeout(lazyTimer);
    lazyTimer = null;
    // setImmediate: port messages that arrived meanwhile are taken first (poll phase), so a
    // durable op that came in during the last commit goes in the next one.
    setImmediate(drain);
  } else if (rebuildable.length > 0) lazyTimer ??= setTimeout(drain, REBUILDABLE_DELAY_MS);
}

function drain(): void {
  scheduled = false;
  if (lazyTimer) clearTimeout(lazyTimer);
  lazyTimer = null;
  const batch = nextBatch();
  if (batch.length > 0) commit(batch);
  // What is left is committed next: at once while durable ops or a backlog wait, else on the timer.
  if (rebuildable.length > 0 && durable.length === 0 && !scheduled) {
    scheduled = true;
    setImmediate(drain);
  } else schedule();
}

function commit(batch: WriterRequest[]): void {
  const started = performance.now();
  const replies: WriterReply[] = [];
  try {
    setSynchronous(batch);
    db.exec('BEGIN IMMEDIATE');
    for (const req of batch) {
      // A savepoint per op: one failing op (a constraint, say) fails alone, not its batch mates.
      stmt(db, 'SAVEPOINT op').run();
      try {
        const fn = writeOps[req.op] as (d: typeof db, a: unknown) => unknown;
        replies.push({ id: req.id, ok: true, value: fn(db, req.args) });
        stmt(db, 'RELEASE op').run();
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
    const failed = batch.map((req): WriterReply => ({ id: req.id, ok: false, error }));
    port.postMessage({ kind: 'committed', replies: failed, spooled: 0, ms: 0 } satisfies WriterNotice);
    return;
  }
  const ms = performance.now() - started;
  const spooled = batch.filter((r) => r.op === 'appendSpool').length;
  port.postMessage({ kind: 'committed', replies, spooled, ms } satisfies WriterNotice);
  if (spooled > 0) checkpoints.spoolCommitted();
}

port.on('message', (msg: WriterMessage) => {
  if (msg.kind === 'close') {
    while (durable.length > 0 || rebuildable.length > 0) commit(nextBatch());
    checkpoints.stop();
    db.close();
    port.close();
    return;
  }
  for (const r of msg.requests) {
    if (!REBUILDABLE_OPS.has(r.op)) durable.push(r);
    else {
      rebuildable.push(r);
      rebuildableRecords += records(r);
    }
  }
  schedule();
});
