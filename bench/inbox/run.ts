// bench/inbox: how the inbox holds up with a full store. Fills Mailroom (SQLite, then PostgreSQL)
// with a realistic corpus over SMTP, then measures, one request at a time over keep-alive: list
// pages and Mailpit-syntax searches (p50/p95/p99), the server's resident memory at idle and at
// peak while those run, and the web UI's time to its first message row in Chromium. The peers run
// the same corpus and requests side by side: Mailpit when its binary is available, and MailDev 3
// (installed on demand into the user's cache directory), each through its own API.
//
//   node bench/inbox/run.ts [--messages 100000] [--engines sqlite,postgres] [--requests 200]
//                           [--warmup 20] [--connections 32] [--ui-loads 5] [--seed 1]
//                           [--explain auto|all|off] [--peers mailpit,maildev] [--skip-peer]
//
// Prints one table per server (metric, value, target, PASS/FAIL) and writes the results as JSON to
// bench/results/.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { spawnMailroom } from '../../test/helpers/process.ts';
import { Corpus, type SearchView } from './corpus.ts';
import { type Diagnosis, diagnosePostgres, diagnoseSqlite, formatDiagnoses } from './explain.ts';
import { timeRequests } from './latency.ts';
import { findMailpit, startMailpit } from './peer.ts';
import {
  findMaildev,
  MAILDEV_ROW_SELECTOR,
  type MaildevPage,
  markReadWhere,
  startMaildev,
  summaryKey,
  viewKey,
} from './peer-maildev.ts';
import { type ScratchDatabase, scratchDatabase, vacuumUnlessAutovacuum } from './postgres.ts';
import {
  Expectations,
  maildevMatcher,
  maildevNote,
  maildevPath,
  QUERIES,
  type QueryContext,
  type QueryDef,
  queryPath,
  READ_TAG,
} from './queries.ts';
import {
  formatComparison,
  formatTarget,
  type QueryResult,
  TARGETS,
  type TargetResult,
  writeJson,
} from './report.ts';
import { RssSampler, readMemory } from './rss.ts';
import { fill } from './smtp-fill.ts';
import { measureUi } from './ui.ts';

/** A usage error: say what is wrong and stop, without a stack trace. */
function usage(message: string): never {
  process.stderr.write(`bench/inbox: ${message}\n(see bench/inbox/README.md for the flags)\n`);
  process.exit(2);
}

function readArgs() {
  try {
    return parseArgs({
      options: {
        messages: { type: 'string', default: '100000' },
        engines: { type: 'string', default: 'sqlite,postgres' },
        requests: { type: 'string', default: '200' },
        warmup: { type: 'string', default: '20' },
        connections: { type: 'string', default: '32' },
        'ui-loads': { type: 'string', default: '5' },
        seed: { type: 'string', default: '1' },
        explain: { type: 'string', default: 'auto' },
        peers: { type: 'string', default: 'mailpit,maildev' },
        'skip-peer': { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    return usage((err as Error).message);
  }
}
const { values } = readArgs();

function positive(name: string, min = 1): number {
  const v = Number(values[name as keyof typeof values]);
  if (!Number.isInteger(v) || v < min) usage(`--${name} must be a whole number of at least ${min}`);
  return v;
}

const MESSAGES = positive('messages');
const REQUESTS = positive('requests');
const WARMUP = positive('warmup', 0);
const CONNECTIONS = positive('connections');
const UI_LOADS = positive('ui-loads');
const SEED = positive('seed', 0);
const EXPLAIN = String(values.explain);
if (!['auto', 'all', 'off'].includes(EXPLAIN)) usage('--explain must be auto, all or off');
/** A comma-separated flag whose items must each be one of `allowed`. */
function listFlag(name: 'engines' | 'peers', what: string, allowed: readonly string[]): string[] {
  const items = String(values[name])
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const x of items) if (!allowed.includes(x)) usage(`unknown ${what} "${x}" (${allowed.join(', ')})`);
  return items;
}
const ENGINES = listFlag('engines', 'engine', ['sqlite', 'postgres']);
const PEERS = listFlag('peers', 'peer', ['mailpit', 'maildev']);

const t0 = performance.now();
function log(line: string): void {
  process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
}

// --- Clean-up: servers, scratch databases and directories go away on any exit. ---------------

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void> | void)[] = [];

function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

let cleaning: Promise<void> | null = null;
/** Set by SIGINT/SIGTERM: nothing new is started after it. */
let aborted = false;

/** Runs the pending clean-ups, newest first; concurrent callers share one run. */
function runCleanups(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      const fn = cleanups.pop()!;
      try {
        await fn();
      } catch (err) {
        log(`clean-up step failed: ${(err as Error).message}`);
      }
    }
  })().finally(() => {
    cleaning = null;
  });
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    aborted = true;
    log(`${signal}: stopping servers and removing scratch data`);
    void runCleanups().finally(() => process.exit(130));
  });
}
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

