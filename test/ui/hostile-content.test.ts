// Bad input in a real Chromium: a 10 MB single-line HTML body (the source tab shows its head and
// stays responsive), thousands of parts (shown a page at a time), hostile file names (RTL
// override, NUL, path traversal) shown as harmless text and downloaded under clean names, and
// hundreds of recipients.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  collectErrors,
  launchBrowser,
  newPage,
  screenshot,
  sendMail,
  startMailroom,
  type UiServer,
  waitForCount,
} from './helpers/browser.ts';
import type { PageValue } from './helpers/page-types.ts';

// Page globals used inside page.evaluate() callbacks (see helpers/page-types.ts).
declare const document: PageValue;
declare function requestAnimationFrame(callback: (now: number) => void): number;

const CELL = '<td style="color:#333;padding:2px">cell&nbsp;data</td>';
const BIG_HTML = `<!doctype html><html><body><table><tr>${CELL.repeat(Math.ceil((10 * 1024 * 1024) / CELL.length))}</tr></table></body></html>`;
const PARTS = 2000;
const HOSTILE_NAMES = [
  'invoice\u202Efdp.exe',
  'nul\u0000byte.txt',
  '../../../etc/passwd',
  '..\\..\\boot.ini',
  'zero\u200Bwidth.pdf',
];

