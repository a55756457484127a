// bench/ingest: Postfix's smtp-source drives Mailroom and, side by side in the same run, a private
// Postfix (its smtpd queues every message, fsynced; nothing is delivered) and Postfix's smtp-sink
// (stores nothing). Three sections, each a Markdown table of medians:
//
//   new         one connection per message (smtp-source without -d), 1 KB, c = 1, 10, 50
//   persistent  smtp-source -d, c = 50, 1 KB and 100 KB (--persistent-all adds c = 1 and 10)
//   lag         one --lag-messages persistent run (c = 50, 1 KB), then the seconds from the last
//               250 until every message is listed and until every message is searchable
//
//   node bench/ingest/run.ts [--runs 3] [--engines sqlite,postgres] [--scale 1] [--quick]
//                            [--peers postfix,sink] [--only new,persistent,lag]
//                            [--lag-messages 20000] [--persistent-all]
//
// Every Mailroom message is durable before its 250; after each run the benchmark checks that
// Mailroom stored exactly as many messages as smtp-source sent and Postfix queued exactly as many.
// Needs root (Postfix) and the Debian package postfix (smtp-source, smtp-sink).
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { type MailroomOnEngine, mailroomOn } from '../../test/helpers/process.ts';
import { drive, type Peer, postfixVersion, SEARCH_WORD, startPostfix, startSink } from './peers.ts';
import { deleteAll, measureLag, parsedTotal, startProbe, stored, waitParsed } from './probe.ts';
import {
  type Cell,
  type CellResults,
  describeCell,
  lagTable,
  type Sample,
  type Section,
  throughputTable,
} from './report.ts';

function usage(message: string): never {
  process.stderr.write(`bench/ingest: ${message}\n(see bench/ingest/README.md for the flags)\n`);
  process.exit(2);
}

function readArgs() {
  try {
    return parseArgs({
      options: {
        runs: { type: 'string', default: '3' },
        engines: { type: 'string', default: 'sqlite' },
        scale: { type: 'string', default: '1' },
        quick: { type: 'boolean', default: false },
        peers: { type: 'string', default: 'postfix,sink' },
        only: { type: 'string', default: 'new,persistent,lag' },
        'lag-messages': { type: 'string', default: '20000' },
        'persistent-all': { type: 'boolean', default: false },
      },
    }).values;
  } catch (err) {
    return usage((err as Error).message);
  }
}
const values = readArgs();

function list<T extends string>(flag: string, allowed: readonly T[]): T[] {
  const items = String(values[flag as keyof typeof values])
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) if (!allowed.includes(item as T)) usage(`--${flag}: unknown "${item}"`);
  return items as T[];
}

const RUNS = Number(values.runs);
const SCALE = Number(values.scale);
const LAG_MESSAGES = Number(values['lag-messages']);
if (!Number.isInteger(RUNS) || RUNS < 1) usage('--runs must be a whole number of at least 1');
if (!(SCALE > 0)) usage('--scale must be a positive number');
if (!Number.isInteger(LAG_MESSAGES) || LAG_MESSAGES < 1) usage('--lag-messages must be a whole number');
const ENGINES = list('engines', ['sqlite', 'postgres'] as const);
const PEERS = list('peers', ['postfix', 'sink'] as const);
const SECTIONS = list('only', ['new', 'persistent', 'lag'] as const);
const KB = 1024;

/** Messages per run, scaled: a couple of seconds of steady state at the expected rates. */
function scaled(n: number): number {
  return Math.max(100, Math.round(n * SCALE));
}

/** The cells of one section (--quick: one each). */
function cellsOf(section: Section): Cell[] {
  if (section === 'new') {
    // Postfix takes some 600-1,000 new connections a second here; c=1 runs slower.
    const cs = values.quick ? [50] : [1, 10, 50];
    return cs.map((c) => ({ section, size: KB, c, count: scaled(c === 1 ? 1000 : 3000) }));
  }
  if (section === 'persistent') {
    const cs = values.quick ? [50] : values['persistent-all'] ? [1, 10, 50] : [50];
    const sizes = values.quick ? [KB] : [KB, 100 * KB];
    const base = (c: number) => (c === 1 ? 1000 : c === 10 ? 4000 : 10_000);
    return sizes.flatMap((size) =>
      cs.map((c) => ({ section, size, c, count: scaled(size > KB ? base(c) / 5 : base(c)) })),
    );
  }
  return [{ section, size: KB, c: 50, count: scaled(LAG_MESSAGES) }];
}

