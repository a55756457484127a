// bench/deliver: how fast a full outbound queue drains to one destination. Mailroom (relay
// transport) and Postfix (a private relay instance) each get --count identical-sized messages
// queued while they cannot deliver, are then released, and the clock runs until Postfix's
// smtp-sink, the one destination of both, has counted them all. Both run with the same
// concurrency to the destination (20, each one's default).
//
//   node bench/deliver/run.ts [--runs 3] [--count 10000] [--size 1024] [--concurrency 20]
//                             [--engines sqlite,postgres] [--log-level info] [--quick] [--profile]
//
// Prints every run, then a table of medians (msgs/s from the release, msgs/s from the first
// message at the sink, connections used), the ratio Mailroom / Postfix, and the settings that
// decide the drain rate on each side. --profile writes a CPU profile of one extra Mailroom run
// and prints where its time went. Needs root (Postfix) and the Debian package postfix.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type RunResult, runMailroom } from './mailroom.ts';
import { runPostfix } from './postfix.ts';
import { summarizeProfile } from './profile.ts';
import { type CountingSink, startSink } from './sink.ts';

function usage(message: string): never {
  process.stderr.write(`bench/deliver: ${message}\n(see bench/deliver/README.md for the flags)\n`);
  process.exit(2);
}

function readArgs() {
  try {
    return parseArgs({
      options: {
        runs: { type: 'string', default: '3' },
        count: { type: 'string', default: '10000' },
        size: { type: 'string', default: '1024' },
        concurrency: { type: 'string', default: '20' },
        engines: { type: 'string', default: 'sqlite' },
        'log-level': { type: 'string', default: 'info' },
        quick: { type: 'boolean', default: false },
        profile: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    return usage((err as Error).message);
  }
}
const { values } = readArgs();

function whole(name: 'runs' | 'count' | 'size' | 'concurrency', min: number): number {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < min) usage(`--${name} must be a whole number of at least ${min}`);
  return v;
}

const RUNS = values.quick ? 1 : whole('runs', 1);
const COUNT = values.quick ? Math.min(2000, whole('count', 2)) : whole('count', 2);
const SIZE = whole('size', 0);
const CONCURRENCY = whole('concurrency', 1);
const LOG_LEVEL = String(values['log-level']);
const ENGINES = String(values.engines)
  .split(',')
  .map((x) => x.trim())
  .filter(Boolean);
for (const e of ENGINES) if (e !== 'sqlite' && e !== 'postgres') usage(`unknown engine "${e}"`);

const t0 = performance.now();
function log(line: string): void {
  process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Row {
  name: string;
  fromRelease: number;
  steady: number;
  sessions: number;
  bytes: number;
  queueing: number;
}

function describe(name: string, r: RunResult): string {
  return (
    `${name}: ${(COUNT / r.fromRelease).toFixed(0)} msgs/s from release (${r.fromRelease.toFixed(2)} s), ` +
    `${(COUNT / r.steady).toFixed(0)} msgs/s first-to-last, ${r.sessions} connections, ` +
    `${r.messageBytes} B/message, queued in ${r.queueing.toFixed(1)} s`
  );
}

function summarize(name: string, results: RunResult[]): Row {
  return {
    name,
    fromRelease: median(results.map((r) => COUNT / r.fromRelease)),
    steady: median(results.map((r) => COUNT / r.steady)),
    sessions: median(results.map((r) => r.sessions)),
    bytes: median(results.map((r) => r.messageBytes)),
    queueing: median(results.map((r) => r.queueing)),
  };
}

async function main(): Promise<void> {
  const sink: CountingSink = await startSink();
  const mailroom = new Map<string, RunResult[]>(ENGINES.map((e) => [e, []]));
  const postfix: RunResult[] = [];
  let postfixSettings: Record<string, string> = {};
  let profile = '';
  try {
    log(
      `sink on 127.0.0.1:${sink.port}; ${COUNT} messages of ${SIZE} B body, concurrency ${CONCURRENCY}, ${RUNS} run(s)`,
    );
    // Side by side: each run gives every contender its turn, so drift in the machine's load
    // touches all of them alike.
    for (let i = 1; i <= RUNS; i++) {
      for (const engine of ENGINES) {
        const r = await runMailroom(
          {
            engine: engine as 'sqlite' | 'postgres',
            count: COUNT,
            size: SIZE,
            concurrency: CONCURRENCY,
            logLevel: LOG_LEVEL,
          },
          sink,
        );
        mailroom.get(engine)!.push(r);
        log(`run ${i} ${describe(`mailroom/${engine}`, r)}`);
      }
      const p = await runPostfix({ count: COUNT, size: SIZE, concurrency: CONCURRENCY }, sink);
      postfix.push(p);
      postfixSettings = p.settings;
      log(`run ${i} ${describe('postfix', p)}`);
    }
    if (values.profile) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-bench-profile-'));
      const engine = ENGINES[0] as 'sqlite' | 'postgres';
      const r = await runMailroom(
        { engine, count: COUNT, size: SIZE, concurrency: CONCURRENCY, logLevel: LOG_LEVEL, profileDir: dir },
        sink,
      );
      log(`profiled ${describe(`mailroom/${engine}`, r)} (not in the medians)`);
      // One profile per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile): thread 0 is
      // the main thread; the others are workers (the SQLite writer, MIME parsers).
      const parts = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .sort((a, b) => Number(a.split('.')[4]) - Number(b.split('.')[4]))
        .map((f) => {
          const thread = Number(f.split('.')[4]);
          const title = thread === 0 ? 'main thread' : `worker thread ${thread}`;
          return `#### ${title} (${f})\n\n${summarizeProfile(path.join(dir, f))}`;
        });
      profile = parts.join('\n\n');
      log(`CPU profiles kept in ${dir}`);
    }
  } finally {
    await sink.stop();
  }

  const rows = [
    ...ENGINES.map((e) => summarize(`Mailroom (${e})`, mailroom.get(e)!)),
    summarize('Postfix 3.7', postfix),
  ];
  const pf = rows.at(-1)!;
  console.log(
    `\nbench/deliver: ${COUNT} queued messages (${SIZE} B body) drained to smtp-sink on loopback, median of ${RUNS} run(s)\n`,
  );
  console.log(
    '| server | msgs/s from release | msgs/s first-to-last | ratio to Postfix (release / steady) | connections | bytes/message | queueing (not measured) |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.fromRelease.toFixed(0)} | ${r.steady.toFixed(0)} | ${(r.fromRelease / pf.fromRelease).toFixed(2)} / ${(r.steady / pf.steady).toFixed(2)} | ${r.sessions} | ${r.bytes} | ${r.queueing.toFixed(1)} s |`,
    );
  }
  console.log(
    `\nMailroom: --outbound-transport relay --relay-tls none, --delivery-concurrency ${CONCURRENCY}, ` +
      `--destination-concurrency ${CONCURRENCY}, --destination-rate 0 (no limit), log level ${LOG_LEVEL}; ` +
      'release = start of a Mailroom with the worker role on the queue an api-only Mailroom filled.',
  );
  console.log(
    `Postfix: relayhost = [127.0.0.1]:<sink>; ${Object.entries(postfixSettings)
      .map(([k, v]) => `${k} = ${v}`)
      .join(', ')}; ` +
      'release = `postconf -e defer_transports=`, `postfix reload`, `postqueue -f`; it logs every delivery to its maillog file.',
  );
  if (profile) console.log(`\n### Where the profiled Mailroom run spent its time\n\n${profile}`);
}

await main();
