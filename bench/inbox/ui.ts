// bench/inbox: how long the web UI takes to show its first message row in Chromium (Debian's
// chromium driven by playwright-core). Each load gets a fresh browser context (empty cache and
// storage, as a first visit); one untimed load first starts the renderer.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../test/ui/helpers/browser.ts';
import { median } from './latency.ts';

/** A message row of the inbox list, whichever of the markings the UI settles on. */
export const FIRST_ROW_SELECTOR = '[data-message-id], [role="row"], [role="option"][data-id]';

/** How long one load may take before it counts as failed. */
const LOAD_TIMEOUT_MS = 20_000;

export type UiResult =
  | { status: 'ok'; medianMs: number; loadsMs: number[]; selector: string }
  | { status: 'not-built' | 'no-browser' | 'failed'; reason: string; selector: string };

/** An executable named on PATH (or given as a path), resolved to its file; null if absent. */
export function which(name: string): string | null {
  if (name.includes(path.sep)) return fs.existsSync(name) ? name : null;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {}
  }
  return null;
}

/** Is the UI served at `/`? Null when it is, otherwise why not. */
async function uiMissing(base: string): Promise<string | null> {
  try {
    // Asked as a browser asks: some UIs (MailDev's) serve their page only to an HTML Accept.
    const res = await fetch(`${base}/`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    const body = await res.text();
    if (res.status !== 200) return `GET / answered ${res.status}`;
    if (!res.headers.get('content-type')?.includes('text/html')) return 'GET / is not HTML';
    if (!/<script/i.test(body)) return 'GET / has no script';
    return null;
  } catch (err) {
    return `GET / failed: ${(err as Error).message}`;
  }
}

/**
 * Loads `base` + "/" `loads` times and reports the median time to the first visible row: an
 * element matching `selector` (Mailroom's rows by default; a peer's UI passes its own).
 */
export async function measureUi(
  base: string,
  loads: number,
  selector: string = FIRST_ROW_SELECTOR,
): Promise<UiResult> {
  const missing = await uiMissing(base);
  if (missing) return { status: 'not-built', reason: `UI not built (${missing})`, selector };
  const wanted = process.env.MAILROOM_CHROMIUM || 'chromium';
  const executablePath = which(wanted);
  if (!executablePath) {
    return { status: 'no-browser', reason: `${wanted} not found (set MAILROOM_CHROMIUM)`, selector };
  }
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  try {
    const loadOnce = async (): Promise<number> => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const t0 = performance.now();
        await page.goto(`${base}/`, { waitUntil: 'commit', timeout: LOAD_TIMEOUT_MS });
        await page.locator(selector).first().waitFor({ state: 'visible', timeout: LOAD_TIMEOUT_MS });
        return performance.now() - t0;
      } finally {
        await context.close();
      }
    };
    const loadsMs: number[] = [];
    try {
      await loadOnce();
      for (let i = 0; i < loads; i++) loadsMs.push(await loadOnce());
    } catch (err) {
      const first = (err as Error).message.split('\n')[0];
      return { status: 'failed', reason: `no row appeared (${first})`, selector };
    }
    return { status: 'ok', medianMs: median(loadsMs), loadsMs, selector };
  } finally {
    await browser.close();
  }
}
