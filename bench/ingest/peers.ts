// bench/ingest: the load generator (Postfix's smtp-source) and the peers Mailroom is measured
// beside: a private Postfix whose smtpd queues every message (fsynced, as Postfix always does) and
// never delivers any, and Postfix's smtp-sink, which stores nothing.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPostfixRelay } from '../../test/helpers/postfix.ts';
import { findBinary, freePort } from '../../test/helpers/spam-daemons.ts';

/** Every message gets this subject (`smtp-source -S`): the word the lag cell searches for. */
export const SEARCH_WORD = 'ingestbench';

export interface Load {
  /** Body size in bytes (`smtp-source -l`). */
  size: number;
  /** Parallel sessions (`-s`). */
  c: number;
  /** Messages (`-m`). */
  count: number;
  /** Many messages per connection (`-d`); otherwise one connection per message. */
  persistent: boolean;
}

function exec(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(cmd)} ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * One smtp-source run against 127.0.0.1:port. `seconds` runs from its start until it exited (after
 * the last 250 and QUIT); `endedAt` is that moment on the performance.now() clock.
 */
export function drive(port: number, load: Load): Promise<{ seconds: number; endedAt: number }> {
  const args = [
    ...(load.persistent ? ['-d'] : []),
    '-s',
    String(load.c),
    '-l',
    String(load.size),
    '-m',
    String(load.count),
    '-f',
    'bench@example.test',
    '-t',
    'sink@example.test',
    '-S',
    `${SEARCH_WORD} run`,
    `127.0.0.1:${port}`,
  ];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(findBinary('smtp-source', 'MAILROOM_BENCH_SMTP_SOURCE'), args, {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const endedAt = performance.now();
      if (code !== 0) reject(new Error(`smtp-source failed (${code}): ${stderr.trim()}`));
      else resolve({ seconds: (endedAt - started) / 1000, endedAt });
    });
  });
}

/** Resolves once a 220 greeting arrives on the port (tries for 10 s). */
async function greeted(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.setTimeout(1000, () => resolve(false));
      socket.on('error', () => resolve(false));
      socket.once('data', (d: Buffer) => {
        socket.end('QUIT\r\n');
        resolve(d.toString('latin1').startsWith('220'));
      });
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing greets on 127.0.0.1:${port}`);
}

export interface Peer {
  port: number;
  /** Empties its queue before a run (nothing for the sink). */
  reset(): Promise<void>;
  /** After a run: checks that exactly `count` messages were kept (nothing for the sink). */
  check(count: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startSink(): Promise<Peer> {
  const port = await freePort();
  // smtp-sink drops root privileges to the -u user after binding; 1024 is its listen backlog.
  const child: ChildProcess = spawn(
    findBinary('smtp-sink', 'MAILROOM_BENCH_SMTP_SINK'),
    ['-u', 'nobody', `127.0.0.1:${port}`, '1024'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await greeted(port);
  return {
    port,
    reset: async () => {},
    check: async () => {},
    async stop() {
      child.kill();
      await exited;
    },
  };
}

/**
 * The only main.cf changes from Postfix's defaults made for this benchmark (beyond the private
 * instance test/helpers/postfix.ts sets up): what Postfix needs to accept at full speed from one
 * loopback client. in_flow_delay is the one that matters: by default smtpd sleeps up to 1 s per
 * message while the queue manager lags behind the arrivals. The anvil limits do not apply to
 * mynetworks (loopback here) anyway; they are cleared so no reader has to know that.
 */
export const POSTFIX_CHANGES: Record<string, string> = {
  in_flow_delay: '0s',
  default_process_limit: '200',
  smtpd_client_connection_count_limit: '0',
  smtpd_client_connection_rate_limit: '0',
  smtpd_client_message_rate_limit: '0',
  smtpd_error_sleep_time: '0s',
};

const QUEUES = ['maildrop', 'incoming', 'active', 'deferred', 'hold', 'corrupt'];

export interface PostfixPeer extends Peer {
  /** Lines for under the tables: every setting changed, with its default. */
  describe(): Promise<string[]>;
}

export async function startPostfix(): Promise<PostfixPeer> {
  // The relayhost is a port nobody listens on, and defer_transports keeps the smtp client from
  // even trying it: every message is queued by smtpd and cleanup, then parked in the deferred queue.
  const postfix = await startPostfixRelay({
    relayTo: `[127.0.0.1]:${await freePort()}`,
    main: { defer_transports: 'smtp', ...POSTFIX_CHANGES },
  });
  /** Queue files per queue directory (hashed into sub-directories). */
  const files = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const q of QUEUES) {
      const dir = path.join(postfix.queueDir, q);
      out[q] = 0;
      if (!fs.existsSync(dir)) continue;
      for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true }))
        if (e.isFile()) out[q]!++;
    }
    return out;
  };
  const waitFor = async (what: string, done: (f: Record<string, number>) => boolean, timeoutMs: number) => {
    const started = performance.now();
    for (;;) {
      const f = files();
      if (done(f)) return;
      if (performance.now() - started > timeoutMs) {
        process.stderr.write(`${postfix.log().split('\n').slice(-20).join('\n')}\n`);
        throw new Error(`Postfix: ${what} (queue files: ${JSON.stringify(f)})`);
      }
      await sleep(50);
    }
  };
  return {
    port: postfix.port,
    async reset() {
      await postfix.postsuper('-d', 'ALL');
      await waitFor('the queue is not empty after postsuper -d ALL', (f) => sumOf(f) === 0, 30_000);
    },
    async check(count) {
      // The queue manager moves each message from incoming through active to deferred.
      await waitFor(
        `did not park ${count} messages in the deferred queue`,
        (f) => f.deferred === count && sumOf(f) === count,
        60_000 + count * 10,
      );
    },
    async describe() {
      const lines: string[] = [];
      for (const [name, value] of Object.entries(POSTFIX_CHANGES)) {
        const def = (await exec(findBinary('postconf', 'MAILROOM_TEST_POSTCONF'), ['-dh', name])).trim();
        const now = (await postfix.postconf('-h', name)).trim();
        lines.push(`${name} = ${now} (default ${def})${now === value ? '' : ' [not applied!]'}`);
      }
      return lines;
    },
    stop: () => postfix.stop(),
  };
}

function sumOf(f: Record<string, number>): number {
  return Object.values(f).reduce((a, b) => a + b, 0);
}

export async function postfixVersion(): Promise<string> {
  try {
    return (await exec(findBinary('postconf', 'MAILROOM_TEST_POSTCONF'), ['-dh', 'mail_version'])).trim();
  } catch {
    return 'not found';
  }
}
