// bench/ingest: what is read from the Mailroom process besides the smtp-source clock. CPU time
// and resident memory come from /proc/<pid> (bin/mailroom.js may re-exec itself, but execve keeps
// the pid of the spawned child); stored, listed, searchable and parsed counts come from its API.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Milliseconds per clock tick of /proc/<pid>/stat (`getconf CLK_TCK`, usually 100 a second). */
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** utime + stime of the whole process (every thread: parse workers, SQLite writer, libuv pool). */
function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces; the first is
  // field 3 (state), so utime (14) and stime (15) are the 12th and 13th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

export interface ProcessUse {
  cpuMs: number;
  peakRssMb: number;
}

/** Starts counting CPU time and sampling VmRSS every 50 ms; stop() returns both. */
export function startProbe(pid: number): { stop(): ProcessUse } {
  const ticks = cpuTicks(pid);
  let peak = rssKb(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssKb(pid));
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, rssKb(pid));
      return { cpuMs: (cpuTicks(pid) - ticks) * TICK_MS, peakRssMb: peak / 1024 };
    },
  };
}

async function request<T>(base: string, path: string, method = 'GET'): Promise<T> {
  const res = await fetch(`${base}${path}`, { method });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  const text = await res.text();
  // DELETE answers a plain "ok", as Mailpit does.
  return (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T;
}

export async function deleteAll(base: string): Promise<void> {
  await request(base, '/api/v1/messages', 'DELETE');
  const left = await stored(base);
  if (left !== 0) throw new Error(`${left} messages left after DELETE /api/v1/messages`);
}

/** Messages in the store, from /api/v1/info (Mailpit's `Messages`). */
export async function stored(base: string): Promise<number> {
  return (await request<{ Messages: number }>(base, '/api/v1/info')).Messages;
}

/** Messages parsed since the process started, by any outcome (read from /metrics). */
export async function parsedTotal(base: string): Promise<number> {
  const text = await request<string>(base, '/metrics');
  let parsed = 0;
  for (const m of text.matchAll(/^mailroom_messages_parsed_total\{[^}]*\} (\d+)/gm)) parsed += Number(m[1]);
  return parsed;
}

/** Polls every 20 ms until `done` holds; returns the seconds since `from` (performance.now()). */
async function pollUntil(from: number, what: string, done: () => Promise<boolean>): Promise<number> {
  for (;;) {
    if (await done()) return (performance.now() - from) / 1000;
    if (performance.now() - from > 600_000) throw new Error(`${what}: not after 10 minutes`);
    await sleep(20);
  }
}

/** Waits until the parsed counter reaches `target` (so the next run does not share the CPU). */
export function waitParsed(base: string, target: number): Promise<number> {
  return pollUntil(performance.now(), `parsed ${target}`, async () => (await parsedTotal(base)) >= target);
}

export interface Lag {
  /** Seconds from the last 250 until GET /api/v1/messages reports `total` = count. */
  listed: number;
  /** ... until GET /api/v1/search?query=<word> reports `messages_count` = count. */
  searchable: number;
}

/** Both lags, polled side by side, from `endedAt` (the moment smtp-source finished). */
export async function measureLag(base: string, count: number, word: string, endedAt: number): Promise<Lag> {
  const total = async (path: string, field: 'total' | 'messages_count') =>
    (await request<Record<string, number>>(base, path))[field];
  const [listed, searchable] = await Promise.all([
    pollUntil(endedAt, 'listed', async () => (await total('/api/v1/messages?limit=1', 'total')) === count),
    pollUntil(
      endedAt,
      'searchable',
      async () =>
        (await total(`/api/v1/search?limit=1&query=${encodeURIComponent(word)}`, 'messages_count')) === count,
    ),
  ]);
  return { listed, searchable };
}