// --- HTTP helpers. ------------------------------------------------------------------------------

interface ListJson {
  total: number;
  unread: number;
  messages_count: number;
  messages: { Created: string }[];
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** Sum of mailroom_messages_parsed_total over its labels; null when the server has no such metric. */
async function parsedCount(base: string): Promise<number | null> {
  const res = await fetch(`${base}/metrics`);
  const text = await res.text();
  if (!res.ok) return null;
  let parsed: number | null = null;
  for (const m of text.matchAll(/^mailroom_messages_parsed_total(?:\{[^}]*\})? (\d+)/gm)) {
    parsed = (parsed ?? 0) + Number(m[1]);
  }
  return parsed;
}

/** One look at a server while it fills: what it stores, and a search for the last message. */
interface SearchableProbe {
  stored: number;
  /** Everything is stored (and parsed, where the server says so): time to search. */
  ready: boolean;
  /** More to say in the progress line (e.g. how many are parsed). */
  detail?: string;
  /** Searches for the corpus marker; only run once `ready`, so polling does not load the server. */
  find(): Promise<boolean>;
}

/** Polls `probe` until the last message is found; returns the seconds it took. */
async function pollSearchable(corpus: Corpus, probe: () => Promise<SearchableProbe>): Promise<number> {
  const started = performance.now();
  const timeoutMs = Math.max(120_000, corpus.count * 5);
  let lastLog = started;
  for (;;) {
    const p = await probe();
    if (p.stored > corpus.count)
      throw new Error(`the store holds ${p.stored} messages, ${corpus.count} were sent`);
    if (p.ready && (await p.find())) return (performance.now() - started) / 1000;
    const now = performance.now();
    const state = `stored ${p.stored}/${corpus.count}${p.detail ? `, ${p.detail}` : ''}, last message ${p.ready ? 'not found yet' : 'not searched yet'}`;
    if (now - started > timeoutMs) throw new Error(`not searchable after ${timeoutMs / 1000} s: ${state}`);
    if (now - lastLog > 5000) {
      log(`  waiting: ${state}`);
      lastLog = now;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Waits until the server lists every message, has parsed them all (when it reports parsing), and
 * finds the last message's marker word. Returns the seconds this took.
 */
function waitSearchable(base: string, corpus: Corpus): Promise<number> {
  return pollSearchable(corpus, async () => {
    const list = await getJson<ListJson>(`${base}/api/v1/messages?limit=1`);
    const parsed = await parsedCount(base);
    return {
      stored: list.total,
      ready: list.total === corpus.count && (parsed === null || parsed >= corpus.count),
      detail: `parsed ${parsed ?? 'n/a'}`,
      find: async () =>
        (await getJson<ListJson>(`${base}/api/v1/search?limit=1&query=${corpus.marker}`)).messages_count > 0,
    };
  });
}

/** Marks the messages tagged READ_TAG as read, so is:unread has something to leave out. */
async function markSomeRead(base: string): Promise<void> {
  const res = await fetch(`${base}/api/v1/messages`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ Search: `tag:${READ_TAG}`, Read: true }),
  });
  const text = await res.text();
  if (!res.ok)
    throw new Error(`PUT /api/v1/messages (mark tag:${READ_TAG} read): ${res.status} ${text.slice(0, 300)}`);
}

/** Created times of two stored messages, a quarter and three quarters of the way back. */
async function queryContext(base: string, count: number): Promise<QueryContext> {
  const at = async (start: number) => {
    const page = await getJson<ListJson>(`${base}/api/v1/messages?limit=1&start=${start}`);
    const created = page.messages[0]?.Created;
    if (!created) throw new Error(`no message at position ${start}`);
    return created;
  };
  const before = await at(Math.floor(count / 4));
  const after = await at(Math.min(count - 1, Math.floor((count * 3) / 4)));
  return { count, after, before };
}

