// The smtp role: up to three listeners (plain MX/sandbox with STARTTLS, submission, implicit-TLS
// submission). Each accepted socket is counted per IP before any byte is read, implicit TLS is
// handshaken under our own deadline, and then the socket becomes one SmtpSession (./session.ts:
// the ESMTP state machine, on the framing of ./wire.ts).
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { Config } from '../config/schema.ts';
import type { Listener } from '../domain/message.ts';
import type { Spool } from '../ingest/spool.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { type AuthUsers, loadAuthFile } from './auth-file.ts';
import type { Chaos } from './chaos.ts';
import { ConnectionCounter } from './connection-counter.ts';
import { createChaosHook } from './hooks/chaos.ts';
import { createHooks, type Hooks } from './hooks/index.ts';
import type { RecipientCheck } from './hooks/rcpt-to.ts';
import { type SessionContext, SmtpSession } from './session.ts';

export interface SmtpRole {
  addresses(): { smtp?: AddressInfo; submission?: AddressInfo; smtps?: AddressInfo };
  close(): Promise<void>;
}

export interface SmtpDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  spool: Spool;
  tls: { key: string | Buffer; cert: string | Buffer };
  /** Replaces single stage hooks (tests, embedding applications). */
  hooks?: Partial<Hooks>;
  /** In MX mode: SPF, DKIM, DMARC and ARC of unauthenticated mail, as an Authentication-Results header. */
  authenticateSender?: SessionContext['authenticateSender'];
  checkContent?: SessionContext['checkContent'];
  distrustResults?: SessionContext['distrustResults'];
  /** In MX mode (--local-domains), whether routes take mail for a recipient, or refuse it. */
  recipients?: RecipientCheck;
  /** Queues authenticated users' mail for delivery; absent when mail is captured. */
  submit?: SessionContext['submit'];
  /** Chaos testing (--chaos, /api/v1/chaos): failures on purpose; absent or null when off. */
  chaos?: Chaos | null;
}

/** How long close() lets sessions finish after their 421 before destroying the sockets. */
const CLOSE_GRACE_MS = 2000;

/** Splits "host:port" / "[v6]:port"; an empty host means every interface. */
export function parseListen(value: string): { host: string | undefined; port: number } {
  const i = value.lastIndexOf(':');
  const host = value.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host: host || undefined, port: Number(value.slice(i + 1)) };
}

function listen(server: net.Server, value: string): Promise<AddressInfo> {
  const { host, port } = parseListen(value);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startSmtp(deps: SmtpDeps): Promise<SmtpRole> {
  const { config, logger } = deps;
  const users: AuthUsers | null = config.smtpAuthFile ? await loadAuthFile(config.smtpAuthFile) : null;
  const authEnabled = users !== null || config.smtpAuthAcceptAny;
  const hooks = createHooks(
    config,
    users,
    { chaos: createChaosHook(deps.chaos ?? null), ...deps.hooks },
    deps.recipients,
  );
  const sessions = new Map<string, SmtpSession>();
  const counter = new ConnectionCounter();
  const secureContext = tls.createSecureContext({ key: deps.tls.key, cert: deps.tls.cert });
  const wanted: [Listener, string][] = [
    ['smtp', config.smtpListen],
    ['submission', config.submissionListen],
    ['smtps', config.smtpsListen],
  ];
  const listeners = new Map<Listener, { server: net.Server; address: AddressInfo }>();

  const begin = (
    listener: Listener,
    socket: net.Socket | tls.TLSSocket,
    raw: net.Socket,
    slot: ReturnType<ConnectionCounter['acquire']>,
  ) => {
    const ctx: SessionContext = {
      config,
      logger,
      metrics: deps.metrics,
      spool: deps.spool,
      hooks,
      listener,
      requireAuth: listener !== 'smtp' || config.smtpRequireAuth,
      authEnabled,
      secureContext,
      submit: deps.submit ?? null,
      // Only mail that arrives as to an MX (not authenticated submission) is checked.
      ...(deps.authenticateSender && listener !== 'submission'
        ? { authenticateSender: deps.authenticateSender }
        : {}),
      ...(deps.checkContent && listener !== 'submission' ? { checkContent: deps.checkContent } : {}),
      ...(deps.distrustResults ? { distrustResults: deps.distrustResults } : {}),
    };
    const remote = { address: raw.remoteAddress ?? '', port: raw.remotePort ?? 0 };
    const session = new SmtpSession(ctx, socket, remote, slot, (s) => {
      sessions.delete(s.id);
      slot.release();
    });
    sessions.set(session.id, session);
    session.start();
  };

  // Implicit TLS (RFC 8314): the handshake runs before the session exists, under the command
  // deadline, so a client that never finishes it cannot hold a slot past that.
  const acceptTls = (socket: net.Socket, slot: ReturnType<ConnectionCounter['acquire']>) => {
    const tlsSocket = new tls.TLSSocket(socket, { isServer: true, secureContext });
    const fail = (err?: Error) => {
      clearTimeout(timer);
      logger.debug({ listener: 'smtps', err: err?.message ?? 'closed' }, 'smtps handshake failed');
      tlsSocket.destroy();
      socket.destroy();
      slot.release();
    };
    const timer = setTimeout(() => fail(new Error('handshake timeout')), config.smtpCommandTimeout).unref();
    tlsSocket.once('error', fail);
    tlsSocket.once('close', fail);
    tlsSocket.once('secure', () => {
      clearTimeout(timer);
      tlsSocket.off('error', fail);
      tlsSocket.off('close', fail);
      begin('smtps', tlsSocket, socket, slot);
    });
  };

  const accept = (listener: Listener, socket: net.Socket) => {
    // Errors (resets during a handshake, say) end only this socket.
    socket.on('error', () => socket.destroy());
    socket.setNoDelay(true);
    const slot = counter.acquire((socket.remoteAddress ?? '').replace(/^::ffff:/i, ''));
    if (listener === 'smtps') acceptTls(socket, slot);
    else begin(listener, socket, socket, slot);
  };

  try {
    for (const [listener, value] of wanted) {
      if (!value) continue;
      const server = net.createServer((socket) => accept(listener, socket));
      listeners.set(listener, { server, address: await listen(server, value) });
      logger.info({ listener, address: listeners.get(listener)!.address }, 'smtp listening');
    }
  } catch (err) {
    for (const { server } of listeners.values()) server.close();
    throw err;
  }
  if (!authEnabled && (config.submissionListen || config.smtpsListen || config.smtpRequireAuth)) {
    logger.warn(
      'AUTH is required on a listener but no users are configured: every transaction there will be refused',
    );
  }

  return {
    addresses: () => Object.fromEntries([...listeners].map(([name, l]) => [name, l.address])),
    close: () =>
      closeAll(
        [...listeners.values()].map((l) => l.server),
        sessions,
      ),
  };
}

async function closeAll(servers: net.Server[], sessions: Map<string, SmtpSession>): Promise<void> {
  const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  for (const s of sessions.values()) s.hangUp('shutting-down');
  const deadline = Date.now() + CLOSE_GRACE_MS;
  while (sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const s of sessions.values()) s.destroy();
  await closed;
}
