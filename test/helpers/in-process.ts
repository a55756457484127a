// Mailroom started in this process on a fresh store (SQLite or PostgreSQL), with routes from a
// file and a fake DNS resolver injected: for end-to-end tests that need what a child process
// cannot be given (the resolver) or look into the store directly.
import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { type Mailroom, startMailroom } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { DnsResolver } from '../../src/ingest/sender-auth.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { freshPostgresDatabase, tempDir } from './backends.ts';

export interface InProcessRig {
  /** Starts (or starts again, on the same store) with the rig's arguments. */
  start(): Promise<Mailroom>;
  /** Closes the running server, if any, keeping the store. */
  stop(): Promise<void>;
  /** Stops, then drops the database and removes the data directory. */
  dispose(): Promise<void>;
}

export async function inProcessRig(o: {
  engine: 'sqlite' | 'postgres';
  hostname: string;
  /** The routes file's content (API shape). */
  routes: unknown[];
  resolver: DnsResolver;
  /** Listen for SMTP (the MX listener) on a free loopback port; true by default. */
  smtp?: boolean;
  args?: string[];
}): Promise<InProcessRig> {
  const dir = tempDir();
  const routesFile = path.join(dir, 'routes.json');
  fs.writeFileSync(routesFile, JSON.stringify(o.routes));
  const pg = o.engine === 'postgres' ? await freshPostgresDatabase() : null;
  const argv = [
    '--data-dir',
    path.join(dir, 'data'),
    ...(pg ? ['--database-url', pg.url] : []),
    '--smtp-listen',
    o.smtp === false ? '' : '127.0.0.1:0',
    '--submission-listen',
    '',
    '--smtps-listen',
    '',
    '--http-listen',
    '127.0.0.1:0',
    '--smtp-hostname',
    o.hostname,
    '--routes-file',
    routesFile,
    ...(o.args ?? []),
  ];
  let server: Mailroom | null = null;
  const stop = async () => {
    await server?.close();
    server = null;
  };
  return {
    async start() {
      server = await startMailroom(loadConfig({ argv, env: {} }), {
        logger: createLogger('silent'),
        resolver: o.resolver,
      });
      return server;
    },
    stop,
    async dispose() {
      await stop();
      await pg?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sends raw bytes to the server's MX listener with the given envelope. */
export async function sendToMx(server: Mailroom, raw: Buffer, from: string, to: string[]): Promise<void> {
  const t = nodemailer.createTransport({
    host: '127.0.0.1',
    port: server.smtpAddresses().smtp!.port,
    secure: false,
    ignoreTLS: true,
  });
  try {
    await t.sendMail({ envelope: { from, to }, raw });
  } finally {
    t.close();
  }
}

export interface StoredMail {
  id: string;
  subject: string;
  mailFrom: string;
  rcptTo: string[];
  listener: string;
  tags: string[];
  /** Parsed (or failed): no longer waiting for the parser. */
  parsed: boolean;
  raw: string;
}

/** Every stored message (up to 100), newest first, with its envelope, tags and bytes. */
export async function storedMail(server: Mailroom): Promise<StoredMail[]> {
  const { messages } = await server.storage.list({ start: 0, limit: 100 });
  return Promise.all(
    messages.map(async (m) => {
      const full = (await server.storage.get(m.id))!;
      return {
        id: m.id,
        subject: m.subject,
        mailFrom: full.envelope.mailFrom,
        rcptTo: full.envelope.rcptTo,
        listener: full.envelope.listener,
        tags: full.tags,
        parsed: m.parseState !== 'pending',
        raw: Buffer.from((await server.storage.getRaw(m.id))!).toString(),
      };
    }),
  );
}

/** The stored mail once `ok` holds for it (polling for up to 20 s); fails naming `what` otherwise. */
export async function mailWhen(
  server: Mailroom,
  what: string,
  ok: (ms: StoredMail[]) => boolean,
): Promise<StoredMail[]> {
  for (let i = 0; i < 400; i++) {
    const ms = await storedMail(server);
    if (ok(ms)) return ms;
    await new Promise((r) => setTimeout(r, 50));
  }
  const last = await storedMail(server);
  throw new Error(`${what}: ${JSON.stringify(last.map((m) => [m.subject, m.mailFrom, m.rcptTo, m.tags]))}`);
}
