// The composition root: the only module that picks adapters and wires services together.

import dns from 'node:dns/promises';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { ActionRunner } from './actions/action-runner.ts';
import type { OutboundActionDeps } from './actions/forward/outbound-deps.ts';
import { ACTION_LIFETIME_MS, actionExecutors } from './actions/registry.ts';
import { attachmentUrlsFromConfig } from './actions/webhook/attachment-url.ts';
import { checkSecrets, checkWebhookSecrets } from './actions/webhook/secrets.ts';
import { ConfigError } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { InboxBook, InboxError } from './domain/inbox.ts';
import type { Envelope } from './domain/message.ts';
import { EventBus } from './events/bus.ts';
import { createHttpApp } from './http/app.ts';
import { LiveHub } from './http/live/hub.ts';
import { createAccessPolicy } from './http/middleware/access.ts';
import { startHttp } from './http/server.ts';
import { contentRejecter } from './ingest/content-reject.ts';
import { createImportSink } from './ingest/import-sink.ts';
import { ParseRunner } from './ingest/parse-runner.ts';
import { Retention } from './ingest/retention.ts';
import { RouteRunner } from './ingest/route-runner.ts';
import {
  checkSender,
  type DnsResolver,
  loadSenderChecks,
  withAuthenticationResults,
} from './ingest/sender-auth.ts';
import { authservIdFor } from './ingest/sender-auth-format.ts';
import { renameForgedResults } from './ingest/sender-auth-headers.ts';
import { Spool } from './ingest/spool.ts';
import { Tagger } from './ingest/tagger.ts';
import { parseMessage } from './mime/extract.ts';
import { ParsePool } from './mime/parse-pool.ts';
import { createAddressPolicy } from './net/address-policy.ts';
import { createLogger, type Logger, safeUrl } from './observability/logger.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { isHardBounce, queueBounceNotice } from './outbound/bounce-notice.ts';
import { classifyReply } from './outbound/bounce-rules.ts';
import { captureWaiter } from './outbound/capture-wait.ts';
import { DeliveryWorker } from './outbound/delivery-worker.ts';
import { type DkimKey, keyForSender, loadSigner, signMessage } from './outbound/dkim.ts';
import { loadDkimKeys } from './outbound/dkim-keys.ts';
import { Releaser, releaseFromConfig } from './outbound/release.ts';
import { ReportIntake } from './outbound/report-intake.ts';
import type { SendServiceDeps } from './outbound/send-service.ts';
import type { TlsMode } from './outbound/smtp-client.ts';
import { srsReturnPath } from './outbound/srs.ts';
import { queueSubmission } from './outbound/submission.ts';
import { trackingFromConfig } from './outbound/tracking.ts';
import type { Transport } from './outbound/transport.ts';
import { CaptureTransport } from './outbound/transports/capture.ts';
import { MxTransport } from './outbound/transports/mx.ts';
import { RelayTransport } from './outbound/transports/relay.ts';
import { loadRoutesFile, RouteBook } from './routing/route-book.ts';
import { Router } from './routing/router.ts';
import { startIdleGc } from './runtime/idle-gc.ts';
import { chaosFromConfig } from './smtp/chaos.ts';
import { type SmtpRole, startSmtp } from './smtp/server.ts';
import { loadTls } from './smtp/tls.ts';
import { PollUrlError, parsePollUrl } from './sources/poll-url.ts';
import { startPollers } from './sources/start-pollers.ts';
import { createSpamChecker } from './spam/index.ts';
import type { Storage } from './storage/ports.ts';
import { TicketFeed } from './tickets/feed.ts';
import { anchorsFromConfig, notifying, type TicketServices, ticketServices } from './tickets/setup.ts';
import { VERSION } from './version.ts';

export interface Mailroom {
  readonly config: Config;
  readonly storage: Storage;
  readonly metrics: Metrics;
  readonly events: EventBus;
  readonly logger: Logger;
  smtpAddresses(): ReturnType<SmtpRole['addresses']>;
  httpAddress(): AddressInfo | null;
  close(): Promise<void>;
}

/** The configured store on its own, for commands that work on it without starting roles. */
export async function openConfiguredStorage(config: Config): Promise<Storage> {
  return (await openStorage(config, createMetrics())).storage;
}

/**
 * Opens the configured engine, with what it has to say about its server. Each adapter is loaded
 * only when chosen: a SQLite server does not keep the PostgreSQL driver's modules in its heap.
 */