interface Target {
  name: string;
  mailroom?: MailroomOnEngine;
  peer?: Peer;
}

/** One run of one target; Mailroom's store (or Postfix's queue) is emptied first. */
async function runOnce(t: Target, cell: Cell): Promise<Sample> {
  const load = { size: cell.size, c: cell.c, count: cell.count, persistent: cell.section !== 'new' };
  if (t.peer) {
    await t.peer.reset();
    const { seconds } = await drive(t.peer.port, load);
    await t.peer.check(cell.count);
    return { rate: cell.count / seconds };
  }
  const m = t.mailroom!;
  await deleteAll(m.base);
  const parsedBefore = await parsedTotal(m.base);
  // The same pid before and after bin/mailroom.js re-execs itself.
  const probe = startProbe(m.child.pid!);
  const { seconds, endedAt } = await drive(m.smtpPort, load);
  const lag = cell.section === 'lag' ? await measureLag(m.base, cell.count, SEARCH_WORD, endedAt) : undefined;
  const kept = await stored(m.base);
  if (kept !== cell.count) throw new Error(`${t.name} stored ${kept} of ${cell.count} acknowledged messages`);
  // CPU and memory up to the last message parsed: the work a message costs, not only its 250.
  // Also keeps the next run (of any target) from sharing the CPU with this one's parsing.
  await waitParsed(m.base, parsedBefore + cell.count);
  const use = probe.stop();
  return { rate: cell.count / seconds, cpuMsPerMsg: use.cpuMs / cell.count, rssMb: use.peakRssMb, lag };
}

function progress(cell: Cell, run: number, t: Target, s: Sample): void {
  const extra = [
    s.cpuMsPerMsg !== undefined ? `${s.cpuMsPerMsg.toFixed(3)} CPU ms/msg` : '',
    s.rssMb !== undefined ? `peak RSS ${s.rssMb.toFixed(0)} MB` : '',
    s.lag ? `listed +${s.lag.listed.toFixed(2)} s, searchable +${s.lag.searchable.toFixed(2)} s` : '',
  ].filter(Boolean);
  process.stderr.write(
    `${describeCell(cell)}, run ${run}/${RUNS}: ${t.name} ${Math.round(s.rate)} msgs/s${extra.length ? `, ${extra.join(', ')}` : ''}\n`,
  );
}

async function machineFacts(): Promise<string[]> {
  const cpus = os.cpus();
  let clkTck = '?';
  try {
    clkTck = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim();
  } catch {}
  return [
    `- date: ${new Date().toISOString()}`,
    `- CPUs: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown'} (load average at start ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')})`,
    `- ${os.type()} ${os.release()}, CLK_TCK ${clkTck}`,
    `- Node ${process.version}, Postfix ${await postfixVersion()}`,
  ];
}

