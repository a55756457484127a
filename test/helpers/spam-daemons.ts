// Real spam daemons for the spam tests: a SpamAssassin spamd and an Rspamd normal worker, each
// started on 127.0.0.1 and a free port with throw-away config and state directories, offline
// (no DNS lists, no Razor/Pyzor/DCC, no fuzzy storage, no downloaded maps) so checks are fast
// and repeatable. A daemon that cannot be found or started fails the suite with its log tail:
// suites never skip.
//
// Binaries are looked up on PATH and in the sbin directories (spamd lives in sbin on Debian);
// MAILROOM_TEST_SPAMD / MAILROOM_TEST_RSPAMD override them with a path. As root, both daemons
// drop privileges to `nobody` (MAILROOM_TEST_DAEMON_USER overrides it).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Generous: both daemons compile their rules at start, which is slow on a loaded 2-core box. */
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 15_000;
const LOG_TAIL_BYTES = 16 * 1024;
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

export interface RunningSpamd {
  host: '127.0.0.1';
  port: number;
  /** Milliseconds from spawn to the first PONG. */
  startMs: number;
  /** The daemon's output so far (last 16 KiB). */
  log(): string;
  stop(): Promise<void>;
}

export interface RunningRspamd {
  /** Base URL of the normal worker, e.g. http://127.0.0.1:40123 */
  url: string;
  /** Milliseconds from spawn to the first pong. */
  startMs: number;
  log(): string;
  stop(): Promise<void>;
}

/** Finds an executable: the env override, else PATH, else the sbin directories. */
export function findBinary(name: string, envVar: string): string {
  const override = process.env[envVar];
  if (override) {
    if (!isExecutable(override)) throw new Error(`${envVar}=${override} is not an executable file`);
    return override;
  }
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SBIN_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  throw new Error(`${name} not found on PATH or in ${SBIN_DIRS.join(', ')}; install it or set ${envVar}`);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A TCP port that was free a moment ago (daemons cannot report a port-0 bind back to us). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A UDP port nobody listens on: DNS queries sent there fail at once (ICMP port unreachable). */
async function closedUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The unprivileged user (and its primary group) daemons switch to when we run as root. */
function dropUser(): { user: string; group: string } {
  const user = process.env.MAILROOM_TEST_DAEMON_USER ?? 'nobody';
  let group = 'nogroup';
  try {
    group = execFileSync('id', ['-gn', user], { encoding: 'utf8' }).trim() || group;
  } catch {
    // keep the Debian default
  }
  return { user, group };
}

/** A scratch directory the dropped user can write too (mkdtemp makes it 0700). */
function scratchDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o777);
  return dir;
}

/** A spawned daemon in its own process group, with a bounded tail of its output. */
class Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  private tail = '';

  constructor(name: string, bin: string, args: string[]) {
    this.name = name;
    this.child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (d: string): void => {
      this.tail = (this.tail + d).slice(-LOG_TAIL_BYTES);
    };
    this.child.stdout!.setEncoding('utf8').on('data', keep);
    this.child.stderr!.setEncoding('utf8').on('data', keep);
    this.child.once('error', (err) => keep(`\n[spawn error] ${err.message}\n`));
    this.exited = new Promise((resolve) => this.child.once('close', () => resolve()));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  log(): string {
    return this.tail;
  }

  /** Polls `probe` until it answers true, the daemon exits, or the start timeout passes. */
  async waitReady(probe: () => Promise<boolean>): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < START_TIMEOUT_MS) {
      if (!this.running) {
        throw new Error(`${this.name} exited before it was ready (${this.exitStatus()})\n${this.log()}`);
      }
      if (await probe().catch(() => false)) return Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await this.stop();
    throw new Error(`${this.name} was not ready after ${START_TIMEOUT_MS} ms\n${this.log()}`);
  }

  /** SIGTERM to the whole process group (workers included), SIGKILL if it lingers. */
  async stop(): Promise<void> {
    const pid = this.child.pid;
    if (!this.running || pid === undefined) return;
    const signalGroup = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-pid, signal);
      } catch {
        // already gone
      }
    };
    signalGroup('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), STOP_TIMEOUT_MS);
    });
    if ((await Promise.race([this.exited.then(() => 'exited' as const), late])) === 'late') {
      signalGroup('SIGKILL');
      await this.exited;
    }
    clearTimeout(timer);
  }

  private exitStatus(): string {
    return this.child.signalCode ? `signal ${this.child.signalCode}` : `exit code ${this.child.exitCode}`;
  }
}