// --- API dialects: how a server is asked. -----------------------------------------------------

/** How the benchmark talks to one server's API. */
interface Dialect {
  /** Semantics the server's match counts are held to. */
  expectations: () => Expectations;
  /** Sees every message as it is sent (for what `markRead` needs to know). */
  observe?: (view: SearchView) => void;
  /** Waits until every message is stored and the last is found; returns the seconds it took. */
  waitSearchable: (base: string, corpus: Corpus) => Promise<number>;
  /** Marks the READ_TAG messages read; returns a warning when that went wrong. */
  markRead: (base: string) => Promise<string | null>;
  context: (base: string, count: number) => Promise<QueryContext>;
  /** The request path of a query; null when this server cannot ask it. */
  path: (q: QueryDef, ctx: QueryContext) => string | null;
  /** Messages the server says match (the store's total for plain lists), and how many came back. */
  read: (json: unknown, isList: boolean) => { matched: number; returned: number };
  /** Whether counts are checked on rows that carry a note (their expectation follows the server). */
  checkNoted: boolean;
}

/** Mailroom's API, which is Mailpit's (/api/v1). */
const MAILPIT_API: Dialect = {
  expectations: () => new Expectations(),
  waitSearchable,
  markRead: async (base) => {
    await markSomeRead(base);
    return null;
  },
  context: queryContext,
  path: queryPath,
  read: (json, isList) => {
    const list = json as ListJson;
    return { matched: isList ? list.total : list.messages_count, returned: list.messages.length };
  },
  checkNoted: false,
};

/** Waits until MailDev holds every message and its search finds the last one. */
function maildevSearchable(base: string, corpus: Corpus): Promise<number> {
  return pollSearchable(corpus, async () => {
    const page = await getJson<MaildevPage>(`${base}/api/email/summary?limit=1`);
    return {
      stored: page.total,
      ready: page.total === corpus.count,
      find: async () =>
        (await getJson<MaildevPage>(`${base}/api/email/summary?limit=1&search=${corpus.marker}`)).total > 0,
    };
  });
}

/**
 * MailDev's API (/api/email/summary). It has no tags, so the READ_TAG messages are found in its
 * list by subject, sender and recipients, and opened, which marks them read as its UI does.
 */
function maildevApi(): Dialect {
  const readKeys = new Set<string>();
  let readCount = 0;
  return {
    expectations: () => new Expectations(maildevMatcher),
    observe: (view) => {
      if (!view.tags.includes(READ_TAG)) return;
      readKeys.add(viewKey(view));
      readCount++;
    },
    waitSearchable: maildevSearchable,
    markRead: async (base) => {
      const started = performance.now();
      const marked = await markReadWhere(base, (s) => readKeys.has(summaryKey(s)));
      log(
        `maildev: opened ${marked} messages to mark them read (${((performance.now() - started) / 1000).toFixed(1)} s)`,
      );
      return marked === readCount
        ? null
        : `marked ${marked} messages read by subject, sender and recipients, the corpus tags ${readCount} ${READ_TAG}`;
    },
    // MailDev has no date search, so the date range is never asked.
    context: async (_base, count) => ({ count, after: '', before: '' }),
    path: maildevPath,
    read: (json) => {
      const page = json as MaildevPage;
      return { matched: page.total, returned: page.items.length };
    },
    checkNoted: true,
  };
}

// --- One server. -------------------------------------------------------------------------------

interface Server {
  base: string;
  smtpPort: number;
  pid: number;
  /** How its API is asked; Mailpit's by default. */
  dialect?: Dialect;
  /** Things to say about this server's answers to particular queries. */
  notes: (name: string) => string | undefined;
  /** Database upkeep a normally configured server would have done by now; returns what it did. */
  settle?: () => Promise<string | null>;
}

/**
 * How long a server gets without requests before its memory counts as "idle": long enough for
 * housekeeping that waits for a quiet moment (Mailroom's idle collection looks every 2 s, ADR 0007)
 * and short enough to be what an operator sees a few seconds after a burst.
 */
