// The web inbox with 100,000 stored messages, in a real Chromium: the first page renders in under
// a second, only the visible rows are in the DOM, scrolling fetches only the pages it stops on and
// keeps frames short, the far end is reachable, and live mail still lands on top.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { ParsedMessage } from '../../src/domain/message.ts';
import { SqliteStorage } from '../../src/storage/sqlite/store.ts';
import { tempDir } from '../helpers/backends.ts';
import { spoolEntry } from '../helpers/fixtures.ts';
import { type RunningMailroom, spawnMailroom } from '../helpers/process.ts';
import { launchBrowser, newPage, screenshot, sendMail } from './helpers/browser.ts';
import type { PageValue } from './helpers/page-types.ts';

// Page globals used inside page.evaluate() callbacks (see helpers/page-types.ts).
declare const document: PageValue;
declare function requestAnimationFrame(callback: (now: number) => void): number;

const COUNT = 100_000;
const BATCH = 2000;
const ROW_H = 76;

function parsed(i: number): ParsedMessage {
  return {
    messageId: `seed-${i}@example.test`,
    subject: `Order #${i} has shipped`,
    date: null,
    from: { Name: `Shop ${i % 97}`, Address: `shop${i % 97}@example.test` },
    to: [{ Name: '', Address: 'rcpt@example.test' }],
    cc: [],
    bcc: [],
    replyTo: [],
    returnPath: '',
    text: `Your order ${i} is on its way.`,
    html: '',
    snippet: `Your order ${i} is on its way.`,
    attachments: [],
    inline: [],
    listUnsubscribe: { header: '', links: [], post: '', errors: '' },
  };
}

/** Stores `COUNT` parsed messages through the storage port (SMTP would take minutes). */
async function seed(dataDir: string): Promise<void> {
  const storage = await SqliteStorage.open(dataDir);
  try {
    for (let i = 0; i < COUNT; i += BATCH) {
      const entries = Array.from({ length: BATCH }, (_, j) => spoolEntry(`Order #${i + j} has shipped`));
      await storage.appendSpool(entries);
      await storage.saveParsed(
        entries.map((e, j) => ({ id: e.id, result: { ok: true, parsed: parsed(i + j) } })),
      );
    }
  } finally {
    await storage.close();
  }
}

