// bench/deliver: Mailroom's side. The messages are queued through the real send API
// (POST /api/v1/send/batch) by a Mailroom started with only the api role: nothing delivers while
// they are queued. That process stops; the release is the start of a full Mailroom (smtp, api and
// worker roles) on the same store with --outbound-transport relay pointed at the sink, whose
// worker finds the whole queue due. Queueing time is not measured.
import fs from 'node:fs';
import { freshPostgresDatabase, tempDir } from '../../test/helpers/backends.ts';
import { type RunningMailroom, spawnMailroom } from '../../test/helpers/process.ts';
import type { CountingSink } from './sink.ts';

export interface MailroomSettings {
  engine: 'sqlite' | 'postgres';
  count: number;
  /** Bytes of body text per message. */
  size: number;
  /** --delivery-concurrency and --destination-concurrency. */
  concurrency: number;
  logLevel: string;
  /** Write a V8 CPU profile of the delivering process into this directory. */
  profileDir?: string;
}

export interface RunResult {
  /** Seconds from the release to the last message at the sink. */
  fromRelease: number;
  /** Seconds from the first message at the sink to the last. */
  steady: number;
  /** Sessions the sink saw for the run's messages. */
  sessions: number;
  /** Bytes of one queued message as its server stored it. */
  messageBytes: number;
  /** Seconds spent queueing (not measured, for the record). */
  queueing: number;
}

const BATCH = 500;
const IN_FLIGHT = 4;

/** The rest of the flags both Mailroom processes get. */
function flags(s: MailroomSettings, dataDir: string, databaseUrl: string, sinkPort: number): string[] {
  return [
    '--data-dir',
    dataDir,
    ...(databaseUrl ? ['--database-url', databaseUrl] : []),
    '--outbound-transport',
    'relay',
    '--relay-host',
    `127.0.0.1:${sinkPort}`,
    '--relay-tls',
    'none',
    '--delivery-concurrency',
    String(s.concurrency),
    '--destination-concurrency',
    String(s.concurrency),
  ];
}

async function post(base: string, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Prefer: 'respond-async' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`POST ${path}: ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/** Queues `count` messages through the send API, BATCH per request, IN_FLIGHT requests at once. */
async function queueAll(server: RunningMailroom, s: MailroomSettings): Promise<string> {
  const base = `http://127.0.0.1:${server.httpPort}`;
  // Lines of 76 characters, as a mail client would write them.
  const line = `${'x'.repeat(74)}\n`;
  const text = line.repeat(Math.floor(s.size / line.length)) + 'x'.repeat(s.size % line.length);
  const message = (i: number) => ({
    From: { Email: 'bench@shop.example' },
    To: [{ Email: 'rcpt@sink.test' }],
    Subject: `bench ${i}`,
    Text: text,
  });
  let next = 0;
  let firstId = '';
  const worker = async () => {
    while (next < s.count) {
      const from = next;
      const n = Math.min(BATCH, s.count - from);
      next += n;
      const items = Array.from({ length: n }, (_, i) => message(from + i));
      const { Results } = (await post(base, '/api/v1/send/batch', items)) as {
        Results: { ID?: string; Error?: unknown }[];
      };
      const bad = Results.find((r) => !r.ID);
      if (bad) throw new Error(`a message was refused: ${JSON.stringify(bad.Error)}`);
      if (from === 0) firstId = Results[0]!.ID!;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return firstId;
}

async function getJson<T>(base: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
  return (await res.json()) as T;
}

/** Deliveries in a state, counted page by page. */
async function countState(base: string, state: string): Promise<number> {
  let total = 0;
  for (let start = 0; ; start += 1000) {
    const { deliveries } = await getJson<{ deliveries: unknown[] }>(
      base,
      `/api/v1/queue?state=${state}&limit=1000&start=${start}`,
    );
    total += deliveries.length;
    if (deliveries.length < 1000) return total;
  }
}

export async function runMailroom(s: MailroomSettings, sink: CountingSink): Promise<RunResult> {
  const dataDir = tempDir('mailroom-bench-deliver-');
  const pg = s.engine === 'postgres' ? await freshPostgresDatabase() : null;
  const args = flags(s, dataDir, pg?.url ?? '', sink.port);
  let server: RunningMailroom | null = null;
  try {
    // 1. Queue with nobody to deliver: the api role alone.
    const queueStart = performance.now();
    const queuer = await spawnMailroom([...args, '--roles', 'api'], { MAILROOM_LOG_LEVEL: 'warn' });
    let firstId: string;
    try {
      firstId = await queueAll(queuer, s);
    } finally {
      await queuer.stop();
    }
    const queueing = (performance.now() - queueStart) / 1000;

    // 2. Release: a whole Mailroom on the same store, its worker finding everything due.
    const base = sink.counters();
    const released = performance.now();
    const done = sink.waitFor(base, s.count, 30_000);
    server = await spawnMailroom(
      args,
      { MAILROOM_LOG_LEVEL: s.logLevel },
      20_000,
      s.profileDir ? ['--cpu-prof', '--cpu-prof-dir', s.profileDir] : [],
    );
    const mark = await done;

    // 3. Every delivery recorded as delivered, and nothing sent twice.
    const url = `http://127.0.0.1:${server.httpPort}`;
    for (let i = 0; ; i++) {
      const delivered = await countState(url, 'delivered');
      if (delivered === s.count) break;
      if (i > 100) throw new Error(`${delivered} of ${s.count} deliveries recorded as delivered`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (sink.counters().messages - base.messages !== s.count)
      throw new Error(`the sink got ${sink.counters().messages - base.messages} messages for ${s.count}`);
    // Sessions end after their last message, cached ones once idle for 2 s (as Postfix's do).
    await new Promise((r) => setTimeout(r, 2500));
    const after = sink.counters();
    const { Size } = await getJson<{ Size: number }>(url, `/api/v1/outbound/${firstId}`);
    return {
      fromRelease: (mark.last - released) / 1000,
      steady: ((mark.last - (mark.first ?? released)) / 1000) * (s.count / Math.max(1, s.count - 1)),
      sessions: after.sessions - base.sessions,
      messageBytes: Size,
      queueing,
    };
  } catch (err) {
    if (server) process.stderr.write(`${server.output.slice(-20).join('\n')}\n`);
    throw err;
  } finally {
    await server?.stop();
    await pg?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
