// bench/inbox: MailDev 3 (the npm package `maildev`, a Node.js capture server) as a second peer.
// It is not a dependency of Mailroom: it is installed on demand into the user's cache directory
// and runs as a separate process on the same Node as the benchmark, storing everything in memory
// (--max-emails 0) with its .eml copies in a temporary mail directory.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fold, type SearchView } from './corpus.ts';
import { freePort, type RunningPeer, watchChild } from './peer.ts';
import { which } from './ui.ts';

/** What `npm install` is asked for. */
export const MAILDEV_PACKAGE = 'maildev@3';

/** A row of MailDev's inbox list (its UI marks each one so). */
export const MAILDEV_ROW_SELECTOR = '[data-testid="email-list-item"]';

/** One entry of `GET /api/email/summary`. */
export interface MaildevSummary {
  id: string;
  read: boolean;
  subject?: string;
  from?: { address?: string; name?: string }[];
  to?: { address?: string; name?: string }[];
}

/** The answer of `GET /api/email/summary`. */
export interface MaildevPage {
  items: MaildevSummary[];
  /** Emails matching the search (all of them without one). */
  total: number;
  storeTotal: number;
  unread: number;
  skip: number;
  limit: number;
}

/** Where the benchmark keeps its own MailDev: <XDG_CACHE_HOME or ~/.cache>/mailroom/peers/maildev-3. */
export function maildevInstallDir(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'mailroom', 'peers', 'maildev-3');
}

function cachedBin(dir: string): string {
  return path.join(dir, 'node_modules', '.bin', 'maildev');
}

