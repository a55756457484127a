// bench/ingest: Postfix's smtp-source drives Mailroom and, in the same run, Postfix's smtp-sink
// (which stores nothing) as the ceiling. Persistent sessions (smtp-source -d), concurrency 1, 10
// and 50, 1 KB and 100 KB bodies. Every Mailroom message is durable before its 250.
//
//   node bench/ingest/run.ts [--runs 3] [--engines sqlite,postgres] [--scale 1] [--quick]
//
// Prints the median msgs/s of each cell, the ratio to smtp-sink, and checks that Mailroom stored
// every message it acknowledged.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { freshPostgresDatabase, tempDir } from '../../test/helpers/backends.ts';
import { spawnMailroom } from '../../test/helpers/process.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    engines: { type: 'string', default: 'sqlite' },
    scale: { type: 'string', default: '1' },
    quick: { type: 'boolean', default: false },
  },
});
const RUNS = Number(values.runs);
const SCALE = Number(values.scale);
const SIZES = values.quick ? [1024] : [1024, 100 * 1024];
const CONCURRENCY = values.quick ? [50] : [1, 10, 50];

/** Messages per run: enough for a couple of seconds of steady state at the expected rates. */
function messageCount(size: number, c: number): number {
  const base = c === 1 ? 1000 : c === 10 ? 4000 : 10000;
  return Math.max(100, Math.round((size > 10_000 ? base / 5 : base) * SCALE));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

/** One smtp-source run; returns msgs/s. */
async function drive(port: number, size: number, c: number): Promise<number> {
  const n = messageCount(size, c);
  const started = performance.now();
  const r = await run('smtp-source', [
    '-d',
    '-s',
    String(c),
    '-l',
    String(size),
    '-m',
    String(n),
    '-f',
    'bench@example.test',
    '-t',
    'sink@example.test',
    `127.0.0.1:${port}`,
  ]);
  const seconds = (performance.now() - started) / 1000;
  if (r.code !== 0) throw new Error(`smtp-source failed (${r.code}): ${r.stderr.trim()}`);
  return n / seconds;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function api<T>(port: number, path: string, method = 'GET'): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status}`);
  const text = await res.text();
  // DELETE answers a plain "ok", as Mailpit does.
  return (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T;
}

async function startSink(): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  // smtp-sink drops root privileges to the -u user after binding.
  const child = spawn('smtp-sink', ['-u', 'nobody', `127.0.0.1:${port}`, '1024'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  return { port, child };
}

/** Seconds from the last 250 until every message so far is parsed (read from /metrics). */
async function parseLag(port: number, total: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    let parsed = 0;
    for (const m of text.matchAll(/^mailroom_messages_parsed_total\{[^}]*\} (\d+)/gm)) parsed += Number(m[1]);
    if (parsed >= total) return (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Row {
  lag: number;
  engine: string;
  size: number;
  c: number;
  mailroom: number;
  sink: number;
}

async function benchEngine(engine: string, sinkPort: number): Promise<Row[]> {
  const dataDir = tempDir('mailroom-bench-');
  const pg = engine === 'postgres' ? await freshPostgresDatabase() : null;
  // Quiet logs: per-message info lines are not what is being measured.
  const server = await spawnMailroom(
    ['--data-dir', dataDir, '--max-connections-per-ip', '1000', ...(pg ? ['--database-url', pg.url] : [])],
    {
      MAILROOM_LOG_LEVEL: 'warn',
    },
  );
  const rows: Row[] = [];
  let parsedBefore = 0;
  try {
    for (const size of SIZES) {
      for (const c of CONCURRENCY) {
        const mr: number[] = [];
        const lag: number[] = [];
        const sink: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          await api(server.httpPort, '/api/v1/messages', 'DELETE');
          mr.push(await drive(server.smtpPort, size, c));
          const info = await api<{ Messages: number }>(server.httpPort, '/api/v1/info');
          if (info.Messages !== messageCount(size, c)) {
            throw new Error(`stored ${info.Messages} of ${messageCount(size, c)} acknowledged messages`);
          }
          // Parsing finishes before the peer's turn, so the two never share the CPU.
          parsedBefore += messageCount(size, c);
          lag.push(await parseLag(server.httpPort, parsedBefore));
          sink.push(await drive(sinkPort, size, c));
        }
        const row = { engine, size, c, mailroom: median(mr), sink: median(sink), lag: median(lag) };
        rows.push(row);
        process.stderr.write(
          `${engine} ${size}B c=${c}: mailroom ${mr.map((x) => x.toFixed(0)).join('/')}, smtp-sink ${sink.map((x) => x.toFixed(0)).join('/')}\n`,
        );
      }
    }
  } catch (err) {
    // The server's own account of what went wrong (warnings and errors only are logged).
    process.stderr.write(`${server.output.slice(-20).join('\n')}\n`);
    throw err;
  } finally {
    await server.stop();
    await pg?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return rows;
}

async function main(): Promise<void> {
  const sink = await startSink();
  const rows: Row[] = [];
  try {
    for (const engine of String(values.engines).split(','))
      rows.push(...(await benchEngine(engine, sink.port)));
  } finally {
    sink.child.kill();
  }
  console.log(
    `\nbench/ingest: persistent sessions, median of ${RUNS} runs, msgs/s (every Mailroom message fsynced before 250)\n`,
  );
  console.log(
    '| engine | size | concurrency | Mailroom | smtp-sink (stores nothing) | Mailroom / sink | parsed after last 250 |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const size = r.size >= 1024 ? `${r.size / 1024} KB` : `${r.size} B`;
    console.log(
      `| ${r.engine} | ${size} | ${r.c} | ${r.mailroom.toFixed(0)} | ${r.sink.toFixed(0)} | ${(r.mailroom / r.sink).toFixed(2)} | ${r.lag.toFixed(2)} s |`,
    );
  }
}

await main();
