// bench/deliver: Postfix's side. A private Postfix relay (test/helpers/postfix.ts) whose relayhost
// is the sink takes the messages from smtp-source through its smtpd while `defer_transports = smtp`
// keeps its smtp client from delivering: each message is queued and parked in the deferred queue.
// The release clears defer_transports (`postconf -e`, `postfix reload`) and flushes the queue
// (`postqueue -f`); from then on the clock runs until the sink has every message.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RunningPostfix, startPostfixRelay } from '../../test/helpers/postfix.ts';
import { findBinary } from '../../test/helpers/spam-daemons.ts';
import type { RunResult } from './mailroom.ts';
import type { CountingSink } from './sink.ts';

export interface PostfixSettings {
  count: number;
  size: number;
  /** default_destination_concurrency_limit (smtp_destination_concurrency_limit follows it). */
  concurrency: number;
}

/** The settings that decide how fast Postfix's queue drains to one destination, as it ran. */
export const POSTFIX_SETTINGS = [
  'default_destination_concurrency_limit',
  'smtp_destination_concurrency_limit',
  'initial_destination_concurrency',
  'default_process_limit',
  'smtp_connection_cache_on_demand',
  'smtp_connection_reuse_time_limit',
  'smtp_connection_reuse_count_limit',
  'default_destination_recipient_limit',
  'qmgr_message_active_limit',
  'smtp_tls_security_level',
];

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

/** Files in a queue directory (they are hashed into sub-directories). */
function queued(postfix: RunningPostfix, queue: string): number {
  const dir = path.join(postfix.queueDir, queue);
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) if (entry.isFile()) n++;
  return n;
}

async function settings(postfix: RunningPostfix): Promise<Record<string, string>> {
  const out = await postfix.postconf(...POSTFIX_SETTINGS);
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split(' = ') as [string, string]),
  );
}

export async function runPostfix(
  s: PostfixSettings,
  sink: CountingSink,
): Promise<RunResult & { settings: Record<string, string> }> {
  const postfix = await startPostfixRelay({
    relayTo: `[127.0.0.1]:${sink.port}`,
    main: {
      default_destination_concurrency_limit: String(s.concurrency),
      defer_transports: 'smtp',
      // smtpd takes the injection as fast as it comes (it is not what is measured).
      in_flow_delay: '0s',
    },
  });
  try {
    // 1. Inject through smtpd; everything ends up in the deferred queue.
    const queueStart = performance.now();
    const source = await run(findBinary('smtp-source', 'MAILROOM_BENCH_SMTP_SOURCE'), [
      '-s',
      '20',
      '-d',
      '-l',
      String(s.size),
      '-m',
      String(s.count),
      '-f',
      'bench@shop.example',
      '-t',
      'rcpt@sink.test',
      '-S',
      'bench',
      `127.0.0.1:${postfix.port}`,
    ]);
    if (source.code !== 0) throw new Error(`smtp-source failed (${source.code}): ${source.stderr}`);
    for (let i = 0; ; i++) {
      const deferred = queued(postfix, 'deferred');
      const busy = queued(postfix, 'incoming') + queued(postfix, 'active') + queued(postfix, 'maildrop');
      if (deferred === s.count && busy === 0) break;
      if (i > 1200) throw new Error(`Postfix parked ${deferred} of ${s.count} messages (${busy} in flight)`);
      await sleep(100);
    }
    const queueing = (performance.now() - queueStart) / 1000;
    const sample = JSON.parse((await postfix.postqueue('-j')).split('\n')[0]!) as { message_size: number };

    // 2. Release and flush.
    const base = sink.counters();
    const released = performance.now();
    const done = sink.waitFor(base, s.count, 30_000);
    await postfix.configure({ defer_transports: '' });
    await postfix.postqueue('-f');
    const mark = await done;

    // 3. The queue is empty, and nothing was sent twice.
    for (let i = 0; ; i++) {
      const left = ['incoming', 'active', 'deferred'].reduce((n, q) => n + queued(postfix, q), 0);
      if (left === 0) break;
      if (i > 100) throw new Error(`${left} messages still in Postfix's queue`);
      await sleep(100);
    }
    if (sink.counters().messages - base.messages !== s.count)
      throw new Error(`the sink got ${sink.counters().messages - base.messages} messages for ${s.count}`);
    // Postfix closes its cached connections after smtp_connection_cache_time_limit (2 s).
    await sleep(2500);
    const after = sink.counters();
    return {
      fromRelease: (mark.last - released) / 1000,
      steady: ((mark.last - (mark.first ?? released)) / 1000) * (s.count / Math.max(1, s.count - 1)),
      sessions: after.sessions - base.sessions,
      messageBytes: sample.message_size,
      queueing,
      settings: await settings(postfix),
    };
  } catch (err) {
    process.stderr.write(`${postfix.log().split('\n').slice(-30).join('\n')}\n`);
    throw err;
  } finally {
    await postfix.stop();
  }
}
