// Gives memory back once a burst of work is over. V8's own memory reducer only runs after a full
// collection and only when it has measured a low allocation rate, and in an idle Node.js process
// no collection happens to measure it: after an ingest burst each thread keeps its grown young
// generation and its dead buffers (whose native memory is only freed with their JS wrappers) until
// the next burst. So each thread watches its own event loop and, when a quiet period follows a busy
// one (or its heap grew however quietly), runs one full collection. `gc` is only there when
// the process runs with --expose-gc, which bin/mailroom.js adds for `mailroom start`; without it
// this does nothing. See docs/adr/0007-memory-budget.md.
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';

export interface IdleGcOptions {
  /** How often the loop is looked at. */
  checkMs?: number;
  /** Event-loop utilisation under which a check period counts as idle. */
  idleUtilization?: number;
  /** Growth of the committed heap + external memory since the last collection that makes one worth it. */
  minGrowthBytes?: number;
  /** The collector; the global `gc` of --expose-gc by default. */
  gc?: (() => void) | undefined;
  /** Called after each collection, with the bytes it took and freed (for metrics and tests). */
  onCollect?: (info: { ms: number; freedBytes: number }) => void;
}

export interface IdleGc {
  /** Collections run so far. */
  readonly collections: number;
  stop(): void;
}

const MIB = 1024 * 1024;

/** Committed heap (a grown young generation counts, even when little of it is live) + external. */
function footprint(): number {
  const h = v8.getHeapStatistics();
  return h.total_heap_size + h.external_memory;
}

type ExposedGc = (options?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * The collector exposed by --expose-gc, if any, asked for V8's "last resort" flavour: the same
 * full collection, repeated until nothing more is freed, that also shrinks the young generation
 * back to its minimum and hands the heap's pooled free pages back to the system. A plain `gc()`
 * leaves both (measured: 16 MiB of empty young generation per thread, and freed old-space pages
 * kept resident).
 */
export function exposedGc(): (() => void) | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  if (typeof gc !== 'function') return undefined;
  const collect = gc as ExposedGc;
  return () => collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

/** Starts watching the calling thread; the timer never keeps the thread alive. */
export function startIdleGc(opts: IdleGcOptions = {}): IdleGc {
  const gc = 'gc' in opts ? opts.gc : exposedGc();
  const checkMs = opts.checkMs ?? 2000;
  const idleUtilization = opts.idleUtilization ?? 0.05;
  const minGrowth = opts.minGrowthBytes ?? 4 * MIB;
  let collections = 0;
  if (!gc) return { collections: 0, stop() {} };

  let baseline = footprint();
  // Starting up (loading modules, migrations, opening stores) counts as a busy stretch.
  let busySinceCollection = true;
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const period = performance.eventLoopUtilization(now, last);
    last = now;
    if (period.utilization > idleUtilization) {
      busySinceCollection = true;
      return;
    }
    // Once after every busy stretch (its garbage may sit in a heap that did not grow), or when the
    // heap grew however quietly.
    const before = footprint();
    if (!busySinceCollection && before - baseline < minGrowth) return;
    busySinceCollection = false;
    const started = performance.now();
    gc();
    baseline = footprint();
    collections++;
    opts.onCollect?.({ ms: performance.now() - started, freedBytes: Math.max(0, before - baseline) });
    // The collection itself must not make the next period look busy.
    last = performance.eventLoopUtilization();
  }, checkMs);
  timer.unref();
  return {
    get collections() {
      return collections;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
