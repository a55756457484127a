// Inboxes in the web UI (Chromium): a user limited to one inbox (basic auth, --inbox users=) sees
// that inbox as the whole mailbox, under its name, with no desk; a message of another inbox
// opened by its URL is not there, and live updates bring only the user's own mail. A user who
// sees everything gets the inboxes in the sidebar, each row's inbox as a chip, and one inbox's
// mail by clicking it. Mail is filed by recipient pattern (unauthenticated SMTP).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { hashPassword } from '../../src/smtp/auth-file.ts';
import {
  collectErrors,
  launchBrowser,
  screenshot,
  sendMail,
  startMailroom,
  type UiServer,
} from './helpers/browser.ts';
import { until } from './helpers/wait.ts';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

interface Row {
  ID: string;
  Subject: string;
  Envelope: { Inbox: string };
}

describe('inboxes in the web UI (Chromium)', () => {
  let srv: UiServer;
  let browser: Browser;
  const ids = new Map<string, string>();
  let dir = '';

  const api = async (path: string): Promise<Response> =>
    fetch(`${srv.base}${path}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  const all = async (): Promise<Row[]> =>
    ((await (await api('/api/v1/messages?limit=1000')).json()) as { messages: Row[] }).messages;
  const idOf = async (subject: string): Promise<string> =>
    until(async () => (await all()).find((m) => m.Subject === subject)?.ID, `${subject} listed`);

  async function signedIn(user: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      deviceScaleFactor: 1,
      httpCredentials: { username: user, password: `${user}-password` },
    });
    context.setDefaultTimeout(15_000);
    return { context, page: await context.newPage() };
  }

  before(async () => {
    const [alice, admin] = await Promise.all([
      hashPassword('alice-password'),
      hashPassword('admin-password'),
    ]);
    browser = await launchBrowser();
    // The auth file is written into a directory of the test's own, before the server reads it.
    dir = mkdtempSync(join(tmpdir(), 'mr-inbox-ui-'));
    const users = join(dir, 'users');
    writeFileSync(users, `alice:${alice}\nadmin:${admin}\n`);
    srv = await startMailroom([
      '--http-auth-file',
      users,
      '--http-tokens',
      ADMIN_TOKEN,
      '--inbox',
      'team-a?users=alice&recipients=*@team-a.test',
      '--inbox',
      'team-b?recipients=*@team-b.test',
    ]);
    await sendMail(srv.mailroom.smtpPort, { subject: 'Build 41 passed', to: 'ci@team-a.test' });
    await sendMail(srv.mailroom.smtpPort, { subject: 'Invoice for team B', to: 'billing@team-b.test' });
    await sendMail(srv.mailroom.smtpPort, { subject: 'Newsletter nobody claims', to: 'someone@else.test' });
    for (const s of ['Build 41 passed', 'Invoice for team B', 'Newsletter nobody claims'])
      ids.set(s, await idOf(s));
  });

  after(async () => {
    await browser?.close();
    await srv?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows a limited user only their inbox, live, and never another inbox’s message', async () => {
    const { context, page } = await signedIn('alice');
    const errors = collectErrors(page);
    try {
      await page.goto(srv.base);
      const rows = page.locator('.row[data-id]');
      await until(async () => (await rows.count()) === 1, 'one row listed');
      assert.equal(await rows.first().getAttribute('data-id'), ids.get('Build 41 passed'));
      await page.locator('.sidebar .nav-item', { hasText: 'Inbox team-a' }).waitFor();
      assert.equal(await page.locator('.sidebar .nav-item', { hasText: 'Tickets' }).count(), 0);
      assert.equal(await page.locator('.sidebar', { hasText: 'team-b' }).count(), 0);
      assert.equal(await page.locator('.chip-inbox').count(), 0);

      // Live: another inbox's message first, then one of ours; only ours appears.
      await sendMail(srv.mailroom.smtpPort, { subject: 'Second invoice for B', to: 'billing@team-b.test' });
      await idOf('Second invoice for B');
      await sendMail(srv.mailroom.smtpPort, { subject: 'Build 42 failed', to: 'ci@team-a.test' });
      await page.locator('.row', { hasText: 'Build 42 failed' }).waitFor();
      assert.equal(await rows.count(), 2);
      assert.equal(await page.locator('.row', { hasText: 'invoice' }).count(), 0);
      // The counts are the inbox's (live stats limited to it): two, not the store's five.
      const count = page.locator('.sidebar .nav-item', { hasText: 'Inbox team-a' }).locator('.nav-count');
      await until(async () => (await count.innerText()) === '2', 'the inbox count to settle at 2');
      await screenshot(page, 'inboxes-limited');

      // Another inbox's message by its URL: not there.
      await page.goto(`${srv.base}/m/${ids.get('Invoice for team B')}`);
      await page.getByText('This message no longer exists').waitFor();
      assert.equal(await page.getByText('Invoice for team B').count(), 0);
      assert.deepEqual(
        errors.filter((e) => !e.includes(`/api/v1/message/${ids.get('Invoice for team B')}`)),
        [],
      );
    } finally {
      await context.close();
    }
  });

  it('lists the inboxes for a user who sees them all, and opens one by a click', async () => {
    const { context, page } = await signedIn('admin');
    const errors = collectErrors(page);
    try {
      await page.goto(srv.base);
      const rows = page.locator('.row[data-id]');
      await until(async () => (await rows.count()) === 5, 'all five rows listed');
      await page.locator('.sidebar .nav-item', { hasText: 'All inboxes' }).waitFor();
      for (const name of ['default', 'team-a', 'team-b'])
        await page.locator('.inboxes-list .nav-item', { hasText: name }).waitFor();
      // Every row says which inbox it is in.
      const chips = await page.locator('.row .chip-inbox').allTextContents();
      assert.deepEqual([...chips].sort(), ['default', 'team-a', 'team-a', 'team-b', 'team-b']);
      await screenshot(page, 'inboxes-admin');

      await page.locator('.inboxes-list .nav-item', { hasText: 'team-b' }).click();
      await until(async () => (await rows.count()) === 2, 'two team-b rows');
      assert.equal(await page.locator('.row', { hasText: 'Build' }).count(), 0);
      assert.match(page.url(), /q=inbox%3Ateam-b/);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
