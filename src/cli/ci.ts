// `mailroom ci`: a capture sandbox for one CI job. It starts like `mailroom start` (same options),
// prints where it listens, and exits once the expected number of messages has arrived (and been
// parsed), leaving each message as .eml and .json files for the job's artifacts. A job that sends
// too few fails with a summary of what did arrive.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Mailroom } from '../app.ts';
import { ConfigError, loadConfig } from '../config/load.ts';
import type { MessageSummary } from '../domain/message.ts';
import { parseHeaders } from '../http/routes/message/headers.ts';
import { presentMessage } from '../http/routes/message/presenter.ts';
import { presentSummary } from '../http/routes/messages/presenter.ts';
import { parseWaitDuration } from '../http/routes/wait/schema.ts';
import { createLogger } from '../observability/logger.ts';
import type { Storage } from '../storage/ports.ts';
import { httpUrl, reachable } from './endpoints.ts';

export const CI_USAGE = `Usage:
  mailroom ci --expect N [--timeout 60s] [--out DIR] [start options]

Starts a capture sandbox exactly as 'mailroom start' does with the same options, prints where it
listens on standard output, one shell assignment a line:

  SMTP_HOST=127.0.0.1
  SMTP_PORT=1025
  MAILROOM_URL=http://127.0.0.1:8025
  (and SUBMISSION_PORT, SMTPS_PORT when those listeners are on)

and exits 0 once N messages have arrived and been parsed. '--smtp-listen 127.0.0.1:0' and
'--http-listen 127.0.0.1:0' pick free ports. Only mail arriving after the start counts; without
--data-dir or --database-url the store is a fresh directory, removed at exit. Logs go to
standard error.

--out DIR receives each message as <n>-<id>.eml (the bytes received) and <n>-<id>.json (the
message API's JSON plus Headers), n counting from 1 in arrival order, and summary.json.
--timeout takes ms, s or m.

Exit status: 0 N messages arrived; 1 fewer did before the timeout (a summary on standard error),
or the sandbox could not start (a port in use); 2 usage or configuration error; 130 or 143
stopped by SIGINT or SIGTERM.
`;

export interface CiIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Where the server's JSON log lines go. */
  log: { write(line: string): void };
  /** Calls back on SIGINT or SIGTERM; returns the unsubscribe. */
  onSignal: (stop: (signal: 'SIGINT' | 'SIGTERM') => void) => () => void;
}

const PAGE = 500;
/** Local parse events answer at once; this look also covers parses on another node. */
const LOOK_MS = 1000;

function takeFlag(argv: string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const arg = argv[i]!;
  if (arg.includes('=')) {
    argv.splice(i, 1);
    return arg.slice(arg.indexOf('=') + 1);
  }
  const value = argv[i + 1];
  if (value === undefined) throw new ConfigError(`ci: --${name} needs a value`);
  argv.splice(i, 2);
  return value;
}

/** Parsed (or failed) messages stored after `baseline`, oldest first. */
async function arrivedAfter(storage: Storage, baseline: number): Promise<MessageSummary[]> {
  const found: MessageSummary[] = [];
  for (let start = 0; ; start += PAGE) {
    const { messages } = await storage.list({ start, limit: PAGE });
    for (const m of messages) {
      if (m.seq <= baseline) return found.reverse();
      if (m.parseState !== 'pending') found.push(m);
    }
    if (messages.length < PAGE) return found.reverse();
  }
}

function portLines(m: Mailroom): string {
  const smtp = m.smtpAddresses();
  const http = m.httpAddress();
  const lines: string[] = [];
  if (smtp.smtp) lines.push(`SMTP_HOST=${reachable(smtp.smtp.address)}`, `SMTP_PORT=${smtp.smtp.port}`);
  if (smtp.submission) lines.push(`SUBMISSION_PORT=${smtp.submission.port}`);
  if (smtp.smtps) lines.push(`SMTPS_PORT=${smtp.smtps.port}`);
  if (http) lines.push(`MAILROOM_URL=${httpUrl(reachable(http.address), http.port)}`);
  return lines.map((l) => `${l}\n`).join('');
}

type Ending = 'done' | 'timeout' | 'SIGINT' | 'SIGTERM';

