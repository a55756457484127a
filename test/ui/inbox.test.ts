// The web inbox in a real Chromium against a real Mailroom process: live arrival, every message
// tab (screenshots in light and dark), keyboard navigation, search, tags, read state and delete.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
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
import { listAll, until } from './helpers/wait.ts';

// Page globals used inside page.evaluate() callbacks (see helpers/page-types.ts).
declare const document: PageValue;

const WELCOME_HTML = `<!doctype html><html><head><style>
  body { margin: 0; padding: 32px 16px; background: #f4f5f7; font-family: Helvetica, Arial, sans-serif; }
  .card { max-width: 560px; margin: 0 auto; background: #fff; border-radius: 10px; padding: 36px; }
  h1 { color: #1d2330; margin: 0 0 12px; font-size: 26px; }
  p { color: #4a5160; font-size: 16px; line-height: 1.5; }
  .btn { display: inline-block; background: #3e63dd; color: #fff; padding: 12px 22px; border-radius: 6px; text-decoration: none; }
</style></head><body><div class="card">
  <h1>Welcome aboard, Bob!</h1>
  <p>Thanks for signing up to <strong>Acme Cloud</strong>. Confirm your address to get started.</p>
  <p><a class="btn" href="https://example.com/confirm?t=abc">Confirm email</a></p>
  <p><img src="cid:logo@acme" alt="Acme" width="120" height="40"></p>
  <p style="font-size:12px;color:#8a90a0">You received this because you signed up at acme.example.</p>
</div></body></html>`;

async function png(width: number, height: number): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: 3, background: { r: 62, g: 99, b: 221 } },
  })
    .png()
    .toBuffer();
}

