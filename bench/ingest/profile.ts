// bench/ingest: where the CPU goes. Runs Mailroom (SQLite) under `node --cpu-prof`, drives it with
// smtp-source (persistent sessions by default), and prints the CPU time of each of its threads
// (from /proc: user and system) and a summary of each thread's V8 CPU profile (self time by
// place and by function, bench/deliver/profile.ts). docs/performance.md quotes its output.
//
//   node bench/ingest/profile.ts [--messages 20000] [--size 1024] [--concurrency 50] [--new-connections]
//                                [--no-profile]   (thread CPU only: the profiler itself costs CPU)
//                                [--roles smtp,api] (Mailroom's --roles: without `worker` nothing is
//                                parsed, which measures the SMTP door and the durable spool alone)
//                                [--node-args=--trace-gc] (more flags for Mailroom's node)
//                                [--timeline] (CPU ms of each thread kind per 100 ms, run and after)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { tempDir } from '../../test/helpers/backends.ts';
import { spawnMailroom } from '../../test/helpers/process.ts';
import { summarizeProfile } from '../deliver/profile.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    size: { type: 'string', default: '1024' },
    concurrency: { type: 'string', default: '50' },
    'new-connections': { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
    roles: { type: 'string', default: '' },
    'node-args': { type: 'string', default: '' },
    timeline: { type: 'boolean', default: false },
  },
});
const TICK_MS = 10; // CLK_TCK 100 on Linux

/** CPU ms (user, system) of every thread of `pid`, by "tid name". */
function threads(pid: number): Map<string, { user: number; sys: number }> {
  const out = new Map<string, { user: number; sys: number }>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${tid} ${name}`, { user: Number(f[11]) * TICK_MS, sys: Number(f[12]) * TICK_MS });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

const profileDir = tempDir('mailroom-profile-');
const dataDir = tempDir('mailroom-profile-data-');
const server = await spawnMailroom(
  [
    '--data-dir',
    dataDir,
    '--max-connections-per-ip',
    '1000',
    ...(values.roles ? ['--roles', values.roles] : []),
  ],
  { MAILROOM_LOG_LEVEL: 'warn' },
  20_000,
  [
    ...(values['no-profile'] ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]),
    ...values['node-args'].split(/\s+/).filter(Boolean),
  ],
);
const pid = server.child.pid!;
const n = Number(values.messages);
const before = threads(pid);
const started = performance.now();
/** --timeline: CPU ms by thread kind in each 100 ms, from the start of the run. */
const timeline: { t: number; cpu: Map<string, number> }[] = [];
let last = before;
const sampler = values.timeline
  ? setInterval(() => {
      const now = threads(pid);
      const cpu = new Map<string, number>();
      for (const [key, t] of now) {
        const b = last.get(key) ?? { user: 0, sys: 0 };
        // Worker threads (the SQLite writer, parse workers) by thread id, the rest by name.
        const name = key.slice(key.indexOf(' ') + 1);
        const kind = name === 'WorkerThread' ? `Worker ${key.slice(0, key.indexOf(' '))}` : name;
        cpu.set(kind, (cpu.get(kind) ?? 0) + t.user + t.sys - b.user - b.sys);
      }
      last = now;
      timeline.push({ t: performance.now() - started, cpu });
    }, 100)
  : null;
await new Promise<void>((resolve, reject) => {
  const args = [
    ...(values['new-connections'] ? [] : ['-d']),
    ...['-s', String(values.concurrency), '-l', String(values.size), '-m', String(n)],
    ...['-f', 'bench@example.test', '-t', 'sink@example.test', `127.0.0.1:${server.smtpPort}`],
  ];
  spawn('smtp-source', args, { stdio: 'inherit' }).on('exit', (code) =>
    code === 0 ? resolve() : reject(new Error(`smtp-source exited with ${code}`)),
  );
});
const seconds = (performance.now() - started) / 1000;
// Parsing and indexing finish after the last 250; their CPU counts too.
await new Promise((r) => setTimeout(r, 2000));
const after = threads(pid);
if (sampler) clearInterval(sampler);
await server.stop();

console.log(
  `${n} messages of ${values.size} bytes, ${values['new-connections'] ? 'one connection each' : 'persistent sessions'}, c=${values.concurrency}: ${(n / seconds).toFixed(0)} msgs/s\n`,
);
console.log('| thread | CPU ms | of which system | µs per message |');
console.log('|---|---|---|---|');
let total = 0;
for (const [key, t] of after) {
  const b = before.get(key) ?? { user: 0, sys: 0 };
  const ms = t.user + t.sys - b.user - b.sys;
  total += ms;
  if (ms >= 20) console.log(`| ${key} | ${ms} | ${t.sys - b.sys} | ${((ms * 1000) / n).toFixed(0)} |`);
}
console.log(`| all | ${total} | | ${((total * 1000) / n).toFixed(0)} |\n`);
if (timeline.length) {
  const kinds = [
    ...new Set(timeline.flatMap((row) => [...row.cpu].filter(([, ms]) => ms > 0).map(([k]) => k))),
  ];
  console.log(`| s | ${kinds.join(' | ')} |\n|---|${kinds.map(() => '---').join('|')}|`);
  for (const row of timeline) {
    console.log(
      `| ${(row.t / 1000).toFixed(1)}${row.t <= seconds * 1000 ? '' : ' (after)'} | ${kinds.map((k) => row.cpu.get(k) ?? 0).join(' | ')} |`,
    );
  }
  console.log('');
}
// --node-args=--trace-gc: V8 prints a line per collection, "[pid:isolate] <ms> ms: <kind> ...";
// counted by isolate (the first one seen is the main thread's) and kind.
const collections = new Map<string, Map<string, number>>();
for (const line of server.output) {
  const m = /^\[\d+:(0x[0-9a-f]+)\]\s+[\d.]+ ms: (Scavenge|Mark-Compact|Minor Mark-Sweep|Mark-Sweep)/.exec(
    line,
  );
  if (!m) continue;
  const kinds = collections.get(m[1]!) ?? new Map<string, number>();
  collections.set(m[1]!, kinds);
  kinds.set(m[2]!, (kinds.get(m[2]!) ?? 0) + 1);
}
[...collections.values()].forEach((kinds, i) => {
  const counts = [...kinds].map(([k, c]) => `${c} × ${k}`).join(', ');
  console.log(`Collections, isolate ${i + 1}${i === 0 ? ' (main thread)' : ''}: ${counts}`);
});
for (const file of fs.readdirSync(profileDir).sort()) {
  console.log(`### ${file}\n`);
  console.log(summarizeProfile(path.join(profileDir, file), 15));
  console.log('');
}
fs.rmSync(profileDir, { recursive: true, force: true });
fs.rmSync(dataDir, { recursive: true, force: true });
