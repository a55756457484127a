// Real-browser test helpers: Debian's Chromium driven by playwright-core (never a downloaded
// browser), a Mailroom process on a temp data dir, mail sent over SMTP, and screenshots written
// to test-artifacts/screenshots/ for people (and CI) to look at.
import { accessSync, constants, mkdirSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { tempDir } from '../../helpers/backends.ts';
import { type RunningMailroom, spawnMailroom } from '../../helpers/process.ts';

export const SCREENSHOT_DIR = fileURLToPath(new URL('../../../test-artifacts/screenshots/', import.meta.url));

/** Chromium flags for a quiet, headless, sandbox-less run in a container (bench/inbox uses them too). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The Chromium to drive: $MAILROOM_CHROMIUM, else the first chromium/chrome on PATH. */
export function findChromium(): string {
  const override = process.env.MAILROOM_CHROMIUM;
  if (override) return override;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
      const path = join(dir, name);
      try {
        accessSync(path, constants.X_OK);
        return path;
      } catch {
        // Not here.
      }
    }
  }
  throw new Error('No Chromium found: install the chromium package or set MAILROOM_CHROMIUM to its path.');
}

/** Launches Chromium headless with a fresh profile (playwright makes a temp user-data dir). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

export interface UiServer {
  mailroom: RunningMailroom;
  dataDir: string;
  /** http://127.0.0.1:port */
  base: string;
  stop(): Promise<void>;
}

/** A Mailroom process on a fresh data dir. */
export async function startMailroom(args: string[] = []): Promise<UiServer> {
  const dataDir = tempDir('mailroom-ui-');
  const mailroom = await spawnMailroom(['--data-dir', dataDir, ...args]);
  return {
    mailroom,
    dataDir,
    base: `http://127.0.0.1:${mailroom.httpPort}`,
    async stop() {
      await mailroom.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Mail {
  from?: string;
  to?: string | string[];
  cc?: string | string[];
  bcc?: string | string[];
  subject: string;
  text?: string;
  html?: string;
  headers?: Record<string, string>;
  attachments?: { filename: string; content: string | Buffer; contentType?: string; cid?: string }[];
}

/** Sends one message over SMTP; resolves once the server accepted it (250). */
export async function sendMail(smtpPort: number, mail: Mail): Promise<void> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: smtpPort,
    secure: false,
    ignoreTLS: true,
    tls: { rejectUnauthorized: false },
  });
  try {
    await transport.sendMail({
      from: mail.from ?? 'Ann Sender <ann@example.com>',
      to: mail.to ?? 'bob@example.com',
      cc: mail.cc,
      bcc: mail.bcc,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      headers: mail.headers,
      attachments: mail.attachments,
    });
  } finally {
    transport.close();
  }
}

/** Waits until the API lists `n` messages (mail is listed once parsed). */
export async function waitForCount(base: string, n: number, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = -1;
  while (Date.now() < until) {
    const res = await fetch(`${base}/api/v1/messages?limit=1`);
    const body = (await res.json()) as { total: number; messages: { Subject: string }[] };
    last = body.total;
    if (last === n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`expected ${n} messages, the API lists ${last}`);
}

/**
 * Uncaught page errors, console errors and failed responses (with their URL, which Chromium's
 * console line lacks), collected for assertions.
 */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg: ConsoleMessage) => {
    // "Failed to load resource" is reported below, with the URL.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
      errors.push(`console: ${msg.text()}`);
    }
  });
  page.on('response', (res) => {
    if (res.status() >= 400) errors.push(`http ${res.status()}: ${res.request().method()} ${res.url()}`);
  });
  return errors;
}

/** A page with a viewport and colour scheme; returns the context so the caller can close it. */
export async function newPage(
  browser: Browser,
  opts: { dark?: boolean; width?: number; height?: number } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1440, height: opts.height ?? 900 },
    colorScheme: opts.dark ? 'dark' : 'light',
    deviceScaleFactor: 1,
  });
  // Fail with a message well before the test runner's own timeout.
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  return { context, page };
}

/** Saves a full-viewport screenshot as test-artifacts/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
  return path;
}