const IDLE_MS = 6000;

/** Fill, wait, then latency and memory; fills `result` as it goes so a failure keeps what ran. */
async function measureServer(server: Server, corpus: Corpus, result: TargetResult): Promise<void> {
  const api = server.dialect ?? MAILPIT_API;
  const expectations = api.expectations();
  // The empty server, settled, as a baseline for the numbers after the fill.
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const empty = readMemory(server.pid);
  log(`${result.target}: filling ${corpus.count} messages over ${CONNECTIONS} SMTP sessions`);
  const fillSampler = new RssSampler(server.pid);
  let fillPeak: ReturnType<RssSampler['stop']>;
  let filled: Awaited<ReturnType<typeof fill>>;
  let readySeconds: number;
  try {
    filled = await fill(server.smtpPort, corpus, {
      connections: CONNECTIONS,
      onMessage: (_, view) => {
        expectations.add(view);
        api.observe?.(view);
      },
      progress: (line) => log(line),
    });
    log(`${result.target}: sent in ${filled.seconds.toFixed(1)} s; waiting until all are searchable`);
    readySeconds = await api.waitSearchable(server.base, corpus);
  } finally {
    fillPeak = fillSampler.stop();
  }
  result.fill = {
    messages: filled.messages,
    seconds: filled.seconds,
    perSecond: filled.messages / filled.seconds,
    pipelined: filled.pipelined,
    readySeconds,
  };
  const unmarked = await api.markRead(server.base);
  if (unmarked) {
    log(`${result.target}: ${unmarked}`);
    result.warnings.push(unmarked);
  }
  const settled = await server.settle?.();
  if (settled) {
    log(`${result.target}: ${settled}`);
    result.warnings.push(settled);
  }

  // Idle: nothing in flight for a while.
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const idle = readMemory(server.pid);
  const ctx = await api.context(server.base, corpus.count);

  const asked = QUERIES.filter((q) => api.path(q, ctx) !== null).length;
  log(`${result.target}: ${asked} requests × ${REQUESTS} (after ${WARMUP} warm-up)`);
  const sampler = new RssSampler(server.pid);
  try {
    for (const [i, q] of QUERIES.entries()) {
      const p = api.path(q, ctx);
      if (p === null) {
        result.unsupported ??= [];
        result.unsupported.push({ name: q.name, reason: server.notes(q.name) ?? 'not supported' });
        continue;
      }
      const timing = await timeRequests(`${server.base}${p}`, WARMUP, REQUESTS);
      const isList = q.search === null;
      const answer = api.read(timing.first, isList);
      const start = q.start?.(ctx) ?? 0;
      const expectedReturned = Math.max(0, Math.min(50, corpus.count - start));
      const qr: QueryResult = {
        name: q.name,
        path: p,
        matched: answer.matched,
        expected: isList ? corpus.count : expectations.counts[i]!,
        returned: answer.returned,
        requests: REQUESTS,
        p50: timing.p50,
        p95: timing.p95,
        p99: timing.p99,
        max: timing.max,
        pass: timing.p95 < TARGETS.p95Ms,
        note: server.notes(q.name),
      };
      if (isList && qr.returned !== expectedReturned) {
        result.warnings.push(`${q.name}: ${qr.returned} messages returned, ${expectedReturned} expected`);
      }
      if ((!qr.note || api.checkNoted) && qr.expected !== null && qr.matched !== qr.expected) {
        result.warnings.push(`${q.name}: ${qr.matched} matched, the corpus has ${qr.expected}`);
      }
      result.queries.push(qr);
      log(
        `  ${q.name}: p50 ${timing.p50.toFixed(1)} p95 ${timing.p95.toFixed(1)} p99 ${timing.p99.toFixed(1)} ms`,
      );
    }
  } finally {
    result.loadAverage = os.loadavg()[0]!;
    const peak = sampler.stop();
    result.rss = {
      emptyBytes: empty?.rssBytes ?? null,
      idleBytes: idle?.rssBytes ?? null,
      idleAnonBytes: idle?.anonBytes ?? null,
      idleFileBytes: idle?.fileBytes ?? null,
      peakDuringFillBytes: fillPeak.peakBytes || null,
      peakDuringLatencyBytes: peak.peakBytes || null,
      peakSource: peak.source,
    };
  }
}