async function main(): Promise<void> {
  const facts = await machineFacts();
  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const f of cleanups.splice(0).reverse()) await f().catch((e) => process.stderr.write(`${e}\n`));
  };
  process.once('SIGINT', () => {
    void stopAll().then(() => process.exit(130));
  });
  const results = new Map<Cell, CellResults>();
  const mailrooms: Target[] = [];
  const peers: Target[] = [];
  let postfixNotes: string[] = [];
  try {
    for (const engine of ENGINES) {
      // Quiet logs: per-message info lines are not what is measured. The per-IP connection limit
      // (default 100) is raised so that it can never refuse a benchmark connection.
      const mailroom = await mailroomOn(engine, ['--max-connections-per-ip', '1000'], {
        MAILROOM_LOG_LEVEL: 'warn',
      });
      cleanups.push(() => mailroom.dispose());
      mailrooms.push({ name: `mailroom:${engine}`, mailroom });
    }
    if (PEERS.includes('postfix')) {
      const postfix = await startPostfix();
      cleanups.push(() => postfix.stop());
      postfixNotes = await postfix.describe();
      peers.push({ name: 'postfix', peer: postfix });
    }
    if (PEERS.includes('sink')) {
      const sink = await startSink();
      cleanups.push(() => sink.stop());
      peers.push({ name: 'sink', peer: sink });
    }
    // Warm-up (not measured): JIT, caches, Postfix's first smtpd processes.
    const warm: Cell = { section: 'persistent', size: KB, c: 10, count: 200 };
    for (const t of [...mailrooms, ...peers]) await runOnce(t, warm);

    for (const section of SECTIONS) {
      for (const cell of cellsOf(section)) {
        const r: CellResults = new Map();
        results.set(cell, r);
        const targets = section === 'lag' ? mailrooms : [...mailrooms, ...peers];
        // Run i of every target before run i+1 of any: a change in the machine's load hits all.
        for (let run = 1; run <= RUNS; run++) {
          for (const t of targets) {
            const s = await runOnce(t, cell);
            progress(cell, run, t, s);
            r.set(t.name, [...(r.get(t.name) ?? []), s]);
          }
        }
      }
    }
  } catch (err) {
    for (const t of mailrooms) process.stderr.write(`${t.mailroom!.output.slice(-20).join('\n')}\n`);
    throw err;
  } finally {
    await stopAll();
  }
  print(facts, results, postfixNotes);
}

function print(facts: string[], results: Map<Cell, CellResults>, postfixNotes: string[]): void {
  const out: string[] = ['', `# bench/ingest — median of ${RUNS} run${RUNS > 1 ? 's' : ''} (each run)`, ''];
  out.push(...facts);
  const cells = [...results.keys()];
  const titles: Record<Section, string> = {
    new: '## New connections (one SMTP connection per message)',
    persistent: '## Persistent sessions (smtp-source -d)',
    lag: '## Keeping pace (persistent, c=50, 1 KB)',
  };
  for (const section of SECTIONS) {
    const these = cells.filter((c) => c.section === section);
    if (these.length === 0) continue;
    out.push('', titles[section], '');
    if (section === 'lag') {
      for (const cell of these) out.push(...lagTable(cell, results.get(cell)!, ENGINES));
    } else {
      const counts = these.map((c) => `${describeCell(c)}`).join('; ');
      out.push(`Cells: ${counts}.`, '');
      out.push(...throughputTable(these, results, ENGINES, PEERS));
    }
  }
  out.push(
    '',
    'Mailroom: every message committed (SQLite: fsynced; PostgreSQL: committed) before its 250;',
    '`--max-connections-per-ip 1000`, log level warn, otherwise defaults. CPU ms/msg is utime+stime',
    'of the Mailroom process (all threads) and peak RSS its VmRSS sampled every 50 ms, both from just',
    'before smtp-source starts until every message is parsed.',
  );
  if (SECTIONS.includes('lag')) {
    out.push(
      'Lag: polled every 20 ms from the moment smtp-source exited; listed = GET /api/v1/messages `total`,',
      `searchable = GET /api/v1/search?query=${SEARCH_WORD} \`messages_count\` (every subject has the word: smtp-source -S).`,
    );
  }
  if (postfixNotes.length > 0) {
    out.push(
      '',
      'Postfix: a private instance (test/helpers/postfix.ts: own queue, no chroot, no TLS) whose smtpd',
      'queues every message (queue files fsynced, Postfix default) and parks it in the deferred queue',
      '(relayhost an unused port, `defer_transports = smtp`); its queue is emptied (`postsuper -d ALL`)',
      'before every run and checked to hold exactly the messages sent after it. Settings changed from',
      'the defaults so that smtpd accepts at full speed:',
      ...postfixNotes.map((l) => `- ${l}`),
    );
  }
  console.log(out.join('\n'));
}

await main();
