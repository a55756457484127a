// A private Dovecot (the Debian packages dovecot-imapd and dovecot-pop3d) for the poller tests:
// its own config, certificate, users and Maildirs in a temp dir, listening on 127.0.0.1 on four
// free ports (IMAP with STARTTLS, IMAPS, POP3 with STLS, POP3S), run in the foreground
// (`dovecot -F -c <conf>`) in a process group of its own. The system's /etc/dovecot and any system
// service are never touched. Passwords and the certificate are made at run time.
//
// Run as root, the mail processes switch to `nobody` (MAILROOM_TEST_DAEMON_USER overrides it),
// which owns the users' homes; run as anyone else, every Dovecot process stays that user and the
// login processes are not chrooted. A Dovecot that does not start fails with its log.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ImapFlow } from 'imapflow';
import { generate } from 'selfsigned';
import { findBinary, freePort } from './spam-daemons.ts';

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const LOG_TAIL_BYTES = 64 * 1024;

export interface DovecotPorts {
  imap: number;
  imaps: number;
  pop3: number;
  pop3s: number;
}

export interface StoredImapMessage {
  uid: number;
  flags: Set<string>;
  raw: Buffer;
}

export interface RunningDovecot {
  readonly host: '127.0.0.1';
  readonly ports: DovecotPorts;
  /** The self-signed certificate (PEM), for `tls: { ca }`; it names 127.0.0.1 and localhost. */
  readonly ca: string;
  /** Generated password of each user. */
  readonly passwords: ReadonlyMap<string, string>;
  readonly dir: string;
  /** Dovecot's log so far (the last 64 KiB). */
  log(): string;
  /** IMAP APPEND into a user's mailbox (INBOX by default); resolves with the new UID. */
  append(user: string, raw: string | Buffer, mailbox?: string, flags?: string[]): Promise<number>;
  /** Every message of a mailbox, in UID order. */
  messages(user: string, mailbox?: string): Promise<StoredImapMessage[]>;
  createMailbox(user: string, mailbox: string): Promise<void>;
  uidValidity(user: string, mailbox?: string): Promise<bigint>;
  /**
   * Gives a mailbox a new UIDVALIDITY and its messages new UIDs, as a server migration does: every
   * message is expunged and appended again (in reverse order), then doveadm sets a new UIDVALIDITY.
   */
  renumber(user: string, mailbox?: string): Promise<bigint>;
  /** Ends the instance (keeping its data), for a restart. */
  halt(): Promise<void>;
  /** Starts a halted instance again on the same ports with the same data. */
  restart(): Promise<void>;
  /** Ends the instance and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

function idsOf(user: string): { uid: number; gid: number; group: string } {
  const text = (args: string[]) => execFileSync('id', args, { encoding: 'utf8' }).trim();
  return { uid: Number(text(['-u', user])), gid: Number(text(['-g', user])), group: text(['-gn', user]) };
}

function dovecotConf(dir: string, ports: DovecotPorts, asRoot: boolean): string {
  const self = os.userInfo().username;
  const mailUser = process.env.MAILROOM_TEST_DAEMON_USER ?? 'nobody';
  const ids = idsOf(asRoot ? mailUser : self);
  const listener = (name: string, port: number, ssl: boolean) =>
    `  inet_listener ${name} {\n    address = 127.0.0.1\n    port = ${port}\n    ssl = ${ssl ? 'yes' : 'no'}\n  }`;
  // Unprivileged, nothing can switch users or chroot: every process stays this user.
  const unprivileged = asRoot
    ? ''
    : `default_internal_user = ${self}\ndefault_internal_group = ${ids.group}\ndefault_login_user = ${self}\n`;
  const chroot = asRoot ? '' : '  chroot =\n';
  const unchrooted = asRoot ? '' : 'service anvil {\n  chroot =\n}\nservice ipc {\n  chroot =\n}\n';
  return `# Written by the Mailroom tests for one run.
protocols = imap pop3
listen = 127.0.0.1
instance_name = mailroom-test-${ports.imap}
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
${unprivileged}ssl = yes
ssl_cert = <${dir}/cert.pem
ssl_key = <${dir}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = ${ids.uid}
last_valid_uid = ${ids.uid}
first_valid_gid = ${ids.gid}
mail_uid = ${ids.uid}
mail_gid = ${ids.gid}
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir}/passwd
}
userdb {
  driver = static
  args = home=${dir}/home/%u
}
service imap-login {
${chroot}${listener('imap', ports.imap, false)}
${listener('imaps', ports.imaps, true)}
}
service pop3-login {
${chroot}${listener('pop3', ports.pop3, false)}
${listener('pop3s', ports.pop3s, true)}
}
${unchrooted}`;
}

/** True once every port takes a TCP connection. */
async function listening(ports: DovecotPorts): Promise<boolean> {
  const one = (port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  const results = await Promise.all(Object.values(ports).map(one));
  return results.every(Boolean);
}

function readTail(file: string): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-LOG_TAIL_BYTES);
  } catch {
    return '';
  }
}