describe('web inbox with 100,000 messages (Chromium)', () => {
  const dataDir = tempDir('mailroom-ui-big-');
  let mailroom: RunningMailroom;
  let browser: Browser;
  let base = '';
  let page: Page;
  const listRequests: string[] = [];

  before(async () => {
    const [b] = await Promise.all([launchBrowser(), seed(dataDir)]);
    browser = b;
    // The default retention keeps 100,000 messages: one more would prune the oldest and the
    // count would not move, so the live-mail step could not see it grow.
    mailroom = await spawnMailroom(['--data-dir', dataDir, '--retain-messages', '0']);
    base = `http://127.0.0.1:${mailroom.httpPort}`;
  });

  after(async () => {
    await browser?.close();
    await mailroom?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('renders the first page of 100,000 messages', async (t) => {
    // Timings are reported, not asserted (tests never assert on time; bench/inbox measures the
    // first page against its 1 s target). One untimed load first starts the renderer process.
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const fresh = await newPage(browser);
      const t0 = performance.now();
      await fresh.page.goto(`${base}/`, { waitUntil: 'commit' });
      await fresh.page.locator('[role="option"][data-id]').first().waitFor();
      if (i > 0) times.push(performance.now() - t0);
      await fresh.context.close();
    }
    times.sort((a, b) => a - b);
    const shown = `${times.map(Math.round).join(', ')} ms`;
    t.diagnostic(`first row after ${shown}`);

    ({ page } = await newPage(browser));
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/messages?')) listRequests.push(new URL(r.url()).search);
    });
    await page.goto(`${base}/`);
    await page.locator('[role="option"][data-id]').first().waitFor();
    assert.equal(
      await page.getByTestId('list-count').innerText(),
      `${COUNT.toLocaleString('en-US')} messages`,
    );
    assert.equal(
      await page.locator('.row[data-id]').first().locator('.row-subject').innerText(),
      `Order #${COUNT - 1} has shipped`,
    );
    await page.locator('.live-live').waitFor();
    await screenshot(page, 'big-mailbox-top');
  });

  it('keeps only the visible rows in the DOM', async () => {
    const rows = await page.locator('.row').count();
    assert.ok(rows > 5 && rows < 60, `${rows} rows in the DOM`);
    const spacer = await page.locator('.list-spacer').evaluate((el) => el.getBoundingClientRect().height);
    assert.equal(spacer, COUNT * ROW_H);
  });

  it('scrolls and fetches only where it stops', async (t) => {
    const before = listRequests.length;
    /** Scrolls `el` 600 px a frame for 150 frames; the frame intervals, sorted. */
    const scrollFrames = (el: PageValue) =>
      new Promise<number[]>((resolve) => {
        const times: number[] = [];
        let last = performance.now();
        let n = 0;
        const step = (now: number) => {
          times.push(now - last);
          last = now;
          el.scrollTop += 600;
          if (++n < 150) requestAnimationFrame(step);
          else resolve(times.slice(1).sort((a, b) => a - b));
        };
        requestAnimationFrame(step);
      });
    const frames = await page.locator('.list-scroll').evaluate(scrollFrames);
    // The same scroll over a plain tall element, in this browser now: what the machine allows.
    const other = await newPage(browser);
    await other.page.setContent(
      '<div id="s" style="height:800px;overflow:auto"><div style="height:7600000px"></div></div>',
    );
    const baseline = await other.page.locator('#s').evaluate(scrollFrames);
    await other.context.close();
    const p90 = (f: number[]) => f[Math.floor(f.length * 0.9)] ?? Infinity;
    t.diagnostic(
      `90th percentile frame ${p90(frames).toFixed(1)} ms (plain scrolling: ${p90(baseline).toFixed(1)} ms)`,
    );
    // Where the scrolling stopped: about row 150 * 600 / 76 = 1184.
    const stop = Math.floor((150 * 600) / ROW_H);
    await page.locator('.row[data-id]', { hasText: `Order #${COUNT - 1 - stop} has shipped` }).waitFor();
    const during = listRequests.slice(before);
    assert.ok(during.length <= 6, `scrolling past ~12 pages asked for ${during.length}: ${during.join(' ')}`);
  });

  it('jumps to the middle and to the end', async () => {
    const before = listRequests.length;
    await page.locator('.list-scroll').evaluate((el, y) => {
      el.scrollTop = y;
    }, 50_000 * ROW_H);
    await page.locator('.row[data-id]', { hasText: `Order #${COUNT - 1 - 50_000} has shipped` }).waitFor();
    // Only pages near where the scrolling stopped (rows ~1184 and ~50,000), none in between.
    const pages = listRequests.slice(before).map((q) => Number(new URLSearchParams(q).get('start')));
    assert.ok(
      pages.every((p) => (p >= 1000 && p <= 1300) || (p >= 49_800 && p <= 50_200)),
      pages.join(' '),
    );
    await screenshot(page, 'big-mailbox-middle');

    await page.locator('.list-scroll').focus();
    await page.keyboard.press('End');
    const last = page.locator('.row.cursor');
    await last.locator('.row-subject', { hasText: 'Order #0 has shipped' }).waitFor();
    assert.equal(await last.getAttribute('id'), `row-${COUNT - 1}`);
    await page.keyboard.press('Home');
    await page.locator('.row.cursor .row-subject', { hasText: `Order #${COUNT - 1} has shipped` }).waitFor();
  });

  it('shows live mail on top of the 100,000', async () => {
    await sendMail(mailroom.smtpPort, { subject: 'Fresh on top', text: 'live' });
    await page
      .locator('.row[data-id]')
      .first()
      .locator('.row-subject', { hasText: 'Fresh on top' })
      .waitFor();
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid="list-count"]')?.textContent === `${n} messages`,
      (COUNT + 1).toLocaleString('en-US'),
    );
  });
});
