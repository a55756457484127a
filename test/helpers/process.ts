// Runs Mailroom as a real child process (bin/mailroom.js), the way an operator starts it, and
// reads the listening addresses from its "mailroom started" log line.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freshPostgresDatabase, tempDir } from './backends.ts';

export const BIN = fileURLToPath(new URL('../../bin/mailroom.js', import.meta.url));

export interface RunningMailroom {
  child: ChildProcess;
  smtpPort: number;
  httpPort: number;
  /** Every stdout line so far (JSON logs). */
  output: string[];
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
}

export function spawnMailroom(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 20_000,
  /** Flags for node itself, before bin/mailroom.js. */
  nodeArgs: string[] = [],
): Promise<RunningMailroom> {
  // The "mailroom started" line is logged at info or above whatever MAILROOM_LOG_LEVEL says, so
  // quiet runs (benchmarks) can still find their ports.
  const child = spawn(
    process.execPath,
    [...nodeArgs, BIN, 'start', '--smtp-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', ...args],
    {
      env: { ...process.env, MAILROOM_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mailroom did not start within ${timeoutMs} ms\n${stderr}\n${output.join('\n')}`));
    }, timeoutMs);
    let pending = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        output.push(line);
        if (!line.includes('"mailroom started"')) continue;
        const rec = JSON.parse(line) as { smtp?: { smtp?: { port: number } }; http?: { port: number } };
        clearTimeout(timer);
        resolve({
          child,
          output,
          smtpPort: rec.smtp?.smtp?.port ?? 0,
          httpPort: rec.http?.port ?? 0,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mailroom exited with ${code} before starting\n${stderr}`));
    });
  });
}

/** A Mailroom process on one engine, in a data directory (and database) of its own. */
export interface MailroomOnEngine extends RunningMailroom {
  /** http://127.0.0.1:<port> of its API. */
  base: string;
  /** Stops it, then removes its data directory and drops its database. */
  dispose(): Promise<void>;
}

/** Starts Mailroom on SQLite in a fresh data directory, or on a fresh PostgreSQL database. */
export async function mailroomOn(
  engine: 'sqlite' | 'postgres',
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<MailroomOnEngine> {
  const dataDir = tempDir();
  const pg = engine === 'postgres' ? await freshPostgresDatabase() : null;
  const server = await spawnMailroom(
    ['--data-dir', dataDir, ...(pg ? ['--database-url', pg.url] : []), ...args],
    env,
  );
  return {
    ...server,
    base: `http://127.0.0.1:${server.httpPort}`,
    async dispose() {
      await server.stop();
      await pg?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
