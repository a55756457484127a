// bench/inbox: Mailpit as the peer, run with the same corpus and requests when its binary is on
// PATH (or named by MAILPIT_BIN). It stores everything (--max 0) in a temporary database file.
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { which } from './ui.ts';

export interface RunningPeer {
  child: ChildProcess;
  smtpPort: number;
  httpPort: number;
  version: string;
  /** The last lines Mailpit wrote, for error reports. */
  output: string[];
  stop(): Promise<void>;
}

/** The Mailpit binary to run, or why there is none. */
export function findMailpit(): { bin: string } | { skipped: string } {
  const wanted = process.env.MAILPIT_BIN || 'mailpit';
  const bin = which(wanted);
  if (bin) return { bin };
  return {
    skipped: process.env.MAILPIT_BIN
      ? `MAILPIT_BIN=${wanted} is not an executable file`
      : 'no mailpit binary on PATH (set MAILPIT_BIN to run the peer)',
  };
}

/** Keeps the last 50 lines a peer wrote (for error reports) and stops it with SIGTERM. */
export function watchChild(child: ChildProcess): { output: string[]; stop(): Promise<void> } {
  const output: string[] = [];
  const keep = (d: string) => {
    output.push(...d.split('\n').filter(Boolean));
    output.splice(0, Math.max(0, output.length - 50));
  };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Starts Mailpit and waits until its API answers. */
export async function startMailpit(bin: string, dir: string, timeoutMs = 20_000): Promise<RunningPeer> {
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  const child = spawn(
    bin,
    [
      '--smtp',
      `127.0.0.1:${smtpPort}`,
      '--listen',
      `127.0.0.1:${httpPort}`,
      '--database',
      path.join(dir, 'mailpit.db'),
      '--max',
      '0',
      '--disable-version-check',
      '--smtp-disable-rdns',
      '--quiet',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const { output, stop } = watchChild(child);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`mailpit exited with ${child.exitCode}:\n${output.join('\n')}`);
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/info`);
      if (res.ok) {
        const info = (await res.json()) as { Version?: string };
        return { child, smtpPort, httpPort, version: info.Version ?? 'unknown', output, stop };
      }
    } catch {}
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`mailpit did not answer within ${timeoutMs} ms:\n${output.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