async function openStorage(
  config: Config,
  metrics: Metrics,
): Promise<{ storage: Storage; warnings: string[] }> {
  const onCommit = (size: number) => metrics.spoolBatchSize.observe(size);
  if (config.databaseUrl) {
    const { PostgresStorage } = await import('./storage/postgres/store.ts');
    const pg = await PostgresStorage.open(config.databaseUrl);
    pg.onCommit = onCommit;
    try {
      return { storage: pg, warnings: await pg.serverWarnings() };
    } catch (err) {
      await pg.close();
      throw err;
    }
  }
  const { SqliteStorage } = await import('./storage/sqlite/store.ts');
  const sqlite = await SqliteStorage.open(config.dataDir);
  sqlite.onCommit = onCommit;
  return { storage: sqlite, warnings: [] };
}

/** Signs with the key for the From domain (or a parent's), and leaves other mail as it is. */
function dkimSigner(keys: readonly DkimKey[]): (raw: Buffer, from: string) => Promise<Buffer> {
  return async (raw, from) => {
    const key = keyForSender(keys, from);
    return key ? signMessage(raw, key) : raw;
  };
}

const classifyByRules = (reply: string) =>
  classifyReply(reply).action === 'bounce' ? 'bounced' : 'deferred';

function chooseTransport(config: Config, spool: Spool, storage: Storage): Transport {
  switch (config.outboundTransport) {
    case 'relay':
      return relayTransport(config);
    case 'mx':
      return new MxTransport({
        resolver: new dns.Resolver(),
        heloName: config.smtpHostname,
        requireTls: config.mxRequireTls,
        allowInternal: config.mxAllowInternal,
        port: config.mxPort,
        classify: classifyByRules,
      });
    default:
      return new CaptureTransport({ spool, storage });
  }
}

/** The smarthost of --outbound-transport relay. */
function relayTransport(config: Config): RelayTransport {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(config.relayHost);
  if (!m) throw new ConfigError('--outbound-transport relay needs --relay-host host:port');
  const auth = config.relayUser ? { user: config.relayUser, pass: config.relayPassword } : undefined;
  return new RelayTransport({
    // The bounce rules decide whether a refusal is worth another try.
    classify: classifyByRules,
    target: {
      host: m[1] ?? m[2]!,
      port: Number(m[3]),
      // The config loader only admits the enum's values.
      tls: config.relayTls as TlsMode,
      heloName: config.smtpHostname,
      verifyTls: config.relayVerifyTls,
      ...(auth ? { auth } : {}),
    },
  });
}

/**
 * The delivery worker with the configured transport. Captured mail enters the inbox through a
 * spool of its own, handed to the local parse runner like SMTP mail.
 */
/** Routing of received mail and the actions it starts, on a worker node. */
function startInbound(
  config: Config,
  storage: Storage,
  routes: RouteBook,
  parser: ParsePool,
  logger: Logger,
  queueing: Omit<OutboundActionDeps, 'forward' | 'claimAutoReply'>,
  tickets: TicketServices,
): { wake(): void; stop(): Promise<void> } {
  const owner = `${hostname()}:${process.pid}`;
  const router = new RouteRunner({
    storage,
    book: routes,
    returnPath: srsReturnPath({ domain: forwardDomainOf(config), secrets: config.srsSecret, now: Date.now }),
    deskOf: (rcpt) => tickets.anchors.classify(rcpt)?.desk.name ?? null,
    logger: logger.child({ scope: 'routing' }),
    owner,
    hostname: config.smtpHostname,
    actionLifetimeMs: ACTION_LIFETIME_MS,
    // New jobs are taken at once; otherwise the action runner looks on its own timer (retries).
    onJobs: () => actions.wake(),
  });
  const actions = new ActionRunner({
    storage,
    hostname: config.smtpHostname,
    executors: actionExecutors({
      storage,
      logger: logger.child({ scope: 'actions' }),
      webhook: {
        secrets: config.webhookSecret,
        policy: createAddressPolicy({ allow: config.webhookAllow }),
        resolver: new dns.Resolver({ timeout: 5000, tries: 2 }),
        parser,
        timeoutMs: config.webhookTimeout,
        userAgent: `Mailroom/${VERSION}`,
        maxInlineBytes: 10 * 1024 * 1024,
        endpoints: storage.inbound,
        disableAfter: config.webhookDisableAfter,
        attachmentUrls: attachmentUrlsFromConfig(config),
        logger: logger.child({ scope: 'actions' }),
        now: Date.now,
      },
      outbound: {
        ...queueing,
        forward: {
          domain: forwardDomainOf(config),
          secrets: config.srsSecret,
          // Room for the trace fields and our signature on a message right at the size limit.
          maxBytes: config.maxMessageSize + 8192,
        },
        claimAutoReply: (req) => storage.inbound.claimAutoReply(req),
      },
      tickets: tickets.anchors.desks.length > 0 ? tickets : null,
    }),
    logger: logger.child({ scope: 'actions' }),
    owner,
    concurrency: config.deliveryConcurrency,
    leaseMs: config.deliveryLease,
  });
  router.start();
  actions.start();
  return {
    wake: () => router.wake(),
    stop: async () => {
      await router.stop();
      await actions.stop();
    },
  };
}