async function writeFiles(dir: string, users: string[], asRoot: boolean): Promise<Map<string, string>> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  fs.writeFileSync(path.join(dir, 'cert.pem'), pems.cert);
  fs.writeFileSync(path.join(dir, 'key.pem'), pems.private, { mode: 0o600 });
  const passwords = new Map(users.map((u) => [u, randomBytes(12).toString('base64url')]));
  const lines = [...passwords].map(([u, p]) => `${u}:{PLAIN}${p}`);
  // Read by the auth process, which runs as the dovecot user.
  fs.writeFileSync(path.join(dir, 'passwd'), `${lines.join('\n')}\n`, { mode: 0o644 });
  const home = path.join(dir, 'home');
  fs.mkdirSync(home);
  if (asRoot) {
    const ids = idsOf(process.env.MAILROOM_TEST_DAEMON_USER ?? 'nobody');
    fs.chownSync(home, ids.uid, ids.gid);
  }
  return passwords;
}

/** Starts Dovecot with a mailbox for each of `users`. */
export async function startDovecot(users: string[]): Promise<RunningDovecot> {
  const bin = findBinary('dovecot', 'MAILROOM_TEST_DOVECOT');
  const doveadm = findBinary('doveadm', 'MAILROOM_TEST_DOVEADM');
  const asRoot = process.getuid?.() === 0;
  for (let attempt = 1; ; attempt++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-dovecot-'));
    // The mail and login users must reach the homes and sockets below.
    fs.chmodSync(dir, 0o755);
    const ports = {
      imap: await freePort(),
      imaps: await freePort(),
      pop3: await freePort(),
      pop3s: await freePort(),
    };
    const passwords = await writeFiles(dir, users, asRoot);
    const conf = path.join(dir, 'dovecot.conf');
    fs.writeFileSync(conf, dovecotConf(dir, ports, asRoot));
    const instance = new Instance(bin, doveadm, conf, dir, ports, passwords);
    try {
      await instance.launch();
      return instance;
    } catch (err) {
      await instance.stop().catch(() => {});
      if (attempt < 3 && /address already in use/i.test(String(err))) continue;
      throw err;
    }
  }
}

class Instance implements RunningDovecot {
  readonly host = '127.0.0.1' as const;
  readonly ports: DovecotPorts;
  readonly ca: string;
  readonly passwords: ReadonlyMap<string, string>;
  readonly dir: string;
  readonly #bin: string;
  readonly #doveadm: string;
  readonly #conf: string;
  #child: ChildProcess | null = null;
  #output = '';
  #stopping: Promise<void> | null = null;

  constructor(
    bin: string,
    doveadm: string,
    conf: string,
    dir: string,
    ports: DovecotPorts,
    pw: Map<string, string>,
  ) {
    this.#bin = bin;
    this.#doveadm = doveadm;
    this.#conf = conf;
    this.dir = dir;
    this.ports = ports;
    this.passwords = pw;
    this.ca = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  }

  log(): string {
    return `${this.#output}${readTail(path.join(this.dir, 'dovecot.log'))}`;
  }