/**
 * Starts a daemon on a fresh port, retrying with another port when the one picked was taken in
 * the meantime (the only race left by picking ports before the daemon binds them).
 */
async function startOnFreePort<T>(
  name: string,
  launch: (
    port: number,
  ) => Promise<{ daemon: Daemon; probe: () => Promise<boolean>; done: (ms: number) => T }>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const { daemon, probe, done } = await launch(port);
    try {
      return done(await daemon.waitReady(probe));
    } catch (err) {
      await daemon.stop();
      if (attempt < 3 && /address already in use/i.test(daemon.log())) continue;
      throw new Error(`could not start ${name}: ${(err as Error).message}`);
    }
  }
}

/** Sends spamd a PING; true on PONG. */
function pingSpamd(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(2000, () => socket.destroy());
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.end('PING SPAMC/1.5\r\n\r\n'));
    socket.on('data', (d: string) => {
      answer += d;
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(/^SPAMD\/\S+ 0 PONG/.test(answer)));
  });
}

export interface SpamdOptions {
  /** Extra configuration lines (each passed as `--cf`), e.g. test rules. */
  config?: string[];
}

/**
 * Starts spamd with local tests only (`--local`: no DNS, Razor, Pyzor or DCC), no Bayes and no
 * per-user configuration. Logs go to its stderr (kept for error messages).
 */
export async function startSpamd(options: SpamdOptions = {}): Promise<RunningSpamd> {
  const bin = findBinary('spamd', 'MAILROOM_TEST_SPAMD');
  const home = scratchDir('mailroom-spamd-');
  const cleanup = (): void => fs.rmSync(home, { recursive: true, force: true });
  try {
    return await startOnFreePort('spamd', async (port) => {
      const args = [
        '--local',
        '--nouser-config',
        `--listen=127.0.0.1:${port}`,
        '--allowed-ips=127.0.0.1',
        '--ipv4-only',
        '--min-children=1',
        '--max-children=2',
        '--min-spare=1',
        '--max-spare=1',
        '--syslog=stderr',
        `--helper-home-dir=${home}`,
        '--cf=use_bayes 0',
        '--cf=bayes_auto_learn 0',
        '--cf=dns_available no',
        '--cf=skip_rbl_checks 1',
        ...(options.config ?? []).map((line) => `--cf=${line}`),
      ];
      if (isRoot()) {
        const { user, group } = dropUser();
        args.push(`--username=${user}`, `--groupname=${group}`);
      }
      const daemon = new Daemon('spamd', bin, args);
      return {
        daemon,
        probe: () => pingSpamd(port),
        done: (startMs) => ({
          host: '127.0.0.1' as const,
          port,
          startMs,
          log: () => daemon.log(),
          async stop() {
            await daemon.stop();
            cleanup();
          },
        }),
      };
    });
  } catch (err) {
    cleanup();
    throw err;
  }
}

/** Modules that need DNS, the internet, Redis or external scanners; all switched off. */
const RSPAMD_OFFLINE_MODULES = [
  'antivirus',
  'arc',
  'asn',
  'bimi',
  'clickhouse',
  'dcc',
  'dkim',
  'dkim_signing',
  'dmarc',
  'elastic',
  'emails',
  'external_services',
  'fuzzy_check',
  'greylist',
  'hfilter',
  'history_redis',
  'metadata_exporter',
  'metric_exporter',
  'mid',
  'mime_types',
  'multimap',
  'mx_check',
  'neural',
  'p0f',
  'phishing',
  'ratelimit',
  'rbl',
  'replies',
  'reputation',
  'rspamd_update',
  'spamtrap',
  'spf',
  'surbl',
  'url_redirector',
  'whitelist',
];

/**
 * A short public-suffix list. Rspamd compiles its full list (~10 000 suffixes) at every start,
 * which takes over ten seconds; the tests only need the suffixes their messages use.
 */
const RSPAMD_TEST_TLDS = ['com', 'net', 'org', 'io', 'de', 'uk', 'co.uk', 'example', 'test', 'invalid'];