describe('web inbox (Chromium)', () => {
  let srv: UiServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  /** Requests to anywhere but Mailroom itself (there must be none: no CDN, no fonts, no tracking). */
  const foreign: string[] = [];

  before(async () => {
    [srv, browser] = await Promise.all([startMailroom(), launchBrowser()]);
    const port = srv.mailroom.smtpPort;
    await sendMail(port, {
      from: 'Dora Ops <dora@ops.example>',
      subject: 'Nightly backup finished',
      text: 'All 12 databases were backed up.\nDetails: https://ops.example/backups/123',
      headers: { 'X-Tags': 'ops' },
    });
    await sendMail(port, {
      from: 'Billing <billing@acme.example>',
      to: 'bob@example.com',
      subject: 'Your invoice #4821',
      text: 'Your invoice for March is attached.',
      headers: { 'X-Tags': 'billing' },
      attachments: [
        {
          filename: 'invoice-4821.pdf',
          content: Buffer.from('%PDF-1.4\n%fake\n'),
          contentType: 'application/pdf',
        },
      ],
    });
    await sendMail(port, {
      from: 'Acme Cloud <hello@acme.example>',
      to: ['Bob Example <bob@example.com>'],
      cc: 'carol@example.com',
      bcc: 'audit@example.com',
      subject: 'Welcome to Acme — please confirm your email',
      html: WELCOME_HTML,
      text: 'Welcome aboard, Bob! Confirm: https://example.com/confirm?t=abc',
      headers: { 'X-Tags': 'signup' },
      attachments: [
        { filename: 'logo.png', content: await png(120, 40), contentType: 'image/png', cid: 'logo@acme' },
        { filename: 'screenshot.png', content: await png(640, 400), contentType: 'image/png' },
        { filename: 'terms.txt', content: 'Be nice.', contentType: 'text/plain' },
      ],
    });
    await waitForCount(srv.base, 3);
    ({ context, page } = await newPage(browser));
    errors = collectErrors(page);
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.protocol !== 'data:' && url.protocol !== 'blob:' && url.origin !== srv.base)
        foreign.push(r.url());
    });
  });

  after(async () => {
    await browser?.close();
    await srv?.stop();
  });

  const rows = () => page.locator('.row[data-id]');
  const row = (subject: string) => page.locator('.row[data-id]', { hasText: subject });

  it('lists the mailbox and shows new mail live, without a reload', async () => {
    await page.goto(`${srv.base}/`);
    await rows().first().waitFor();
    assert.equal(await rows().count(), 3);
    assert.equal(
      await rows().first().locator('.row-subject').innerText(),
      'Welcome to Acme — please confirm your email',
    );
    await page.waitForFunction(() => document.title === '(3) Mailroom');
    await page.locator('.live-live').waitFor();
    // A marker that a reload would wipe.
    await page.evaluate(() => document.documentElement.setAttribute('data-test-marker', 'same-page'));

    await sendMail(srv.mailroom.smtpPort, {
      from: 'Eve Live <eve@live.example>',
      subject: 'Arrived while you watched',
      text: 'Live!',
    });
    await row('Arrived while you watched').waitFor();
    assert.equal(await rows().first().locator('.row-subject').innerText(), 'Arrived while you watched');
    assert.equal(
      await page.evaluate(() => document.documentElement.getAttribute('data-test-marker')),
      'same-page',
    );
    await page.waitForFunction(() => document.title === '(4) Mailroom');
    assert.match((await rows().first().getAttribute('class')) ?? '', /\bunread\b/);
    await screenshot(page, 'inbox-list-light');
  });

  it('opens a message, marks it read, and shows every tab in light and dark', async () => {
    await row('Welcome to Acme').click();
    await page.locator('.msg-subject', { hasText: 'Welcome to Acme' }).waitFor();
    await page.waitForURL(/\/m\/[A-Za-z0-9]+$/);
    await until(
      async () => (await listAll(srv.base)).messages.find((m) => m.Subject.startsWith('Welcome'))?.Read,
      'read on the server',
    );
    await page.waitForFunction(() => document.title === '(3) Mailroom');
    assert.match((await row('Welcome to Acme').getAttribute('class')) ?? '', /\bread\b/);

    // The HTML preview: a sandboxed frame on the server's /view document, nothing more allowed.
    const frame = page.locator('iframe.html-frame');
    assert.equal(await frame.getAttribute('sandbox'), 'allow-popups allow-popups-to-escape-sandbox');
    const id = (await page.locator('article.msg').getAttribute('data-id')) ?? '';
    assert.equal(await frame.getAttribute('src'), `/view/${id}.html?embed=1`);

    for (const theme of ['light', 'dark'] as const) {
      if (theme === 'dark') {
        await page.getByTestId('theme-toggle').click();
        await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
      }
      await page.locator('#tab-html').click();
      await page
        .frameLocator('iframe.html-frame')
        .locator('h1', { hasText: 'Welcome aboard, Bob!' })
        .waitFor();
      // The cid: logo was inlined by the server, so it renders.
      await page
        .frameLocator('iframe.html-frame')
        .locator('img[alt="Acme"]')
        .evaluate((img: PageValue) =>
          img.complete && img.naturalWidth > 0 ? true : new Promise((r) => img.addEventListener('load', r)),
        );
      await screenshot(page, `message-html-${theme}`);

      await page.locator('.seg-btn[title^="Phone"]').click();
      await page.waitForFunction(
        () => document.querySelector('iframe.html-frame')?.getBoundingClientRect().width === 375,
      );
      await screenshot(page, `message-html-phone-${theme}`);
      await page.locator('.seg-btn[title^="Desktop"]').click();

      await page.locator('#tab-source').click();
      await page.getByTestId('source').locator('.t-tag', { hasText: 'h1' }).first().waitFor();
      await screenshot(page, `message-source-${theme}`);

      await page.locator('#tab-text').click();
      await page.getByTestId('text').locator('a[href="https://example.com/confirm?t=abc"]').waitFor();
      await screenshot(page, `message-text-${theme}`);

      await page.locator('#tab-headers').click();
      await page.locator('.kv-table th', { hasText: 'Subject' }).waitFor();
      await screenshot(page, `message-headers-${theme}`);

      await page.locator('#tab-raw').click();
      await page.getByTestId('raw').filter({ hasText: 'MIME-Version' }).waitFor();
      await screenshot(page, `message-raw-${theme}`);

      await page.locator('#tab-attachments').click();
      await page.locator('.att', { hasText: 'screenshot.png' }).waitFor();
      // The image thumbnail comes from /thumb and decodes.
      await page.waitForFunction(() => {
        const img = document.querySelector('.att img[src$="/thumb"]');
        return !!img && img.complete && img.naturalWidth > 0;
      });
      assert.equal(await page.locator('.att').count(), 3);
      await screenshot(page, `message-attachments-${theme}`);

      await page.locator('#tab-envelope').click();
      const bcc = page.locator('.rcpt li', { hasText: 'audit@example.com' });
      await bcc.waitFor();
      assert.equal(await bcc.locator('.badge').innerText(), 'Bcc');
      await page.locator('.env dd', { hasText: '127.0.0.1' }).first().waitFor();
      await screenshot(page, `message-envelope-${theme}`);

      await page.locator('#tab-spam').click();
      await page.getByTestId('spam-off').waitFor();
      await screenshot(page, `message-spam-${theme}`);
    }

    // The theme choice is remembered across a reload.
    await page.reload();
    await page.locator('.msg-subject').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await screenshot(page, 'inbox-list-dark');
    await page.getByTestId('theme-toggle').click();
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
  });

  it('switches tabs from the keyboard', async () => {
    await page.locator('#tab-html').click();
    await page.locator('#tab-html').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#tab-source').getAttribute('aria-selected'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'tab-source');
    await page.keyboard.press('End');
    assert.equal(await page.locator('#tab-spam').getAttribute('aria-selected'), 'true');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#tab-html').getAttribute('aria-selected'), 'true');
    // "]" and "[" work from anywhere outside a text field.
    await page.locator('.msg-subject').click();
    await page.keyboard.press(']');
    assert.equal(await page.locator('#tab-source').getAttribute('aria-selected'), 'true');
    await page.keyboard.press('[');
    assert.equal(await page.locator('#tab-html').getAttribute('aria-selected'), 'true');
  });

  it('moves, opens, selects, closes and helps from the keyboard', async () => {
    await page.keyboard.press('Escape');
    await page.waitForURL(`${srv.base}/`);
    await page.locator('.placeholder-pane').waitFor();
    await page.locator('.list-scroll').focus();
    const cursor = () => page.locator('.row.cursor').getAttribute('data-id');
    const idAt = (i: number) => rows().nth(i).getAttribute('data-id');
    await page.keyboard.press('Home');
    assert.equal(await cursor(), await idAt(0));
    await page.keyboard.press('j');
    assert.equal(await cursor(), await idAt(1));
    await page.keyboard.press('ArrowDown');
    assert.equal(await cursor(), await idAt(2));
    await page.keyboard.press('k');
    assert.equal(await cursor(), await idAt(1));
    // The listbox points at the cursor row for assistive technology.
    const active = await page.locator('.list-scroll').getAttribute('aria-activedescendant');
    assert.equal(await page.locator(`#${active}`).getAttribute('data-id'), await idAt(1));

    await page.keyboard.press('x');
    await page.locator('.row.selected').waitFor();
    assert.equal(await page.locator('.row.selected').getAttribute('data-id'), await idAt(1));
    assert.equal(await page.locator('.tb-count').innerText(), '1 selected');
    await page.keyboard.press('Escape');
    await page.locator('.row.selected').waitFor({ state: 'detached' });

    const second = await idAt(1);
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/m/${second}$`));
    await page.keyboard.press('j');
    const third = await idAt(2);
    await page.waitForURL(new RegExp(`/m/${third}$`));
    await page.keyboard.press('k');
    await page.waitForURL(new RegExp(`/m/${second}$`));
    await page.keyboard.press('Escape');
    await page.waitForURL(`${srv.base}/`);

    await page.keyboard.press('G');
    assert.equal(await cursor(), await idAt(3));
    await page.keyboard.press('g');
    await page.keyboard.press('g');
    assert.equal(await cursor(), await idAt(0));

    await page.keyboard.press('?');
    const dialog = page.locator('dialog.modal[open]');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /Keyboard shortcuts/);
    await screenshot(page, 'shortcuts-light');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    await page.keyboard.press('/');
    assert.equal(
      await page.evaluate(() => document.activeElement?.getAttribute('aria-label')),
      'Search messages',
    );
    await page.keyboard.press('Escape');
    assert.notEqual(
      await page.evaluate(() => document.activeElement?.getAttribute('aria-label')),
      'Search messages',
    );
  });

  it('searches with Mailpit syntax, clears with Esc, and filters by tag', async () => {
    await page.keyboard.press('/');
    await page.keyboard.type('subject:invoice');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\?q=subject%3Ainvoice$/);
    await page.waitForFunction(() => document.querySelectorAll('.row[data-id]').length === 1);
    assert.equal(await rows().first().locator('.row-subject').innerText(), 'Your invoice #4821');
    assert.equal(await page.getByTestId('list-count').innerText(), '1 match');
    await screenshot(page, 'search-light');

    await page.locator('.search-input').focus();
    await page.keyboard.press('Escape');
    await page.waitForURL(`${srv.base}/`);
    await page.waitForFunction(() => document.querySelectorAll('.row[data-id]').length === 4);

    await page.locator('.sidebar .nav-item', { hasText: 'ops' }).click();
    await page.waitForURL(/\?q=tag%3Aops$/);
    await page.waitForFunction(() => document.querySelectorAll('.row[data-id]').length === 1);
    assert.equal(await rows().first().locator('.row-subject').innerText(), 'Nightly backup finished');
    await page.locator('.sidebar .nav-item', { hasText: 'Inbox' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.row[data-id]').length === 4);

    // A tag chip in a row filters too.
    await row('Your invoice').locator('.chip', { hasText: 'billing' }).click();
    await page.waitForURL(/\?q=tag%3Abilling$/);
    await page.waitForFunction(() => document.querySelectorAll('.row[data-id]').length === 1);
    await page.locator('.list-scroll').focus();
    await page.keyboard.press('Escape');
    await page.waitForURL(`${srv.base}/`);
    await page.waitForFunction(() => document.querySelectorAll('.row[data-id]').length === 4);
  });

  it('adds and removes tags on the open message', async () => {
    const tagsOf = async (subject: string) =>
      (await listAll(srv.base)).messages.find((m) => m.Subject === subject)?.Tags ?? [];
    await row('Nightly backup').click();
    await page.locator('.msg-subject', { hasText: 'Nightly backup' }).waitFor();
    await page.locator('.tag-editor .add-tag').click();
    await page.keyboard.type('vip');
    await page.keyboard.press('Enter');
    await until(
      async () => (await tagsOf('Nightly backup finished')).includes('vip'),
      'tag vip on the server',
    );
    await page.locator('.sidebar .nav-item', { hasText: 'vip' }).waitFor();
    await row('Nightly backup').locator('.chip', { hasText: 'vip' }).waitFor();
    await page.locator('.tag-editor button[aria-label="Remove tag vip"]').click();
    await until(async () => !(await tagsOf('Nightly backup finished')).includes('vip'), 'tag vip removed');
    await row('Nightly backup').locator('.chip', { hasText: 'vip' }).waitFor({ state: 'detached' });
    await page.keyboard.press('Escape');
    await page.waitForURL(`${srv.base}/`);
  });

  it('adapts to a narrow screen: one pane at a time, mailboxes behind a menu', async () => {
    const narrow = await newPage(browser, { width: 420, height: 860 });
    try {
      const p = narrow.page;
      await p.goto(`${srv.base}/`);
      await p.locator('.row[data-id]').first().waitFor();
      assert.equal(await p.locator('.sidebar').isVisible(), true, 'in the DOM');
      const sidebarX = () =>
        p.locator('.sidebar').evaluate((el: PageValue) => el.getBoundingClientRect().right);
      assert.ok((await sidebarX()) <= 0, 'the sidebar is off screen');
      await screenshot(p, 'narrow-list-light');
      await p.locator('.menu-btn').click();
      await p.waitForFunction(
        () => (document.querySelector('.sidebar')?.getBoundingClientRect().left ?? -1) >= 0,
      );
      await screenshot(p, 'narrow-menu-light');
      await p.keyboard.press('Escape');
      await p.waitForFunction(
        () => (document.querySelector('.sidebar')?.getBoundingClientRect().right ?? 1) <= 0,
      );
      await p.locator('.row[data-id]', { hasText: 'Welcome to Acme' }).click();
      await p.locator('.msg-subject').waitFor();
      assert.equal(await p.locator('.list-pane').isVisible(), false, 'the list hides behind the message');
      await p.frameLocator('iframe.html-frame').locator('h1').waitFor();
      await screenshot(p, 'narrow-message-light');
      await p.locator('.back-btn').click();
      await p.locator('.row[data-id]').first().waitFor();
      assert.equal(await p.locator('.list-pane').isVisible(), true);
    } finally {
      await narrow.context.close();
    }
  });

  it('marks read and unread, deletes, and deletes all after confirming', async () => {
    const subjectRead = async (s: string) =>
      (await listAll(srv.base)).messages.find((m) => m.Subject === s)?.Read;

    // "r" on the cursor row toggles its read state.
    await page.locator('.list-scroll').focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('j'); // the live message's neighbour: "Welcome…" (read)
    const subj = await page.locator('.row.cursor .row-subject').innerText();
    const wasRead = (await subjectRead(subj)) === true;
    await page.keyboard.press('r');
    await until(async () => (await subjectRead(subj)) === !wasRead, `"${subj}" read=${!wasRead}`);
    await page.keyboard.press('r');
    await until(async () => (await subjectRead(subj)) === wasRead, `"${subj}" read=${wasRead}`);

    // Toolbar: select two rows, mark them read, then unread.
    await row('Nightly backup').locator('.row-check').click();
    await row('Your invoice').locator('.row-check').click();
    assert.equal(await page.locator('.tb-count').innerText(), '2 selected');
    await page.locator('.list-toolbar button[title="Mark read"]').click();
    await until(
      async () => (await subjectRead('Nightly backup finished')) && (await subjectRead('Your invoice #4821')),
      'both read',
    );
    await page.waitForFunction(() => document.querySelectorAll('.row.selected.read').length === 2);
    await page.locator('.list-toolbar button[title="Mark unread"]').click();
    await until(async () => (await subjectRead('Nightly backup finished')) === false, 'unread again');
    await page.locator('.list-toolbar button[title="Clear selection (Esc)"]').click();

    // Delete one from the keyboard.
    await page.locator('.list-scroll').focus();
    await page.keyboard.press('Home');
    const first = await rows().first().getAttribute('data-id');
    await page.keyboard.press('#');
    await until(
      async () => !(await listAll(srv.base)).messages.some((m) => m.ID === first),
      'deleted on the server',
    );
    await page.waitForFunction(() => document.querySelectorAll('.row[data-id]').length === 3);
    await page.waitForFunction(() => document.title === '(2) Mailroom');

    // Delete an open message with the Delete key: the next one opens in its place.
    await row('Your invoice').click();
    await page.locator('.msg-subject', { hasText: 'Your invoice' }).waitFor();
    await page.keyboard.press('Delete');
    await page.locator('.msg-subject', { hasText: 'Nightly backup' }).waitFor();
    await until(async () => (await listAll(srv.base)).total === 2, 'two left');

    // Delete all: cancel first, then confirm.
    await page.keyboard.press('Escape');
    await page.locator('.list-toolbar button[title="Delete all messages"]').click();
    const dialog = page.locator('dialog.modal[open]');
    await dialog.waitFor();
    await screenshot(page, 'confirm-delete-all-light');
    await dialog.locator('button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal((await listAll(srv.base)).total, 2);
    await page.locator('.list-toolbar button[title="Delete all messages"]').click();
    await page.locator('dialog.modal[open] button', { hasText: 'Delete all' }).click();
    await until(async () => (await listAll(srv.base)).total === 0, 'mailbox empty');
    await page.locator('.empty', { hasText: 'The inbox is empty' }).waitFor();
    await page.waitForFunction(() => document.title === 'Mailroom');
    await screenshot(page, 'inbox-empty-light');
  });

  it('asked nothing of any other server', () => {
    assert.deepEqual(foreign, []);
  });

  it('logged no errors in the page', () => {
    // The HTML preview's CSP reports blocked remote images on the console; those are expected.
    const unexpected = errors.filter((e) => !/Content Security Policy/.test(e));
    assert.deepEqual(unexpected, []);
    void context;
  });
});