/** The `version` of the maildev package.json above the (resolved) CLI file, if there is one. */
function packageVersion(bin: string): string | null {
  let dir: string;
  try {
    dir = path.dirname(fs.realpathSync(bin));
  } catch {
    return null;
  }
  for (;;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'maildev' && pkg.version) return pkg.version;
    } catch {}
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** Runs `npm install` of MailDev into `dir`; resolves with why it failed, or null. */
function npmInstall(dir: string): Promise<string | null> {
  // The npm that came with the Node running the benchmark, else the one on PATH.
  const besideNode = path.join(path.dirname(process.execPath), 'npm');
  const npm = fs.existsSync(besideNode) ? besideNode : 'npm';
  fs.mkdirSync(dir, { recursive: true });
  return new Promise((resolve) => {
    const child = spawn(npm, ['install', '--no-audit', '--no-fund', '--prefix', dir, MAILDEV_PACKAGE], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const keep = (d: string) => output.push(...d.split('\n').filter(Boolean));
    child.stdout!.setEncoding('utf8').on('data', keep);
    child.stderr!.setEncoding('utf8').on('data', keep);
    child.once('error', (err) => resolve(`npm could not be started: ${err.message}`));
    child.once('exit', (code, signal) => {
      if (code === 0) {
        resolve(null);
        return;
      }
      // npm's error code and its one-line reason, not the stack and log-file lines around them.
      const said = output.filter((l) => /^npm error (code |\S*Error\b|\d{3} )/.test(l)).slice(0, 2);
      const why = (said.length > 0 ? said : output.slice(-2)).join(' / ');
      resolve(`npm install ${MAILDEV_PACKAGE} exited with ${code ?? signal}: ${why}`);
    });
  });
}

/**
 * The MailDev CLI to run: MAILDEV_BIN when set, else the cached install, else a fresh install into
 * the cache (which is logged, as it fetches packages). Says why there is none instead.
 */
export async function findMaildev(
  log: (line: string) => void,
): Promise<{ bin: string; version: string | null } | { skipped: string }> {
  const named = process.env.MAILDEV_BIN;
  if (named) {
    const bin = which(named);
    if (!bin) return { skipped: `MAILDEV_BIN=${named} is not an executable file` };
    return { bin, version: packageVersion(bin) };
  }
  const dir = maildevInstallDir();
  const bin = cachedBin(dir);
  if (!fs.existsSync(bin)) {
    log(`maildev: not installed yet; npm install ${MAILDEV_PACKAGE} into ${dir}`);
    const failed = await npmInstall(dir);
    if (failed) return { skipped: `could not install MailDev (${failed})` };
    if (!fs.existsSync(bin)) return { skipped: `npm install ${MAILDEV_PACKAGE} left no ${bin}` };
  }
  return { bin, version: packageVersion(bin) };
}

/** Is this file a Node script (so it runs on this Node, whatever `node` is on PATH)? */
function isNodeScript(file: string): boolean {
  if (/\.[cm]?js$/.test(file)) return true;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(64);
      const n = fs.readSync(fd, head, 0, head.length, 0);
      return /^#!.*\bnode\b/.test(head.subarray(0, n).toString('latin1').split('\n')[0]!);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Starts MailDev with its mail directory under `dir` and waits until /api/healthz answers. */
export async function startMaildev(
  bin: string,
  version: string | null,
  dir: string,
  timeoutMs = 30_000,
): Promise<RunningPeer> {
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  const mailDir = path.join(dir, 'mail');
  fs.mkdirSync(mailDir, { recursive: true });
  const args = [
    '--smtp',
    String(smtpPort),
    '--ip',
    '127.0.0.1',
    '--web',
    String(httpPort),
    '--web-ip',
    '127.0.0.1',
    '--mail-directory',
    mailDir,
    '--max-emails',
    '0',
    '--silent',
  ];
  const script = fs.realpathSync(bin);
  // cwd is the scratch directory, so no MailDev config file of the caller's is picked up.
  const child: ChildProcess = isNodeScript(script)
    ? spawn(process.execPath, [script, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const { output, stop } = watchChild(child);
  const base = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`maildev exited with ${child.exitCode}:\n${output.join('\n')}`);
    try {
      const res = await fetch(`${base}/api/healthz`);
      await res.text();
      if (res.ok) {
        let v = version;
        if (!v) {
          try {
            v = ((await (await fetch(`${base}/api/config`)).json()) as { version?: string }).version ?? null;
          } catch {}
        }
        return { child, smtpPort, httpPort, version: v ?? 'unknown', output, stop };
      }
    } catch {}
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`maildev did not answer within ${timeoutMs} ms:\n${output.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `name <address>` folded as the corpus folds it (corpus.ts mailboxView). */
function mailbox(m: { address?: string; name?: string }): string {
  return fold(m.name ? `${m.name} <${m.address ?? ''}>` : `<${m.address ?? ''}>`);
}

/**
 * What identifies a message in MailDev's list, which shows neither tags nor other headers: its
 * subject, sender and To recipients. `viewKey` gives the same for a corpus message.
 */
export function summaryKey(s: MaildevSummary): string {
  return [
    fold(s.subject ?? ''),
    (s.from ?? []).map(mailbox).join('\n'),
    (s.to ?? []).map(mailbox).join('\n'),
  ].join('\u0000');
}

export function viewKey(v: SearchView): string {
  return [v.subject, v.from, v.to].join('\u0000');
}

/**
 * Marks read every stored message whose summary `pick` chooses, the way MailDev's UI does it (by
 * opening it: `GET /api/email/:id`). Pages through the whole list first, then opens a few at a
 * time. Returns how many it marked.
 */
export async function markReadWhere(
  base: string,
  pick: (s: MaildevSummary) => boolean,
  pageSize = 200,
  parallel = 4,
): Promise<number> {
  const ids: string[] = [];
  for (let skip = 0; ; skip += pageSize) {
    const res = await fetch(`${base}/api/email/summary?skip=${skip}&limit=${pageSize}&sort=desc`);
    const text = await res.text();
    if (!res.ok) throw new Error(`GET /api/email/summary: ${res.status} ${text.slice(0, 300)}`);
    const page = JSON.parse(text) as MaildevPage;
    for (const s of page.items) if (!s.read && pick(s)) ids.push(s.id);
    if (page.items.length === 0 || skip + page.items.length >= page.total) break;
  }
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const res = await fetch(`${base}/api/email/${encodeURIComponent(id)}`);
      const text = await res.text();
      if (!res.ok) throw new Error(`GET /api/email/${id}: ${res.status} ${text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return ids.length;
}
