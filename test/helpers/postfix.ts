// A private Postfix (the Debian package postfix) for tests and benchmarks: its own config,
// queue, data and mail directories in a temp dir, listening on a free loopback port, logging to
// its stdout, run in the foreground (`postfix -c <conf> start-fg`) as a child process in a process
// group of its own. Two shapes:
//
//   - startPostfixMailbox: the final destination for one test domain. Each listed user has a
//     Maildir under the temp dir (virtual(8) delivery); any other address in the domain is refused
//     at RCPT (550 5.1.1, "User unknown in virtual mailbox table"), and mail for other domains is
//     refused too (no relaying).
//   - startPostfixRelay: a relay that forwards everything to one host:port (relayhost), as a
//     smarthost in front of a sink.
//
// Postfix must run as root (it drops to the `postfix` user for its daemons). A Postfix that does
// not start fails with its own log; stop() ends the instance, checks that no process of it is
// left (any process whose working directory is in the temp dir), and removes the directory.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findBinary, freePort } from './spam-daemons.ts';

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const LOG_TAIL_CHARS = 64 * 1024;
/** The master.cf Debian installs; the services are copied from it. */
const SYSTEM_MASTER_CF = '/etc/postfix/master.cf';

export interface RunningPostfix {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The temp dir that holds everything of this instance. */
  readonly dir: string;
  /** The config directory, for `-c`. */
  readonly confDir: string;
  readonly queueDir: string;
  /** Postfix's log so far (the last 64 KiB). */
  log(): string;
  /** `postconf -c <conf> <args>`; resolves with its stdout. */
  postconf(...args: string[]): Promise<string>;
  /** `postqueue -c <conf> <args>`. */
  postqueue(...args: string[]): Promise<string>;
  /** `postsuper -c <conf> <args>`. */
  postsuper(...args: string[]): Promise<string>;
  /** Sets main.cf parameters and makes the running instance read them (`postfix reload`). */
  configure(settings: Record<string, string>): Promise<void>;
  /** Ends the instance, checks for leftover processes and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** One message as virtual(8) stored it: Postfix's own lines first, then the bytes it received. */
export interface StoredMail {
  /** The local part of the mailbox it was delivered to. */
  user: string;
  file: string;
  /** The file as stored: LF line endings, with Return-Path, Delivered-To and Received prepended. */
  raw: Buffer;
  /** The unfolded values of a header, in order. */
  header(name: string): string[];
  /** Everything after the blank line that ends the header. */
  body: string;
}

export interface PostfixMailbox extends RunningPostfix {
  readonly domain: string;
  /** Every message delivered so far, oldest first; one user's when given. */
  messages(user?: string): StoredMail[];
  /** Waits until `count` delivered messages satisfy `match`, and returns them. */
  waitForMail(match: (m: StoredMail) => boolean, count?: number, timeoutMs?: number): Promise<StoredMail[]>;
}

export interface MailboxOptions {
  /** The domain this Postfix is the final destination for. */
  domain: string;
  /** Local parts with a mailbox; every other address in the domain is unknown. */
  users: string[];
  /** Further main.cf parameters. */
  main?: Record<string, string>;
}

export interface RelayOptions {
  /** Where everything goes, host:port (an IPv4 loopback address, as [127.0.0.1]:port). */
  relayTo: string;
  /** Further main.cf parameters (concurrency limits, defer_transports...). */
  main?: Record<string, string>;
}

function tool(name: string): string {
  return findBinary(name, `MAILROOM_TEST_${name.toUpperCase()}`);
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(cmd)} ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

function idOf(flag: '-u' | '-g', user: string): number {
  const out = fs
    .readFileSync(flag === '-u' ? '/etc/passwd' : '/etc/group', 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === user);
  if (!out)
    throw new Error(`no ${flag === '-u' ? 'user' : 'group'} "${user}": is the postfix package installed?`);
  return Number(out[2]);
}

/**
 * Debian's master.cf with the smtpd service on our port and no chroot (a chroot would need copies
 * of /etc files inside the queue directory).
 */
function masterCf(port: number): string {
  const lines = fs.readFileSync(SYSTEM_MASTER_CF, 'utf8').split('\n');
  return lines
    .map((line) => {
      if (/^\s|^#|^$/.test(line)) return line;
      const f = line.split(/\s+/);
      if (f.length < 8) return line;
      if (f[0] === 'smtp' && f[1] === 'inet') f[0] = String(port);
      f[4] = 'n';
      return f.join('  ');
    })
    .join('\n');
}

function mainCf(values: Record<string, string>): string {
  return `${Object.entries(values)
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n')}\n`;
}

function readTail(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, LOG_TAIL_CHARS);
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, size - length);
    return buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Pids of the processes whose working directory is inside `dir` (Postfix's daemons sit in the queue). */
function processesIn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
      if (cwd === dir || cwd.startsWith(`${dir}/`)) pids.push(Number(entry));
    } catch {
      // Gone, or not ours to look at.
    }
  }
  return pids;
}