/** Writes the override configuration for one test instance; returns the --var arguments. */
function writeRspamdConfig(dir: string, port: number, dnsPort: number): string[] {
  const write = (rel: string, text: string): void => {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o777 });
    fs.writeFileSync(file, text, { mode: 0o644 });
  };
  const tldFile = path.join(dir, 'tlds.dat');
  write('tlds.dat', `${RSPAMD_TEST_TLDS.join('\n')}\n`);
  // Only the normal worker: the controller, proxy and fuzzy workers are not needed.
  write('override.d/worker-normal.inc', `bind_socket = "127.0.0.1:${port}";\ncount = 1;\n`);
  write('override.d/worker-controller.inc', 'enabled = false;\n');
  write('override.d/worker-proxy.inc', 'enabled = false;\n');
  write('override.d/worker-fuzzy.inc', 'enabled = false;\n');
  write('override.d/logging.inc', 'type = "console";\nlevel = "info";\n');
  write(
    'override.d/options.inc',
    [
      // DNS to a closed local port: lookups that remain (reverse DNS of the client) fail at once.
      `dns { nameserver = ["127.0.0.1:${dnsPort}"]; timeout = 0.2s; retransmits = 1; }`,
      `url_tld = "${tldFile}";`,
      // No background Hyperscan compilation competing with the tests for CPU.
      'disable_hyperscan = true;',
      '',
    ].join('\n'),
  );
  for (const module of RSPAMD_OFFLINE_MODULES) write(`local.d/${module}.conf`, 'enabled = false;\n');
  for (const sub of ['db', 'run', 'log']) fs.mkdirSync(path.join(dir, sub), { mode: 0o777 });
  for (const sub of ['db', 'run', 'log']) fs.chmodSync(path.join(dir, sub), 0o777);
  return [
    `--var=LOCAL_CONFDIR=${dir}`,
    `--var=DBDIR=${path.join(dir, 'db')}`,
    `--var=RUNDIR=${path.join(dir, 'run')}`,
    `--var=LOGDIR=${path.join(dir, 'log')}`,
  ];
}

/**
 * Starts Rspamd in the foreground with the packaged configuration plus overrides written to a
 * scratch directory (see `writeRspamdConfig`): one normal worker on a free port, network modules
 * disabled, DNS pointed at a closed port, logs on the console (kept for error messages).
 */
export async function startRspamd(): Promise<RunningRspamd> {
  const bin = findBinary('rspamd', 'MAILROOM_TEST_RSPAMD');
  const dirs: string[] = [];
  const cleanup = (): void => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    return await startOnFreePort('rspamd', async (port) => {
      const dir = scratchDir('mailroom-rspamd-');
      dirs.push(dir);
      const args = ['--no-fork', ...writeRspamdConfig(dir, port, await closedUdpPort())];
      if (isRoot()) {
        const { user, group } = dropUser();
        args.push(`--user=${user}`, `--group=${group}`);
      }
      const daemon = new Daemon('rspamd', bin, args);
      const url = `http://127.0.0.1:${port}`;
      return {
        daemon,
        probe: async () => {
          const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2000) });
          return res.ok && (await res.text()).trim() === 'pong';
        },
        done: (startMs) => ({
          url,
          startMs,
          log: () => daemon.log(),
          async stop() {
            await daemon.stop();
            cleanup();
          },
        }),
      };
    });
  } catch (err) {
    cleanup();
    throw err;
  }
}

export interface StallingServer {
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * A TCP server that accepts connections, reads what it is sent and never answers, standing in
 * for a daemon that hangs. `greeting` (e.g. HTTP response headers) is written once before it
 * falls silent.
 */
export async function startStallingServer(greeting?: string): Promise<StallingServer> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  // allowHalfOpen: a client that half-closes after its request (spamc style) must not make the
  // server hang up; a hung daemon keeps the connection open.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.resume();
    if (greeting) socket.write(greeting);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return connections;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A request seen by a scripted server. */
export interface ScriptedRequest {
  /** Everything the client sent, as received. */
  bytes: Buffer;
}

/**
 * A TCP server that reads one request per connection until the client half-closes (as spamd
 * clients do) and answers with `reply(request)`, then closes the connection, unless `keepOpen`
 * (a server that answers but does not hang up). Stands in for a misbehaving spamd.
 */
export async function startScriptedTcpServer(
  reply: (request: ScriptedRequest) => string | Buffer,
  options: { keepOpen?: boolean } = {},
): Promise<{ port: number; requests: ScriptedRequest[]; close(): Promise<void> }> {
  const requests: ScriptedRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const chunks: Buffer[] = [];
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => {
      const request = { bytes: Buffer.concat(chunks) };
      requests.push(request);
      if (options.keepOpen) socket.write(reply(request));
      else socket.end(reply(request));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An HTTP server answering every request with `handler`; for Rspamd error replies. */
export async function startScriptedHttpServer(
  handler: (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => handler(req, Buffer.concat(chunks), res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
