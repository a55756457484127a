// Starts the smtp role on 127.0.0.1:0 ports over a real storage backend, with a temp data
// directory (self-signed TLS generated there), trace logs captured in memory and a users file.
import fs from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { EventBus } from '../../src/events/bus.ts';
import { Spool } from '../../src/ingest/spool.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetrics, type Metrics } from '../../src/observability/metrics.ts';
import { hashPassword } from '../../src/smtp/auth-file.ts';
import type { Hooks } from '../../src/smtp/hooks/index.ts';
import { type SmtpRole, startSmtp } from '../../src/smtp/server.ts';
import { loadTls } from '../../src/smtp/tls.ts';
import type { Storage } from '../../src/storage/ports.ts';
import type { Backend } from '../helpers/backends.ts';

/** Users in the generated auth file: one bcrypt ($2y$, as htpasswd -B writes), one scrypt. */
export const USERS = {
  bcrypt: { user: 'alice', password: 'correct horse battery' },
  scrypt: { user: 'bob', password: 'p@ss:w0rd with spaces' },
};

export interface Harness {
  config: Config;
  storage: Storage;
  metrics: Metrics;
  role: SmtpRole;
  ports: { smtp: number; submission: number; smtps: number };
  dataDir: string;
  /** Every log line so far, raw JSON text. */
  logText(): string;
  logs(): Record<string, unknown>[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Extra CLI flags, e.g. ['--max-recipients', '2']. */
  flags?: string[];
  hooks?: Partial<Hooks>;
  /** Hold each 250 back this long after the durable commit (a slow acknowledgement). */
  spoolDelayMs?: number;
  /** Leave out --smtp-auth-file. */
  noAuthFile?: boolean;
}

async function writeUsers(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'smtp-users');
  const bcryptHash = bcrypt.hashSync(USERS.bcrypt.password, 4).replace(/^\$2b\$/, '$2y$');
  const scryptHash = await hashPassword(USERS.scrypt.password);
  fs.writeFileSync(
    file,
    `# test users\n${USERS.bcrypt.user}:${bcryptHash}\n\n${USERS.scrypt.user}:${scryptHash}\n`,
  );
  return file;
}

export async function startHarness(backend: Backend, opts: HarnessOptions = {}): Promise<Harness> {
  const store = await backend.create();
  const lines: string[] = [];
  const logger = createLogger('trace', { write: (s: string) => void lines.push(s) });
  const authFlags = opts.noAuthFile ? [] : ['--smtp-auth-file', await writeUsers(store.dataDir)];
  const config = loadConfig({
    argv: [
      ...['--data-dir', store.dataDir, '--smtp-hostname', 'mx.mailroom.test'],
      ...[
        '--smtp-listen',
        '127.0.0.1:0',
        '--submission-listen',
        '127.0.0.1:0',
        '--smtps-listen',
        '127.0.0.1:0',
      ],
      ...['--smtp-command-timeout', '2s', '--smtp-idle-timeout', '5s', '--smtp-data-timeout', '10s'],
      ...authFlags,
      ...(opts.flags ?? []),
    ],
    env: {},
  });
  const metrics = createMetrics();
  const spool = new Spool({ storage: store.storage, metrics, events: new EventBus() });
  if (opts.spoolDelayMs) {
    const accept = spool.accept.bind(spool);
    const delay = opts.spoolDelayMs;
    spool.accept = async (envelope, raw) => {
      const id = await accept(envelope, raw);
      await new Promise((resolve) => setTimeout(resolve, delay));
      return id;
    };
  }
  const tls = await loadTls(config);
  const role = await startSmtp({ config, logger, metrics, spool, tls, hooks: opts.hooks });
  const a = role.addresses();
  return {
    config,
    storage: store.storage,
    metrics,
    role,
    ports: { smtp: a.smtp?.port ?? 0, submission: a.submission?.port ?? 0, smtps: a.smtps?.port ?? 0 },
    dataDir: store.dataDir,
    logText: () => lines.join(''),
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    async close() {
      await role.close();
      await store.cleanup();
    },
  };
}

/** Waits until `fn` is true, polling; throws with `what` after `ms`. */
export async function waitFor(fn: () => boolean | Promise<boolean>, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** All stored messages with raw bytes, oldest first. */
export async function storedMessages(storage: Storage) {
  const list = await storage.list({ start: 0, limit: 1000 });
  const out = [];
  for (const m of list.messages.reverse())
    out.push({ summary: m, raw: Buffer.from((await storage.getRaw(m.id))!) });
  return out;
}