/** Resolves once `count()` reaches `expect`, the time is up, or a signal came. */
function arrival(m: Mailroom, count: () => Promise<number>, expect: number, timeoutMs: number, io: CiIo) {
  return new Promise<Ending>((resolve) => {
    let looking = false;
    let again = false;
    let ended = false;
    const end = (how: Ending) => {
      if (ended) return;
      ended = true;
      off();
      offSignal();
      clearInterval(ticker);
      clearTimeout(timer);
      resolve(how);
    };
    const look = async () => {
      if (looking) {
        again = true;
        return;
      }
      looking = true;
      try {
        do {
          again = false;
          if ((await count()) >= expect) end('done');
        } while (again && !ended);
      } catch (err) {
        m.logger.error({ err }, 'ci: could not count the messages');
      } finally {
        looking = false;
      }
    };
    const off = m.events.on('message:parsed', () => void look());
    const ticker = setInterval(() => void look(), LOOK_MS);
    const timer = setTimeout(() => end('timeout'), timeoutMs);
    const offSignal = io.onSignal(end);
    void look();
  });
}

async function writeArtifacts(storage: Storage, messages: MessageSummary[], dir: string, expect: number) {
  fs.mkdirSync(dir, { recursive: true });
  const width = String(Math.max(messages.length, expect)).length;
  const files: string[] = [];
  for (const [i, m] of messages.entries()) {
    const base = `${String(i + 1).padStart(width, '0')}-${m.id}`;
    files.push(base);
    const [raw, full] = await Promise.all([storage.getRaw(m.id), storage.get(m.id)]);
    // Gone meanwhile (retention, a DELETE through the API): its summary still says it came.
    if (!raw || !full) continue;
    fs.writeFileSync(path.join(dir, `${base}.eml`), raw);
    const json = { ...presentMessage(full, full.parsed, full.parseError), Headers: parseHeaders(raw) };
    fs.writeFileSync(path.join(dir, `${base}.json`), `${JSON.stringify(json, null, 2)}\n`);
  }
  const summary = {
    Expected: expect,
    Arrived: messages.length,
    Messages: messages.map((m, i) => ({ File: files[i], ...presentSummary(m) })),
  };
  fs.writeFileSync(path.join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
}

function describe(messages: MessageSummary[]): string {
  return messages
    .map((m, i) => {
      const to = [...m.to, ...m.cc].map((a) => a.Address).join(', ') || m.envelope.rcptTo.join(', ');
      return `  ${i + 1}. ${m.id}  ${m.from?.Address ?? m.envelope.mailFrom} -> ${to}: ${m.subject}\n`;
    })
    .join('');
}

function readOptions(argv: string[]): { expect: number; timeoutMs: number; out: string | undefined } {
  const expect = takeFlag(argv, 'expect');
  const timeout = takeFlag(argv, 'timeout') ?? '60s';
  const out = takeFlag(argv, 'out');
  if (expect === undefined) throw new ConfigError(`ci: --expect is required\n\n${CI_USAGE}`);
  if (!/^\d{1,6}$/.test(expect) || Number(expect) < 1)
    throw new ConfigError(`ci: --expect "${expect}" is not a whole number from 1 to 999999`);
  const timeoutMs = parseWaitDuration(timeout);
  if (timeoutMs === null)
    throw new ConfigError(`ci: --timeout "${timeout}" is not a duration such as 90s or 5m`);
  return { expect: Number(expect), timeoutMs, out };
}

/** Runs the sandbox until the messages came or the time is up; returns the exit status. */
export async function runCiCommand(args: string[], io: CiIo): Promise<number> {
  const argv = [...args];
  const { expect, timeoutMs, out } = readOptions(argv);
  let config = loadConfig({ argv, env: io.env });
  let scratch: string | null = null;
  if (config.sources.dataDir === 'default' && !config.databaseUrl) {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-ci-'));
    config = loadConfig({ argv: ['--data-dir', scratch, ...argv], env: io.env });
  }
  const { startMailroom } = await import('../app.ts');
  try {
    const mailroom = await startMailroom(config, { logger: createLogger(config.logLevel, io.log) });
    try {
      const { storage } = mailroom;
      const baseline = (await storage.list({ start: 0, limit: 1 })).messages[0]?.seq ?? 0;
      io.out(portLines(mailroom));
      const count = async () => (await arrivedAfter(storage, baseline)).length;
      const ending = await arrival(mailroom, count, expect, timeoutMs, io);
      const messages = await arrivedAfter(storage, baseline);
      if (out) await writeArtifacts(storage, messages, out, expect);
      const written = out ? `; written to ${out}` : '';
      if (messages.length >= expect) {
        io.err(`mailroom ci: ${messages.length} of ${expect} expected messages arrived${written}\n`);
        return 0;
      }
      const why = ending === 'timeout' ? `timed out after ${timeoutMs / 1000}s` : `stopped by ${ending}`;
      io.err(`mailroom ci: ${why}: ${messages.length} of ${expect} expected messages arrived${written}\n`);
      io.err(describe(messages));
      return ending === 'SIGINT' ? 130 : ending === 'SIGTERM' ? 143 : 1;
    } finally {
      await mailroom.close();
    }
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}