/** The requests to break down statement by statement (per --explain). */
function toDiagnose(result: TargetResult): { label: string; search: string | null; start: number }[] {
  if (EXPLAIN === 'off') return [];
  const ctxFromPath = (p: string) => new URL(p, 'http://x');
  return result.queries
    .filter((q) => EXPLAIN === 'all' || !q.pass)
    .map((q) => {
      const u = ctxFromPath(q.path);
      return {
        label: `${q.name} (${u.searchParams.get('query') ?? 'list'})`,
        search: u.searchParams.get('query'),
        start: Number(u.searchParams.get('start') ?? 0),
      };
    });
}

async function benchMailroom(engine: 'sqlite' | 'postgres', corpus: Corpus): Promise<TargetResult> {
  const result: TargetResult = {
    target: `mailroom/${engine}`,
    queries: [],
    ui: null,
    diagnoses: [],
    warnings: [],
  };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-bench-inbox-'));
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  let db: ScratchDatabase | null = null;
  if (engine === 'postgres') {
    db = await scratchDatabase();
    cleanups.push(() => db!.drop());
  }
  const server = await spawnMailroom(
    ['--data-dir', dataDir, '--retain-messages', '0', ...(db ? ['--database-url', db.url] : [])],
    { MAILROOM_LOG_LEVEL: 'warn' },
  );
  track(server.child);
  cleanups.push(async () => {
    await server.stop();
  });
  const base = `http://127.0.0.1:${server.httpPort}`;
  try {
    await measureServer(
      {
        base,
        smtpPort: server.smtpPort,
        pid: server.child.pid!,
        notes: () => undefined,
        settle: db ? () => vacuumUnlessAutovacuum(db!.url) : undefined,
      },
      corpus,
      result,
    );
    log(`${result.target}: UI, ${UI_LOADS} loads in Chromium`);
    result.ui = await measureUi(base, UI_LOADS);
  } catch (err) {
    result.error = (err as Error).message;
    log(`${result.target} failed: ${result.error}\n${server.output.slice(-20).join('\n')}`);
  }
  await server.stop();

  const requests = toDiagnose(result);
  if (requests.length > 0) {
    log(`${result.target}: statement costs of ${requests.length} request(s) over target`);
    try {
      const ds: Diagnosis[] = db
        ? await diagnosePostgres(db.url, requests)
        : diagnoseSqlite(path.join(dataDir, 'mailroom.db'), requests);
      result.diagnoses = ds;
    } catch (err) {
      result.warnings.push(`diagnostics failed: ${(err as Error).message}`);
    }
  }
  await runCleanups();
  return result;
}

async function benchMailpit(corpus: Corpus): Promise<TargetResult | { target: string; skipped: string }> {
  const found = findMailpit();
  if ('skipped' in found) return { target: 'mailpit', skipped: found.skipped };
  const result: TargetResult = { target: 'mailpit', queries: [], ui: null, diagnoses: [], warnings: [] };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-bench-mailpit-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const peer = await startMailpit(found.bin, dir);
  track(peer.child);
  cleanups.push(() => peer.stop());
  result.version = peer.version;
  const notes = new Map(QUERIES.filter((q) => q.mailpitNote).map((q) => [q.name, q.mailpitNote!]));
  try {
    await measureServer(
      {
        base: `http://127.0.0.1:${peer.httpPort}`,
        smtpPort: peer.smtpPort,
        pid: peer.child.pid!,
        notes: (name) => notes.get(name),
      },
      corpus,
      result,
    );
  } catch (err) {
    result.error = (err as Error).message;
    log(`mailpit failed: ${result.error}\n${peer.output.slice(-20).join('\n')}`);
  }
  await runCleanups();
  return result;
}