/** The domain forwarded mail's SRS envelope senders are at: --forward-domain, else the first local domain. */
function forwardDomainOf(config: Config): string {
  return config.forwardDomain || (config.localDomains[0] ?? '');
}

/** The desks and their signing keys; a bad --desk stops start-up with a config error. */
function anchorsOrConfigError(config: Config) {
  try {
    checkSecrets('--ticket-secret', config.ticketSecret);
    return anchorsFromConfig(config);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

/** The inboxes of --inbox; a bad one stops start-up with a config error naming it. */
export function inboxBookOf(config: Pick<Config, 'inbox'>): InboxBook {
  try {
    return InboxBook.parse(config.inbox);
  } catch (err) {
    if (err instanceof InboxError) throw new ConfigError(`--inbox: ${err.message}`);
    throw err;
  }
}

/** The --poll URLs as accounts; a bad one stops start-up with a config error naming it (no password). */
function pollAccountsOf(config: Config) {
  try {
    return config.poll.map((url) => parsePollUrl(url, { maxMessageBytes: config.maxMessageSize }));
  } catch (err) {
    if (err instanceof PollUrlError) throw new ConfigError(`--poll: ${err.message}`);
    throw err;
  }
}

/** Checks an MX message's sender and puts the results on top of it. */
function senderAuthenticator(hostname: string, resolver: DnsResolver) {
  return async (envelope: Envelope, raw: Uint8Array): Promise<Uint8Array> => {
    const auth = await checkSender(
      { raw, clientIp: envelope.clientIp, helo: envelope.helo, mailFrom: envelope.mailFrom, hostname },
      { resolver },
    );
    return withAuthenticationResults(raw, auth);
  };
}

function startDelivery(
  config: Config,
  storage: Storage,
  events: EventBus,
  metrics: Metrics,
  logger: Logger,
  runner: ParseRunner,
  inboxes: InboxBook,
): { stop(): Promise<void> } {
  const spool = new Spool({ storage, metrics, events, inboxes });
  spool.onCommitted = runner.offer.bind(runner);
  const worker = new DeliveryWorker({
    queue: storage.outbound,
    transport: chooseTransport(config, spool, storage),
    schedule: { firstMs: config.retryFirst, maxMs: config.retryMax, lifetimeMs: config.queueLifetime },
    logger: logger.child({ scope: 'delivery' }),
    owner: `${hostname()}:${process.pid}`,
    concurrency: config.deliveryConcurrency,
    leaseMs: config.deliveryLease,
    perDomain: {
      concurrency: config.destinationConcurrency,
      perMinute: config.destinationRate === 0 ? Number.MAX_SAFE_INTEGER : config.destinationRate,
    },
    pollMs: 1000,
    isHardBounce,
    onFailed: (failure) =>
      queueBounceNotice(
        {
          queue: storage.outbound,
          hostname: config.smtpHostname,
          lifetimeMs: config.queueLifetime,
          onQueued: (id) => events.emit('outbound:queued', { id }),
        },
        failure,
      ),
  });
  worker.start();
  const unsubscribe = events.on('outbound:queued', () => worker.wake());
  return {
    async stop() {
      unsubscribe();
      await worker.stop();
    },
  };
}

/** Starts the roles named in config.roles; resolves once every listener is up. */
export async function startMailroom(
  config: Config,
  opts: {
    logger?: Logger /** DNS for sender authentication (tests inject a fake zone). */;
    resolver?: DnsResolver;
  } = {},
): Promise<Mailroom> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  const events = new EventBus();
  const roles = new Set(config.roles);
  let ready = false;
  const closers: (() => Promise<void>)[] = [];

  // Keys first: a bad --dkim-keys entry stops the start before anything listens.
  const dkimKeys = loadDkimKeys(config.dkimKeys);
  // Checked at start: a tracking setting without its URL or key stops the server here.
  const tracking = trackingFromConfig(config);
  checkWebhookSecrets(config.webhookSecret);
  checkSecrets('--srs-secret', config.srsSecret);
  // A short --attachment-url-secret or a malformed --public-url stops the start here.
  attachmentUrlsFromConfig(config);
  const pollAccounts = pollAccountsOf(config);
  // Optional features' libraries load only when configured (the main thread's heap: ADR 0016).
  if (dkimKeys.length > 0) await loadSigner();
  if (config.localDomains.length > 0 || pollAccounts.length > 0) await loadSenderChecks();
  const anchors = anchorsOrConfigError(config);
  const inboxes = inboxBookOf(config);
  // Testing tools: chaos on the SMTP listeners, release to a real server; bad settings stop here.
  const chaos = chaosFromConfig(config);
  const releaseSettings = releaseFromConfig(config);
  // A bad routes file stops the start too, naming the route.
  const fileRoutes = config.routesFile ? loadRoutesFile(config.routesFile, new Date().toISOString()) : [];
  new Router(fileRoutes, { budgetMs: config.routeBudget });
  const { storage, warnings } = await openStorage(config, metrics);
  closers.unshift(() => storage.close());
  const routes = new RouteBook({
    store: storage.routes,
    fileRoutes,
    budgetMs: config.routeBudget,
    now: Date.now,
  });
  logger.info(
    {
      engine: storage.capabilities.engine,
      database: config.databaseUrl ? safeUrl(config.databaseUrl) : config.dataDir,
    },
    'storage opened',
  );

  try {
    for (const warning of warnings) logger.warn({ engine: storage.capabilities.engine }, warning);
    if (chaos && roles.has('smtp')) {
      logger.warn(
        { listeners: config.chaosListeners },
        'chaos testing is on: SMTP commands may fail on purpose',
      );
    }
    // Worker threads run their own (parse-worker.ts, writer-worker.ts).
    const idleGc = startIdleGc({ onCollect: () => metrics.idleCollections.inc() });
    closers.unshift(async () => idleGc.stop());
    // What both doors that queue mail (SMTP submission, the send API) share.
    const queueing = {
      queue: storage.outbound,
      hostname: config.smtpHostname,
      lifetimeMs: config.queueLifetime,
      now: Date.now,
      onQueued: (id: string) => events.emit('outbound:queued', { id }),
      ...(dkimKeys.length > 0 ? { sign: dkimSigner(dkimKeys) } : {}),
    };
    const tickets = ticketServices(anchors, notifying(storage.tickets, events), queueing);
    let parser: ParsePool | null = null;
    if (roles.has('worker') || roles.has('api')) {
      parser = ParsePool.start({
        workers: config.parseWorkers,
        timeoutMs: config.parseTimeout,
        memoryBytes: config.parseMemory,
        idleMs: config.parseWorkerIdle,
      });
      const p = parser;
      closers.unshift(() => p.close());
    }
    let runner: ParseRunner | null = null;
    if (roles.has('worker') && parser) {
      const reports = new ReportIntake({ storage, logger });
      const inbound = startInbound(config, storage, routes, parser, logger, queueing, tickets);
      closers.unshift(() => inbound.stop());
      if (config.ticketWebhook.length > 0) {
        const feed = new TicketFeed({
          store: storage.tickets,
          urls: config.ticketWebhook,
          secrets: config.webhookSecret,
          policy: createAddressPolicy({ allow: config.webhookAllow }),
          resolver: new dns.Resolver({ timeout: 5000, tries: 2 }),
          timeoutMs: config.webhookTimeout,
          userAgent: `Mailroom/${VERSION}`,
          owner: `${hostname()}:${process.pid}`,
          logger: logger.child({ scope: 'tickets' }),
          now: Date.now,
        });
        feed.start();
        const off = events.on('tickets:changed', () => feed.wake());
        closers.unshift(async () => {
          off();
          await feed.stop();
        });
      }
      runner = new ParseRunner({
        storage,
        parser,
        events,
        metrics,
        logger,
        tagger: Tagger.fromConfig(config),
        onSaved: async (saved) => {
          inbound.wake();
          await reports.inspect(saved);
        },
        // At each worker one batch parsing and one waiting, besides one being saved and one
        // being read: a backlog (after a burst, at start) keeps every thread busy.
        concurrency: config.parseWorkers * 2 + 2,
        deferMs: config.parseDefer,
      });
      runner.start();
      const r = runner;
      closers.unshift(() => r.stop());
      const retention = new Retention({ storage, events, logger, config });
      retention.start();
      closers.unshift(() => retention.stop());
      const delivery = startDelivery(config, storage, events, metrics, logger, runner, inboxes);
      closers.unshift(() => delivery.stop());
      const polled = new Spool({ storage, metrics, events, inboxes });
      polled.onCommitted = runner.offer.bind(runner);
      const pollers = startPollers(pollAccounts, {
        sink: createImportSink({
          spool: polled,
          authenticate: senderAuthenticator(config.smtpHostname, opts.resolver ?? dns.resolve),
          importedAmong: (keys) => storage.inbound.importedAmong(keys),
          now: Date.now,
        }),
        logger,
      });
      closers.unshift(() => pollers.stop());
    }
    let smtp: SmtpRole | null = null;
    if (roles.has('smtp')) {
      const returnPath = srsReturnPath({
        domain: forwardDomainOf(config),
        secrets: config.srsSecret,
        now: Date.now,
      });
      const spool = new Spool({ storage, metrics, events, inboxes });
      // In one process the runner gets each message's bytes straight from the spool.
      if (runner) spool.onCommitted = runner.offer.bind(runner);
      // With a transport that sends, authenticated users' mail is queued; otherwise captured.
      const submit =
        config.outboundTransport === 'capture'
          ? undefined
          : (envelope: Envelope, raw: Uint8Array) => queueSubmission(queueing, envelope, raw);
      smtp = await startSmtp({
        config,
        logger,
        metrics,
        spool,
        tls: await loadTls(config),
        chaos,
        ...(submit ? { submit } : {}),
        // Bounces of mail we forwarded come back to its SRS address: taken, and returned by routing.
        // Desk addresses (intake and ticket addresses, even guessed ones: those are held) are taken.
        recipients: async (mailFrom, rcpt) =>
          returnPath(rcpt) !== null || anchors.classify(rcpt) !== null
            ? { kind: 'accept' }
            : (await routes.router()).envelope(mailFrom, rcpt),
        distrustResults: (raw) => renameForgedResults(raw, authservIdFor(config.smtpHostname)),
        checkContent: contentRejecter({
          router: () => routes.router(),
          // An SMTP-only node has no parse pool: the rare message a reject route must see is parsed here.
          parse: parser ? (raw) => parser!.parse(raw) : parseMessage,
          hostname: config.smtpHostname,
          logger: logger.child({ scope: 'routing' }),
        }),
        ...(config.localDomains.length > 0
          ? { authenticateSender: senderAuthenticator(config.smtpHostname, opts.resolver ?? dns.resolve) }
          : {}),
      });
      const s = smtp;
      closers.unshift(() => s.close());
    }
    let http: Awaited<ReturnType<typeof startHttp>> | null = null;
    if (roles.has('api') && parser) {
      const access = await createAccessPolicy(config, { keys: storage.apiKeys });
      const send: SendServiceDeps = {
        ...queueing,
        limits: { maxRecipients: config.maxRecipients, maxBytes: config.maxMessageSize },
        tracking,
        ...(config.outboundTransport === 'capture' ? { awaitCaptured: captureWaiter(storage, events) } : {}),
      };
      const app = createHttpApp({
        send,
        storage,
        parser,
        routes,
        tickets,
        events,
        access,
        spam: createSpamChecker(config),
        metrics,
        logger,
        config,
        // The triggers live in this process: only a node with listeners can change them.
        chaos: roles.has('smtp') ? chaos : null,
        releaser: releaseSettings
          ? new Releaser({ settings: releaseSettings, events: storage.inbound, now: Date.now })
          : null,
        ready: () => ready,
        version: VERSION,
        startedAt: Date.now(),
      });
      http = await startHttp(app, config.httpListen);
      const h = http;
      closers.unshift(() => h.close());
      const hub = new LiveHub({ storage, events, logger, version: VERSION });
      hub.attach(h.server, (req) => access.checkUpgrade(req));
      closers.unshift(async () => hub.close());
    }
    ready = true;
    // Always shown, whatever the level: operators (and scripts) read the bound addresses from it.
    const always = logger.level === 'silent' ? logger : logger.child({}, { level: 'info' });
    always.info({ roles: [...roles], smtp: smtp?.addresses(), http: http?.address }, 'mailroom started');
    let closed: Promise<void> | null = null;
    return {
      config,
      storage,
      metrics,
      events,
      logger,
      smtpAddresses: () => smtp?.addresses() ?? {},
      httpAddress: () => http?.address ?? null,
      close() {
        // Stop the doors first (no new mail), then the workers, then storage.
        closed ??= (async () => {
          ready = false;
          // Each part closes even if an earlier one failed: storage must always be closed last.
          for (const close of closers) {
            try {
              await close();
            } catch (err) {
              logger.error({ err }, 'closing a part of mailroom failed');
            }
          }
          logger.info('mailroom stopped');
          logger.flush();
        })();
        return closed;
      },
    };
  } catch (err) {
    for (const close of closers) await close().catch(() => {});
    throw err;
  }
}