describe('bad input in the web inbox (Chromium)', () => {
  let srv: UiServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  before(async () => {
    [srv, browser] = await Promise.all([startMailroom(), launchBrowser()]);
    const port = srv.mailroom.smtpPort;
    await sendMail(port, { subject: 'Ten megabytes on one line', html: BIG_HTML, text: 'big' });
    await sendMail(port, {
      subject: 'Two thousand parts',
      text: 'many parts',
      attachments: Array.from({ length: PARTS }, (_, i) => ({
        filename: `part-${String(i).padStart(4, '0')}.txt`,
        content: `part ${i}`,
        contentType: 'text/plain',
      })),
    });
    await sendMail(port, {
      subject: 'Hostile file names',
      to: Array.from({ length: 300 }, (_, i) => `user${i}@example.com`),
      text: 'names',
      attachments: HOSTILE_NAMES.map((filename) => ({
        filename,
        content: 'x',
        contentType: 'application/octet-stream',
      })),
    });
    await waitForCount(srv.base, 3, 60_000);
    ({ page } = await newPage(browser));
    errors = collectErrors(page);
    await page.goto(`${srv.base}/`);
    await page.locator('.row[data-id]').first().waitFor();
  });

  after(async () => {
    await browser?.close();
    await srv?.stop();
  });

  /** Resolves once the page renders another frame: its main thread is free again. */
  const responsiveness = async () => {
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
  };

  it('shows the head of a 10 MB one-line HTML source and stays responsive', async () => {
    await page.locator('.row[data-id]', { hasText: 'Ten megabytes' }).click();
    await page.locator('.msg-subject', { hasText: 'Ten megabytes' }).waitFor({ timeout: 30_000 });
    await page.locator('#tab-source').click();
    const banner = page.locator('.banner', { hasText: 'Showing the first' });
    await banner.waitFor();
    await responsiveness(); // answers (a frozen page would run into the test's timeout)
    const shown = await page.getByTestId('source').evaluate((el) => el.textContent?.length ?? 0);
    assert.ok(shown <= 128 * 1024 + 100 && shown > 100_000, `${shown} characters shown`);
    assert.match(await banner.innerText(), /of 10,\d{3},\d{3} characters/);
    const download = banner.locator('button[data-download]');
    assert.match((await download.getAttribute('data-download')) ?? '', /\.html\.txt$/);
    await screenshot(page, 'hostile-big-source');

    // Raw: only the head of the message is fetched, with the full download offered.
    await page.locator('#tab-raw').click();
    const rawBanner = page.locator('.banner', { hasText: 'Showing the first' });
    await rawBanner.waitFor();
    assert.match((await rawBanner.locator('a[download]').getAttribute('href')) ?? '', /\/raw\?dl=1$/);
    assert.ok((await page.getByTestId('raw').evaluate((el) => el.textContent?.length ?? 0)) <= 256 * 1024);

    // "Show all" renders everything, unhighlighted, on request.
    await page.locator('#tab-source').click();
    await page.locator('.banner button', { hasText: 'Show all' }).click();
    await page.locator('.banner', { hasText: 'Showing all' }).waitFor({ timeout: 30_000 });
    const all = await page.getByTestId('source').evaluate((el) => el.textContent?.length ?? 0);
    const id = await page.locator('article.msg').getAttribute('data-id');
    const msg = (await (await fetch(`${srv.base}/api/v1/message/${id}`)).json()) as { HTML: string };
    assert.ok(msg.HTML.length >= BIG_HTML.length);
    assert.equal(all, msg.HTML.length, 'every character of the HTML is shown');
    await responsiveness(); // answers (a frozen page would run into the test's timeout)
    await screenshot(page, 'hostile-big-source-all');
    assert.equal(await page.getByTestId('source').locator('span').count(), 0, 'no highlighting spans');
  });

  it('lists thousands of parts a page at a time', async () => {
    await page.locator('.row[data-id]', { hasText: 'Two thousand parts' }).click();
    await page.locator('.msg-subject', { hasText: 'Two thousand parts' }).waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('#tab-attachments .count').innerText(), '2,000');
    await page.locator('#tab-attachments').click();
    await page.locator('.att').first().waitFor();
    assert.equal(await page.locator('.att').count(), 120);
    await page.locator('button', { hasText: 'Show more (1,880 left)' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.att').length === 600);
    await responsiveness(); // answers (a frozen page would run into the test's timeout)
    await screenshot(page, 'hostile-many-parts');
  });

  it('shows hostile file names as text and downloads them under clean names', async () => {
    await page.locator('.row[data-id]', { hasText: 'Hostile file names' }).click();
    await page.locator('.msg-subject', { hasText: 'Hostile file names' }).waitFor();
    // 300 recipients: a few shown, the rest behind "+N more".
    await page.locator('.addr-row .link-btn', { hasText: '+294 more' }).waitFor();
    await page.locator('#tab-attachments').click();
    await page.locator('.att').first().waitFor();
    const cards = await page.locator('.att').evaluateAll((els) =>
      els.map((el) => ({
        text: (el.querySelector('.att-name') as PageValue).innerText,
        badges: [...el.querySelectorAll('.att-name .ctl')].map((b) => b.textContent),
        download: el.querySelector('a[download]')?.getAttribute('download') ?? '',
      })),
    );
    assert.equal(cards.length, HOSTILE_NAMES.length);
    for (const c of cards) {
      assert.doesNotMatch(
        c.text,
        /[\u0000-\u001f\u202a-\u202e\u2066-\u2069\u200b-\u200f]/,
        `visible name ${JSON.stringify(c.text)}`,
      );
      assert.doesNotMatch(
        c.download,
        /[\\/\u0000-\u001f\u202a-\u202e\u200b-\u200f]|^\./,
        `download name ${JSON.stringify(c.download)}`,
      );
    }
    const rtl = cards.find((c) => c.text.startsWith('invoice'));
    assert.ok(rtl, JSON.stringify(cards));
    assert.deepEqual(rtl.badges, ['U+202E'], 'the RTL override is shown, not applied');
    assert.equal(rtl.download, 'invoicefdp.exe');
    const traversal = cards.find((c) => c.text.includes('passwd'));
    assert.ok(traversal);
    assert.equal(traversal.download, 'passwd');
    await screenshot(page, 'hostile-names');
  });

  it('logged no page errors', () => {
    assert.deepEqual(errors, []);
  });
});