async function benchMaildev(corpus: Corpus): Promise<TargetResult | { target: string; skipped: string }> {
  const found = await findMaildev(log);
  if ('skipped' in found) return { target: 'maildev', skipped: found.skipped };
  if (aborted) return { target: 'maildev', skipped: 'interrupted' };
  const result: TargetResult = { target: 'maildev', queries: [], ui: null, diagnoses: [], warnings: [] };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-bench-maildev-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const peer = await startMaildev(found.bin, found.version, dir);
  track(peer.child);
  cleanups.push(() => peer.stop());
  result.version = peer.version;
  const base = `http://127.0.0.1:${peer.httpPort}`;
  const notes = new Map(QUERIES.map((q) => [q.name, maildevNote(q)]));
  try {
    await measureServer(
      {
        base,
        smtpPort: peer.smtpPort,
        pid: peer.child.pid!,
        dialect: maildevApi(),
        notes: (name) => notes.get(name),
      },
      corpus,
      result,
    );
    log(`${result.target}: UI, ${UI_LOADS} loads in Chromium`);
    result.ui = await measureUi(base, UI_LOADS, MAILDEV_ROW_SELECTOR);
  } catch (err) {
    result.error = (err as Error).message;
    log(`maildev failed: ${result.error}\n${peer.output.slice(-20).join('\n')}`);
  }
  await runCleanups();
  return result;
}

/** The 1-minute load average as text, and a warning when the machine was busy at the start. */
const loadAtStart = os.loadavg()[0]!.toFixed(2);
const busyAtStart =
  os.loadavg()[0]! > os.cpus().length / 2
    ? `the machine was busy when the benchmark started (load average ${loadAtStart} on ${os.cpus().length} CPUs); latencies include that noise`
    : null;

async function main(): Promise<void> {
  if (busyAtStart) log(`warning: ${busyAtStart}`);
  const corpus = new Corpus({ seed: SEED, count: MESSAGES });
  const results: TargetResult[] = [];
  /** Why each peer asked for did not run; absent when it ran (or failed, which its table shows). */
  const peerSkipped = new Map<string, string>();
  for (const engine of ENGINES as ('sqlite' | 'postgres')[]) {
    if (aborted) break;
    try {
      results.push(await benchMailroom(engine, corpus));
    } catch (err) {
      await runCleanups();
      results.push({
        target: `mailroom/${engine}`,
        error: (err as Error).message,
        queries: [],
        ui: null,
        diagnoses: [],
        warnings: [],
      });
    }
  }
  const peers = { mailpit: benchMailpit, maildev: benchMaildev };
  for (const name of PEERS as (keyof typeof peers)[]) {
    if (values['skip-peer']) {
      peerSkipped.set(name, 'skipped (--skip-peer)');
      continue;
    }
    if (aborted) break;
    try {
      const peer = await peers[name](corpus);
      if ('skipped' in peer) peerSkipped.set(name, peer.skipped);
      else results.push(peer);
    } catch (err) {
      await runCleanups();
      results.push({
        target: name,
        error: (err as Error).message,
        queries: [],
        ui: null,
        diagnoses: [],
        warnings: [],
      });
    }
  }

  console.log(
    `\n## bench/inbox: ${MESSAGES.toLocaleString('en-US')} messages (seed ${SEED}), ${os.cpus().length} CPUs, Node ${process.version}, load average ${loadAtStart} at start`,
  );
  if (busyAtStart) console.log(`\nwarning: ${busyAtStart}`);
  for (const r of results) {
    console.log(formatTarget(r, REQUESTS, WARMUP));
    if (r.diagnoses.length > 0) console.log(formatDiagnoses(r.target, r.diagnoses));
  }
  const peerNames = { mailpit: 'Mailpit', maildev: 'MailDev' } as Record<string, string>;
  const skippedLines = [...peerSkipped].map(([name, why]) => `\nPeer (${peerNames[name]}): ${why}.`);
  console.log(skippedLines.join(''));
  const comparison = formatComparison(results);
  if (comparison) console.log(comparison);
  const file = writeJson({
    options: {
      messages: MESSAGES,
      engines: ENGINES,
      requests: REQUESTS,
      warmup: WARMUP,
      connections: CONNECTIONS,
      uiLoads: UI_LOADS,
      seed: SEED,
      peer: PEERS.includes('mailpit') ? (peerSkipped.get('mailpit') ?? 'ran') : 'not asked for (--peers)',
      peers: Object.fromEntries(PEERS.map((name) => [name, peerSkipped.get(name) ?? 'ran'])),
      loadAverageAtStart: Number(loadAtStart),
    },
    results,
  });
  console.log(`\nResults written to ${path.relative(process.cwd(), file)}`);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

try {
  await main();
} finally {
  await runCleanups();
}
