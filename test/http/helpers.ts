// Shared set-up for the HTTP API tests: dependencies for createHttpApp, a log capture, and
// messages stored the way the ingest pipeline stores them (spooled, then parsed by the real pool).

import { after, before, beforeEach } from 'node:test';
import type { Hono } from 'hono';
import { loadConfig } from '../../src/config/load.ts';
import { newMessageId } from '../../src/domain/ids.ts';
import type { Envelope } from '../../src/domain/message.ts';
import { EventBus } from '../../src/events/bus.ts';
import { createHttpApp, type HttpDeps } from '../../src/http/app.ts';
import type { AppEnv } from '../../src/http/deps.ts';
import { createAccessPolicy } from '../../src/http/middleware/access.ts';
import { ParsePool } from '../../src/mime/parse-pool.ts';
import type { MimeParser } from '../../src/mime/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { RouteBook } from '../../src/routing/route-book.ts';
import type { Storage } from '../../src/storage/ports.ts';
import { Anchors } from '../../src/tickets/anchors.ts';
import { ticketServices } from '../../src/tickets/setup.ts';
import type { Backend } from '../helpers/backends.ts';
import { envelope } from '../helpers/fixtures.ts';

export function startParser(): ParsePool {
  return ParsePool.start({ workers: 1, timeoutMs: 10_000, memoryBytes: 128 * 1024 * 1024 });
}

/** Log lines written by the app, parsed from pino's JSON output. */
export function logCapture(): {
  lines: Record<string, unknown>[];
  text: string[];
  stream: { write(s: string): void };
} {
  const lines: Record<string, unknown>[] = [];
  const text: string[] = [];
  return {
    lines,
    text,
    stream: {
      write(s: string) {
        text.push(s);
        lines.push(JSON.parse(s) as Record<string, unknown>);
      },
    },
  };
}

export interface TestApp {
  app: Hono<AppEnv>;
  deps: HttpDeps;
  logs: ReturnType<typeof logCapture>;
  setReady(v: boolean): void;
}

export async function makeApp(
  storage: Storage,
  parser: MimeParser,
  at: { dataDir: string; databaseUrl: string },
  over: Partial<HttpDeps> = {},
): Promise<TestApp> {
  const logs = logCapture();
  let ready = true;
  const argv = ['--data-dir', at.dataDir, ...(at.databaseUrl ? ['--database-url', at.databaseUrl] : [])];
  const config = loadConfig({ argv, env: {} });
  const events = new EventBus();
  const deps: HttpDeps = {
    storage,
    send: {
      queue: storage.outbound,
      hostname: 'mailroom.test',
      limits: { maxRecipients: config.maxRecipients, maxBytes: config.maxMessageSize },
      lifetimeMs: config.queueLifetime,
      now: Date.now,
      onQueued: (id) => events.emit('outbound:queued', { id }),
      // The default transport is capture; no worker runs here, so there is nothing to wait for.
      awaitCaptured: async () => true,
    },
    parser,
    routes: new RouteBook({
      store: storage.routes,
      fileRoutes: [],
      budgetMs: config.routeBudget,
      now: Date.now,
    }),
    tickets: ticketServices(new Anchors([], []), storage.tickets, {
      queue: storage.outbound,
      lifetimeMs: config.queueLifetime,
      onQueued: (id) => events.emit('outbound:queued', { id }),
      now: Date.now,
    }),
    events,
    access: await createAccessPolicy(config),
    spam: null,
    metrics: createMetrics(),
    logger: createLogger('debug', logs.stream),
    config,
    ready: () => ready,
    version: '9.8.7-test',
    startedAt: Date.now() - 5000,
    ...over,
  };
  return { app: createHttpApp(deps), deps, logs, setReady: (v) => (ready = v) };
}

/**
 * Spools one message and, unless told otherwise, parses it with the real pool and saves the
 * result, as the ingest pipeline does. The pool takes ownership of the bytes it is given, so it
 * gets a copy and the caller's `raw` stays intact for comparisons.
 */
export async function store(
  storage: Storage,
  parser: MimeParser,
  raw: Uint8Array,
  opts: { parse?: boolean; envelope?: Partial<Envelope> } = {},
): Promise<string> {
  const id = newMessageId();
  await storage.appendSpool([{ id, envelope: envelope(opts.envelope), raw: new Uint8Array(raw) }]);
  if (opts.parse !== false) {
    await storage.saveParsed([
      { id: id, result: { ok: true, parsed: await parser.parse(new Uint8Array(raw)) } },
    ]);
  }
  return id;
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** The mailbox counts part of Mailpit's MessagesSummary, plus its messages. */
export type List = {
  total: number;
  unread: number;
  count: number;
  messages_count: number;
  messages_unread: number;
  start: number;
  tags: string[];
  messages: Record<string, unknown>[];
};

export interface SuiteContext {
  storage: Storage;
  parser: ParsePool;
  t: TestApp;
  get(path: string): Promise<Response>;
  send(method: string, path: string, body: unknown): Promise<Response>;
}

/**
 * Registers before/after hooks inside the calling describe(): a fresh store of `backend`, a parse
 * pool and an app; every test starts with an empty mailbox. Fields are filled in by `before`.
 */
export function backendSuite(backend: Backend): SuiteContext {
  let cleanup: () => Promise<void> = async () => {};
  const ctx = {
    get: (path: string) => ctx.t.app.request(path),
    send: (method: string, path: string, body: unknown) =>
      ctx.t.app.request(path, {
        method,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      }),
  } as SuiteContext;
  before(async () => {
    const created = await backend.create();
    ctx.storage = created.storage;
    cleanup = created.cleanup;
    ctx.parser = startParser();
    ctx.t = await makeApp(ctx.storage, ctx.parser, created);
  });
  after(async () => {
    await ctx.parser.close();
    await cleanup();
  });
  beforeEach(async () => {
    await ctx.storage.delete('all');
  });
  return ctx;
}
