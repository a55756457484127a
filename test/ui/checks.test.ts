// The message check tabs in the web inbox (Chromium): Links (the one-time code, every link with
// where it was found, a link check run by the server through its address policy, and the
// List-Unsubscribe check) and HTML check (a score per client family, the features with issues,
// each with its clients and caniemail page). The links point at a loopback server that the
// Mailroom process is allowed to reach (--webhook-allow 127.0.0.1), and at internal addresses it
// must refuse; every link is on loopback or refused, so the check makes no other connection (and
// no DNS query). Screenshots in light and dark.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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
} from './helpers/browser.ts';
import { listAll, until } from './helpers/wait.ts';

function targetServer() {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    if (req.url === '/welcome') res.writeHead(200);
    else if (req.url === '/old-page') res.writeHead(301, { Location: '/welcome' });
    else res.writeHead(404);
    res.end();
  });
  return { server, paths };
}

function signInHtml(base: string): string {
  return `<!DOCTYPE html><html><head><style>
  .card { display: flex; border-radius: 12px; box-shadow: 0 1px 3px #0002 }
  @media (prefers-color-scheme: dark) { .card { background: #111 } }
</style></head><body>
<table role="presentation" width="600" cellpadding="0" cellspacing="0">
  <tr><td style="padding:16px">Hi Ann, someone is signing in to your Acme account.</td></tr>
  <tr><td style="padding:16px 16px 0">Your verification code</td></tr>
  <tr><td style="font-size:28px;letter-spacing:4px"><strong>482 913</strong></td></tr>
  <tr><td style="padding:16px">It expires in 10 minutes. Order #558812 is not affected.</td></tr>
</table>
<div class="card"><svg width="16" height="16"></svg>
  <a href="${base}/welcome">Open your dashboard</a> ·
  <a href="${base}/old-page">Read the guide</a> ·
  <a href="${base}/gone">Old release notes</a> ·
  <a href="http://169.254.169.254/latest/meta-data/">Instance details</a> ·
  <a href="${base}/c?u=https%3A%2F%2Fapp.acme.example%2Fsecurity">Security settings</a> ·
  <a href="mailto:help@acme.example">Write to us</a>
</div></body></html>`;
}