/** True once a 220 greeting arrives on the port. */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (/^220[ -]/.test(text)) {
        socket.end('QUIT\r\n');
        done(true);
      } else if (text.includes('\n')) done(false);
    });
  });
}

interface Instance {
  dir: string;
  confDir: string;
  queueDir: string;
  port: number;
}

/** Writes the config for one port, starts Postfix and waits for its greeting. */
async function launch(
  prefix: string,
  settings: (dir: string, port: number) => Record<string, string>,
  prepare: (dir: string) => void,
): Promise<RunningPostfix> {
  if (process.getuid?.() !== 0) {
    throw new Error('a private Postfix needs root (its master binds and then drops to the postfix user)');
  }
  const postfix = tool('postfix');
  const postconf = tool('postconf');
  const postqueue = tool('postqueue');
  const postsuper = tool('postsuper');
  for (let attempt = 1; ; attempt++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    // Postfix's daemons run as the postfix user and must reach the queue below.
    fs.chmodSync(dir, 0o755);
    const port = await freePort();
    const inst: Instance = {
      dir,
      confDir: path.join(dir, 'conf'),
      queueDir: path.join(dir, 'queue'),
      port,
    };
    const postfixUid = idOf('-u', 'postfix');
    const postfixGid = idOf('-g', 'postfix');
    for (const d of [inst.confDir, inst.queueDir, path.join(dir, 'data')]) fs.mkdirSync(d);
    fs.chownSync(path.join(dir, 'data'), postfixUid, postfixGid);
    fs.writeFileSync(path.join(inst.confDir, 'master.cf'), masterCf(port));
    fs.writeFileSync(
      path.join(inst.confDir, 'main.cf'),
      mainCf({
        compatibility_level: '3.6',
        queue_directory: inst.queueDir,
        data_directory: path.join(dir, 'data'),
        mail_owner: 'postfix',
        setgid_group: 'postdrop',
        inet_interfaces: '127.0.0.1',
        inet_protocols: 'ipv4',
        myhostname: `postfix-${port}.localhost`,
        mydestination: '',
        mynetworks: '127.0.0.0/8',
        alias_maps: '',
        alias_database: '',
        local_recipient_maps: '',
        // Not /dev/stdout: Node gives a child's stdio as sockets, which /dev/stdout cannot open.
        maillog_file_prefixes: dir,
        maillog_file: path.join(dir, 'maillog'),
        smtp_tls_security_level: 'none',
        smtpd_tls_security_level: 'none',
        biff: 'no',
        ...settings(dir, port),
      }),
    );
    prepare(dir);
    const child = spawn(postfix, ['-c', inst.confDir, 'start-fg'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // What the postfix command itself prints (a config error, say), then the mail log.
    let output = '';
    const append = (d: string) => {
      output = (output + d).slice(-LOG_TAIL_CHARS);
    };
    child.stdout!.setEncoding('utf8').on('data', append);
    child.stderr!.setEncoding('utf8').on('data', append);
    let kept = '';
    const log = () => {
      try {
        kept = readTail(path.join(dir, 'maillog'));
      } catch {
        // Not written yet, or removed by stop(): the last copy read stands.
      }
      return `${output}${kept}`;
    };
    let spawnError: Error | null = null;
    child.on('error', (err) => {
      spawnError = err;
    });
    const running = handle(inst, child, log, { postfix, postconf, postqueue, postsuper });
    const started = performance.now();
    let up = false;
    while (performance.now() - started < START_TIMEOUT_MS) {
      if (spawnError || child.exitCode !== null || child.signalCode !== null) break;
      if (await greets(port)) {
        up = true;
        break;
      }
      await sleep(100);
    }
    if (up) return running;
    await running.stop().catch(() => {});
    const text = log();
    if (attempt < 3 && /address already in use/i.test(text)) continue;
    throw new Error(
      `Postfix did not start on 127.0.0.1:${port}${spawnError ? ` (${(spawnError as Error).message})` : ''}; its log:\n${text}`,
    );
  }
}

function handle(
  inst: Instance,
  child: ChildProcess,
  log: () => string,
  bin: { postfix: string; postconf: string; postqueue: string; postsuper: string },
): RunningPostfix {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let stopping: Promise<void> | null = null;
  const c = ['-c', inst.confDir];
  return {
    host: '127.0.0.1',
    port: inst.port,
    dir: inst.dir,
    confDir: inst.confDir,
    queueDir: inst.queueDir,
    log,
    postconf: (...args) => run(bin.postconf, [...c, ...args]),
    postqueue: (...args) => run(bin.postqueue, [...c, ...args]),
    postsuper: (...args) => run(bin.postsuper, [...c, ...args]),
    async configure(settings) {
      await run(bin.postconf, [...c, '-e', ...Object.entries(settings).map(([k, v]) => `${k}=${v}`)]);
      await run(bin.postfix, [...c, 'reload']);
    },
    stop() {
      stopping ??= (async () => {
        const alive = () => child.exitCode === null && child.signalCode === null;
        // The orderly way first: master ends its children and exits.
        if (alive()) await run(bin.postfix, [...c, 'stop']).catch(() => {});
        // Unref'd: a stopped instance must not hold the test process for the timeout.
        const waited = await Promise.race([
          exited.then(() => true),
          sleep(STOP_TIMEOUT_MS, undefined, { ref: false }).then(() => false),
        ]);
        if (!waited && child.pid) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
          await exited;
        }
        // Daemons finishing a request may outlive master by a moment; anything later is a leak.
        let left = processesIn(inst.dir);
        for (let i = 0; i < 50 && left.length > 0; i++) {
          await sleep(100);
          left = processesIn(inst.dir);
        }
        const described = left.map((pid) => {
          try {
            return `${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()}`;
          } catch {
            return String(pid);
          }
        });
        for (const pid of left) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        const lastLog = log();
        fs.rmSync(inst.dir, { recursive: true, force: true });
        if (left.length > 0) {
          throw new Error(`Postfix left processes running after stop: ${described.join('; ')}\n${lastLog}`);
        }
      })();
      return stopping;
    },
  };
}

function parseStored(user: string, file: string, raw: Buffer): StoredMail {
  const text = raw.toString('latin1');
  const end = text.indexOf('\n\n');
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + 2);
  const fields = head
    .replace(/\n[ \t]/g, ' ')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const i = l.indexOf(':');
      return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()] as const;
    });
  return {
    user,
    file,
    raw,
    body,
    header: (name) => fields.filter(([k]) => k === name.toLowerCase()).map(([, v]) => v),
  };
}

