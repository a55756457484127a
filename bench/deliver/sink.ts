// bench/deliver: Postfix's smtp-sink on loopback as the one destination of both contenders. It
// stores nothing; with -c it prints running counters ("sess=N quit=N mesg=N", CR-separated) on
// every session end, QUIT and end of DATA, which this module reads as they come to know when the
// Nth message of a run arrived and how many connections carried them.
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { findBinary, freePort } from '../../test/helpers/spam-daemons.ts';

export interface Counters {
  /** SMTP sessions ended. */
  sessions: number;
  /** Messages received (end of DATA). */
  messages: number;
}

export interface Mark {
  /** performance.now() of the first message after the mark. */
  first: number | null;
  /** performance.now() when the count reached the target. */
  last: number;
}

export interface CountingSink {
  port: number;
  counters(): Counters;
  /**
   * Resolves when `count` messages have arrived after `base` (a counters() snapshot), with the
   * times of the first and the last; rejects after `timeoutMs` without a new message.
   */
  waitFor(base: Counters, count: number, idleTimeoutMs: number): Promise<Mark>;
  stop(): Promise<void>;
}

export async function startSink(): Promise<CountingSink> {
  const bin = findBinary('smtp-sink', 'MAILROOM_BENCH_SMTP_SINK');
  const port = await freePort();
  // smtp-sink drops root privileges to the -u user after binding. The backlog is generous: both
  // contenders open up to their concurrency limit at once.
  const child: ChildProcess = spawn(bin, ['-c', '-u', 'nobody', `127.0.0.1:${port}`, '1024'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let current: Counters = { sessions: 0, messages: 0 };
  let firstAfter: { at: number; messages: number } | null = null;
  let lastChange = performance.now();
  let pending = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout!.setEncoding('latin1').on('data', (d: string) => {
    pending += d;
    const parts = pending.split('\r');
    pending = parts.pop()!;
    const now = performance.now();
    for (const p of parts) {
      const m = /sess=(\d+) quit=\d+ mesg=(\d+)/.exec(p);
      if (!m) continue;
      const messages = Number(m[2]);
      if (messages > current.messages) {
        lastChange = now;
        if (firstAfter && firstAfter.at < 0 && messages > firstAfter.messages) firstAfter.at = now;
      }
      current = { sessions: Number(m[1]), messages };
    }
    for (const w of watchers) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Up when a connection gets its greeting.
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`smtp-sink exited: ${stderr}`);
    const up = await fetch(`http://127.0.0.1:${port}`).then(
      () => true,
      (err: Error) => !/ECONNREFUSED/.test(String((err as { cause?: Error }).cause?.message ?? err.message)),
    );
    if (up) break;
    if (performance.now() - started > 10_000) throw new Error(`smtp-sink did not listen: ${stderr}`);
    await sleep(50);
  }
  // The probe above was a session; let its counter line arrive.
  await sleep(200);
  return {
    port,
    counters: () => ({ ...current }),
    waitFor(base, count, idleTimeoutMs) {
      firstAfter = { at: -1, messages: base.messages };
      lastChange = performance.now();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (current.messages - base.messages < count) return;
          cleanup();
          const at = firstAfter!.at;
          resolve({ first: at < 0 ? null : at, last: lastChange });
        };
        const idle = setInterval(() => {
          if (performance.now() - lastChange > idleTimeoutMs) {
            cleanup();
            reject(
              new Error(
                `the sink got ${current.messages - base.messages} of ${count} messages, then nothing for ${idleTimeoutMs / 1000} s`,
              ),
            );
          }
        }, 500);
        const cleanup = () => {
          clearInterval(idle);
          watchers.delete(check);
        };
        watchers.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      await exited;
    },
  };
}