describe('message check tabs in the web inbox (Chromium)', () => {
  const target = targetServer();
  let srv: UiServer;
  let browser: Browser;
  let targetBase = '';
  let id = '';
  let textOnly = '';

  before(async () => {
    await new Promise<void>((r) => target.server.listen(0, '127.0.0.1', r));
    targetBase = `http://127.0.0.1:${(target.server.address() as AddressInfo).port}`;
    [srv, browser] = await Promise.all([
      startMailroom(['--webhook-allow', '127.0.0.1', '--link-check-timeout', '5s']),
      launchBrowser(),
    ]);
    await sendMail(srv.mailroom.smtpPort, {
      subject: 'Your Acme verification code',
      from: 'Acme <no-reply@acme.example>',
      text: `Your verification code: 482913\nOpen your dashboard: ${targetBase}/welcome`,
      html: signInHtml(targetBase),
      headers: {
        'List-Unsubscribe': '<https://news.acme.example/unsubscribe?u=42>, <mailto:leave@acme.example>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    });
    await sendMail(srv.mailroom.smtpPort, { subject: 'Plain note', text: 'Nothing to see here.' });
    const all = await until(async () => {
      const list = await listAll(srv.base);
      const subjects = list.messages.map((m) => m.Subject).sort();
      return subjects.join() === 'Plain note,Your Acme verification code' ? list : undefined;
    }, 'both messages to be listed, parsed');
    id = all.messages.find((m) => m.Subject.startsWith('Your Acme'))!.ID;
    textOnly = all.messages.find((m) => m.Subject === 'Plain note')!.ID;
  });
  after(async () => {
    await browser?.close();
    await srv?.stop();
    target.server.close();
  });

  async function openTab(page: Page, messageId: string, tab: 'links' | 'htmlcheck'): Promise<void> {
    await page.goto(`${srv.base}/m/${messageId}`);
    await page.locator('.msg-subject').waitFor();
    await page.locator(`#tab-${tab}`).click();
  }

  it('Links: the code, each link once, and a link check that refuses internal addresses', async () => {
    const { context, page } = await newPage(browser, { height: 1300 });
    const errors = collectErrors(page);
    await openTab(page, id, 'links');
    const tab = page.getByTestId('links-tab');
    await tab.waitFor();

    assert.match(await tab.getByTestId('otp').innerText(), /482913[\s\S]*Copy[\s\S]*verification/);
    const rows = tab.locator('.links-table').first().locator('tbody tr');
    assert.equal(await rows.count(), 6, 'six links, the dashboard link found in both parts once');
    const dashboard = rows.filter({ hasText: 'Open your dashboard' });
    assert.deepEqual(await dashboard.locator('.link-found .badge').allInnerTexts(), ['HTML', 'Text']);
    assert.match(
      await rows.filter({ hasText: 'Security settings' }).locator('.link-target').innerText(),
      /app\.acme\.example\/security/,
    );
    const open = dashboard.locator('.link-url a');
    assert.equal(await open.getAttribute('target'), '_blank');
    assert.equal(await open.getAttribute('rel'), 'noopener noreferrer');
    assert.equal(target.paths.length, 0, 'nothing is fetched before the check is asked for');

    await tab.getByRole('button', { name: 'Check links' }).click();
    const summary = tab.getByTestId('link-summary');
    await summary.waitFor();
    assert.match(await summary.innerText(), /web links checked: 3 with errors \(1 blocked/);
    const status = (text: string) => rows.filter({ hasText: text }).locator('.link-status').innerText();
    assert.match(await status('Open your dashboard'), /^200 OK/);
    assert.match(await status('Read the guide'), /^301 Moved Permanently/);
    assert.match(await status('Old release notes'), /^404 Not Found/);
    assert.match(await status('Instance details'), /^blocked Blocked: 169\.254\.169\.254 is link-local/);
    assert.match(await status('Security settings'), /^404 Not Found/);
    assert.match(await status('Write to us'), /not a web link/);
    assert.ok(!target.paths.some((p) => p.includes('meta-data')));

    // With redirects followed, the guide answers 200 after one hop.
    await tab.getByLabel('Follow redirects').check();
    await tab.getByRole('button', { name: 'Check again' }).click();
    await until(
      async () => /after 1 redirect/.test(await status('Read the guide')),
      'the redirect to be followed',
    );
    assert.match(await status('Read the guide'), /^200 OK after 1 redirect/);

    const unsub = tab.getByTestId('unsubscribe');
    assert.match(
      await unsub.locator('.unsub-verdict').innerText(),
      /One-click declared[\s\S]*No DKIM signature/,
    );
    assert.deepEqual(await unsub.locator('.unsub-fields .rcpt .badge').allInnerTexts(), ['https', 'mailto']);
    assert.match(await unsub.locator('.unsub-warning').innerText(), /RFC 8058 §4/);

    await screenshot(page, 'message-links-light');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('Links in dark, and a message without links, code or List-Unsubscribe', async () => {
    const { context, page } = await newPage(browser, { dark: true, height: 1300 });
    const errors = collectErrors(page);
    await openTab(page, id, 'links');
    await page.getByTestId('links-tab').waitFor();
    await page.getByRole('button', { name: 'Check links' }).click();
    await page.getByTestId('link-summary').waitFor();
    await screenshot(page, 'message-links-dark');
    await openTab(page, textOnly, 'links');
    const tab = page.getByTestId('links-tab');
    await tab.getByText('This message has no links.').waitFor();
    assert.equal(await tab.getByTestId('otp').count(), 0);
    await tab.getByText('This message has no List-Unsubscribe field.').waitFor();
    assert.equal(await tab.getByRole('button', { name: 'Check links' }).isDisabled(), true);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('HTML check: scores per family, features with their clients, reached by keyboard', async () => {
    const { context, page } = await newPage(browser, { height: 1300 });
    const errors = collectErrors(page);
    await page.goto(`${srv.base}/m/${id}`);
    await page.locator('.msg-subject').waitFor();
    // The check tabs sit between Routing and Spam; the arrow keys reach them as they reach the others.
    await page.locator('#tab-routing').click();
    await page.locator('#tab-routing').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#tab-links').getAttribute('aria-selected'), 'true');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#tab-htmlcheck').getAttribute('aria-selected'), 'true');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#tab-spam').getAttribute('aria-selected'), 'true');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.locator('#tab-htmlcheck').getAttribute('aria-selected'), 'true');
    assert.equal(await page.locator('#tab-htmlcheck').innerText(), 'HTML check');
    const tab = page.getByTestId('html-check');
    await tab.waitFor();

    const families = tab.locator('.hc-family');
    assert.ok((await families.count()) >= 10);
    const outlook = families.filter({ hasText: 'Outlook' });
    const apple = families.filter({ hasText: 'Apple Mail' });
    const score = async (f: typeof outlook) =>
      Number((await f.locator('.hc-score').innerText()).replace('%', ''));
    assert.ok(
      (await score(apple)) > (await score(outlook)),
      'Apple Mail renders flexbox and SVG, Outlook does not',
    );

    await screenshot(page, 'message-html-check-light');
    const flex = tab.locator('.hc-feature[data-slug="css-display-flex"]');
    await flex.locator('summary').focus();
    await page.keyboard.press('Enter');
    assert.equal(await flex.getAttribute('open'), '');
    const link = flex.locator('.hc-feature-body a');
    assert.equal(await link.innerText(), 'display:flex on caniemail.com');
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
    assert.match(await flex.locator('.hc-clients').innerText(), /Outlook[\s\S]*Windows/);
    assert.ok((await flex.locator('.hc-support.hc-no').filter({ hasText: 'Windows' }).count()) > 0);
    await screenshot(page, 'message-html-check-feature-light');

    // Choosing a family lists its issues only.
    await outlook.click();
    assert.match(await tab.locator('#hc-features-title').innerText(), /^Issues in Outlook/);
    assert.equal(await outlook.getAttribute('aria-pressed'), 'true');
    const shown = await tab.locator('.hc-feature').count();
    await tab.getByRole('button', { name: 'show all clients' }).click();
    assert.ok((await tab.locator('.hc-feature').count()) >= shown);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('HTML check in dark, and disabled for a message without HTML', async () => {
    const { context, page } = await newPage(browser, { dark: true, height: 1300 });
    const errors = collectErrors(page);
    await openTab(page, id, 'htmlcheck');
    await page.getByTestId('html-check').waitFor();
    await page.locator('.hc-feature[data-slug="html-svg"] summary').click();
    await screenshot(page, 'message-html-check-dark');
    await page.goto(`${srv.base}/m/${textOnly}`);
    await page.locator('.msg-subject', { hasText: 'Plain note' }).waitFor();
    assert.equal(await page.locator('#tab-htmlcheck').isDisabled(), true);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('narrow screens keep the links readable', async () => {
    const { context, page } = await newPage(browser, { width: 420, height: 1000 });
    const errors = collectErrors(page);
    await openTab(page, id, 'links');
    await page.getByTestId('links-tab').waitFor();
    await screenshot(page, 'message-links-narrow');
    assert.deepEqual(errors, []);
    await context.close();
  });
});