/** A final destination for `domain`: mail to the listed users lands in their Maildirs. */
export async function startPostfixMailbox(options: MailboxOptions): Promise<PostfixMailbox> {
  const uid = idOf('-u', 'postfix');
  const gid = idOf('-g', 'postfix');
  const { domain, users } = options;
  let mailDir = '';
  const running = await launch(
    'mailroom-postfix-mailbox-',
    (dir) => ({
      virtual_mailbox_domains: domain,
      virtual_mailbox_base: path.join(dir, 'mail'),
      // A trailing slash makes each mailbox a Maildir.
      virtual_mailbox_maps: `inline:{ ${users.map((u) => `${u}@${domain}=${u}/`).join(', ')} }`,
      virtual_uid_maps: `static:${uid}`,
      virtual_gid_maps: `static:${gid}`,
      // Only its own domain: no relaying for anyone, loopback included.
      smtpd_relay_restrictions: 'reject_unauth_destination',
      ...options.main,
    }),
    (dir) => {
      mailDir = path.join(dir, 'mail');
      fs.mkdirSync(mailDir);
      fs.chownSync(mailDir, uid, gid);
    },
  );
  const messages = (user?: string): StoredMail[] => {
    const found: { m: StoredMail; at: number }[] = [];
    for (const u of user ? [user] : users) {
      for (const sub of ['new', 'cur']) {
        const d = path.join(mailDir, u, sub);
        if (!fs.existsSync(d)) continue;
        for (const name of fs.readdirSync(d)) {
          const file = path.join(d, name);
          // Maildir names start with the delivery time in seconds; the mtime orders within one.
          found.push({ m: parseStored(u, file, fs.readFileSync(file)), at: fs.statSync(file).mtimeMs });
        }
      }
    }
    return found.sort((a, b) => a.at - b.at).map((x) => x.m);
  };
  return {
    ...running,
    domain,
    messages,
    async waitForMail(match, count = 1, timeoutMs = 20_000) {
      const started = performance.now();
      for (;;) {
        const hits = messages().filter(match);
        if (hits.length >= count) return hits;
        if (performance.now() - started > timeoutMs) {
          throw new Error(
            `Postfix delivered ${hits.length} of ${count} expected messages within ${timeoutMs} ms; its log:\n${running.log()}`,
          );
        }
        await sleep(50);
      }
    },
  };
}

/** A relay that forwards everything to `relayTo` over plain SMTP. */
export function startPostfixRelay(options: RelayOptions): Promise<RunningPostfix> {
  return launch(
    'mailroom-postfix-relay-',
    () => ({
      relayhost: options.relayTo,
      ...options.main,
    }),
    () => {},
  );
}