  async launch(): Promise<void> {
    const child = spawn(this.#bin, ['-F', '-c', this.#conf], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    const keep = (d: string) => {
      this.#output = (this.#output + d).slice(-LOG_TAIL_BYTES);
    };
    child.stdout!.setEncoding('utf8').on('data', keep);
    child.stderr!.setEncoding('utf8').on('data', keep);
    child.on('error', (err) => keep(`[spawn error] ${err.message}\n`));
    const started = performance.now();
    while (performance.now() - started < START_TIMEOUT_MS) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (await listening(this.ports)) return;
      await sleep(100);
    }
    throw new Error(
      `Dovecot did not start on 127.0.0.1 ports ${JSON.stringify(this.ports)}; its log:\n${this.log()}`,
    );
  }

  async halt(): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // Dovecot's master ends its children on SIGTERM; the group kill catches any straggler.
    child.kill('SIGTERM');
    const done = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS, false, { ref: false })]);
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // The whole group is gone already.
    }
    if (!done) await exited;
  }

  async restart(): Promise<void> {
    await this.halt();
    await this.launch();
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.halt();
      fs.rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.#stopping;
  }

  /** An IMAP session as `user` for the helper's own work. */
  async #session<T>(user: string, work: (client: ImapFlow) => Promise<T>): Promise<T> {
    const client = new ImapFlow({
      host: this.host,
      port: this.ports.imap,
      secure: false,
      doSTARTTLS: false,
      auth: { user, pass: this.passwords.get(user)! },
      logger: false,
    });
    client.on('error', () => {});
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.logout().catch(() => client.close());
    }
  }

  async append(user: string, raw: string | Buffer, mailbox = 'INBOX', flags: string[] = []): Promise<number> {
    const res = await this.#session(user, (c) => c.append(mailbox, raw, flags));
    if (!res || res.uid === undefined) throw new Error(`APPEND to ${user}/${mailbox} gave no UID`);
    return res.uid;
  }

  messages(user: string, mailbox = 'INBOX'): Promise<StoredImapMessage[]> {
    return this.#session(user, async (c) => {
      const lock = await c.getMailboxLock(mailbox, { readOnly: true });
      try {
        if (!c.mailbox || c.mailbox.exists === 0) return [];
        const rows = await c.fetchAll('1:*', { uid: true, flags: true, source: true });
        return rows
          .map((r) => ({ uid: r.uid, flags: r.flags ?? new Set<string>(), raw: r.source ?? Buffer.alloc(0) }))
          .sort((a, b) => a.uid - b.uid);
      } finally {
        lock.release();
      }
    });
  }

  async createMailbox(user: string, mailbox: string): Promise<void> {
    await this.#session(user, (c) => c.mailboxCreate(mailbox));
  }

  uidValidity(user: string, mailbox = 'INBOX'): Promise<bigint> {
    return this.#session(user, async (c) => {
      const status = await c.status(mailbox, { uidValidity: true });
      if (!status || status.uidValidity === undefined) throw new Error('STATUS gave no UIDVALIDITY');
      return status.uidValidity;
    });
  }

  async renumber(user: string, mailbox = 'INBOX'): Promise<bigint> {
    const before = await this.messages(user, mailbox);
    await this.#session(user, async (c) => {
      const lock = await c.getMailboxLock(mailbox);
      try {
        if (before.length > 0) await c.messageDelete('1:*');
        for (const m of [...before].reverse()) await c.append(mailbox, m.raw);
      } finally {
        lock.release();
      }
    });
    const next = (await this.uidValidity(user, mailbox)) + 1000n;
    await new Promise<void>((resolve, reject) => {
      const args = [
        '-c',
        this.#conf,
        'mailbox',
        'update',
        '-u',
        user,
        '--uid-validity',
        String(next),
        mailbox,
      ];
      execFile(this.#doveadm, args, (err, _stdout, stderr) =>
        err ? reject(new Error(`doveadm mailbox update failed: ${stderr || err.message}`)) : resolve(),
      );
    });
    return next;
  }
}

/** A TCP relay in front of one of Dovecot's ports that cuts connections when told to. */
export interface CuttingProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections cut so far. */
  readonly cuts: number;
  /** The next connection is cut once this many bytes went from the server to the client. */
  cutNextAfter(bytes: number): void;
  /** Cuts every open connection now. */
  cutAll(): void;
  close(): Promise<void>;
}

export async function startCuttingProxy(targetPort: number): Promise<CuttingProxy> {
  const open = new Set<net.Socket>();
  let connections = 0;
  let cuts = 0;
  let armed: number | null = null;
  const cut = (a: net.Socket, b: net.Socket) => {
    cuts += 1;
    a.destroy();
    b.destroy();
  };
  const server = net.createServer((client) => {
    connections += 1;
    const limit = armed;
    armed = null;
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => {});
    }
    let relayed = 0;
    upstream.on('data', (d: Buffer) => {
      if (limit !== null && relayed + d.length >= limit) {
        client.write(d.subarray(0, Math.max(0, limit - relayed)));
        cut(client, upstream);
        return;
      }
      relayed += d.length;
      client.write(d);
    });
    client.on('data', (d: Buffer) => upstream.write(d));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return connections;
    },
    get cuts() {
      return cuts;
    },
    cutNextAfter(bytes) {
      armed = bytes;
    },
    cutAll() {
      for (const s of open) s.destroy();
    },
    close() {
      for (const s of open) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
