// The Tickets screen of the web UI (Chromium), against Mailroom started in this process with a
// support desk: mail to new@ opens SUPPORT-7102, which the list shows (and the keyboard opens);
// the agent answers from the reply box (the ticket goes pending), adds an internal note, assigns
// the ticket and tags it. A stranger writing to SUPPORT-7103 is held: the held list shows why,
// live, and "Open as ticket" makes a ticket of it. Screenshots in light and dark.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import type { Browser } from 'playwright-core';
import type { Mailroom } from '../../src/app.ts';
import { createFakeDns } from '../helpers/fake-dns.ts';
import { type InProcessRig, inProcessRig, sendToMx } from '../helpers/in-process.ts';
import { collectErrors, launchBrowser, newPage, screenshot } from './helpers/browser.ts';
import type { PageValue } from './helpers/page-types.ts';
import { until } from './helpers/wait.ts';

declare const document: PageValue;

const KEY = 'a-ticket-key-of-at-least-thirty-two-characters';
const DESK = 'support.example?prefix=SUPPORT&first=7102&ack=on&from-name=Example%20Support';

interface TicketView {
  Key: string;
  State: string;
  Assignee: string | null;
  Tags: string[];
  Subject: string;
  Conversation: { Kind: string; Text: string }[];
}

function mail(o: { from: string; to: string; subject: string; body: string; id: string }): Buffer {
  return Buffer.from(
    [
      `From: ${o.from}`,
      `To: ${o.to}`,
      `Subject: ${o.subject}`,
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      `Message-ID: <${o.id}@ferrier.test>`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      o.body,
      '',
    ].join('\r\n'),
  );
}

describe('tickets screen in the web UI (Chromium)', () => {
  let rig: InProcessRig;
  let server: Mailroom;
  let base = '';
  let browser: Browser;

  const ticket = async (key: string): Promise<TicketView | undefined> => {
    const res = await fetch(`${base}/api/v1/tickets/${key}`);
    return res.ok ? ((await res.json()) as TicketView) : undefined;
  };
  const held = async () =>
    ((await (await fetch(`${base}/api/v1/tickets/held`)).json()) as { held: { Reason: string }[] }).held;

  before(async () => {
    rig = await inProcessRig({
      engine: 'sqlite',
      hostname: 'mx.support.example',
      resolver: createFakeDns({}).resolve,
      routes: [],
      args: ['--desk', DESK, '--ticket-secret', KEY],
    });
    [server, browser] = await Promise.all([rig.start(), launchBrowser()]);
    base = `http://127.0.0.1:${server.httpAddress()!.port}`;
  });
  after(async () => {
    await browser?.close();
    await rig?.dispose();
  });

  it('says where mail opens a ticket while there is none', async () => {
    const { context, page } = await newPage(browser);
    const errors = collectErrors(page);
    await page.goto(`${base}/tickets`);
    // The desk is there: the screen says where mail opens a ticket.
    const waiting = page.getByTestId('desks-waiting');
    await waiting.waitFor();
    assert.match(await waiting.innerText(), /new@support\.example/);
    assert.match(await waiting.innerText(), /SUPPORT-/);
    await page.locator('.tk-empty-list', { hasText: 'No tickets yet' }).waitFor();
    assert.match(await page.locator('.tk-empty-list').innerText(), /new@support\.example/);
    await screenshot(page, 'tickets-empty-light');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('lists a ticket, answers it, notes, assigns and tags it', async () => {
    await sendToMx(
      server,
      mail({
        from: 'Nic Ferrier <nic@ferrier.test>',
        to: 'new@support.example',
        subject: "I can't login!",
        body: 'The login page says my password is wrong.\r\n\r\n-- \r\nNic Ferrier\r\nFerrier Ltd',
        id: 'first',
      }),
      'nic@ferrier.test',
      ['new@support.example'],
    );
    await until(async () => (await ticket('SUPPORT-7102'))?.Conversation.length === 2, 'SUPPORT-7102');

    const { context, page } = await newPage(browser);
    const errors = collectErrors(page);
    await page.goto(`${base}/`);
    // Reached from the sidebar.
    await page.locator('.sidebar .nav-item', { hasText: 'Tickets' }).click();
    assert.equal(new URL(page.url()).pathname, '/tickets');
    const row = page.locator('.tk-row[data-key="SUPPORT-7102"]');
    await row.waitFor();
    const rowText = await row.innerText();
    assert.match(rowText, /I can't login!/);
    assert.match(rowText, /Nic Ferrier/);
    assert.match(rowText, /Open/);
    assert.match(rowText, /Unassigned/);

    // The keyboard, as in the inbox: j moves to the first ticket, Enter opens it.
    await page.locator('.tk-rows').focus();
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/tickets/SUPPORT-7102`);
    const view = page.getByTestId('ticket-view');
    await view.locator('.tk-title', { hasText: "I can't login!" }).waitFor();
    assert.deepEqual(
      await view.locator('.tk-entry').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind'))),
      ['customer', 'acknowledgement'],
    );
    // The signature is stripped until asked for.
    const first = view.locator('.tk-entry.kind-customer').first();
    assert.doesNotMatch(await first.locator('.tk-entry-text').innerText(), /Ferrier Ltd/);
    await first.getByRole('button', { name: 'Show full message' }).click();
    assert.match(await first.locator('.tk-entry-text').innerText(), /Ferrier Ltd/);

    // A reply from the reply box, setting the ticket pending; Ctrl+Enter sends.
    const box = page.getByTestId('reply-box');
    await box.locator('textarea').fill('Try resetting your password from the login page.');
    await box.getByTestId('reply-after').selectOption('pending');
    assert.equal(await box.locator('button[type="submit"]').innerText(), 'Send and set pending');
    await box.locator('textarea').press('Control+Enter');
    await view.locator('.tk-entry.kind-agent', { hasText: 'Try resetting your password' }).waitFor();
    await view.locator('.tk-head .state-badge', { hasText: 'Pending' }).waitFor();
    const answered = await until(async () => {
      const t = await ticket('SUPPORT-7102');
      return t?.State === 'pending' && t;
    }, 'the ticket to be pending');
    assert.equal(answered.Conversation.filter((e) => e.Kind === 'agent').length, 1);
    assert.equal(await box.locator('textarea').inputValue(), '', 'the box is emptied once sent');

    // An internal note: clearly not a reply.
    await box.getByRole('tab', { name: 'Internal note' }).click();
    assert.match((await box.getAttribute('class')) ?? '', /mode-note/);
    await box.locator('textarea').fill('Customer is on the legacy SSO plan.');
    await box.getByRole('button', { name: 'Add note' }).click();
    await view.locator('.tk-entry.kind-note', { hasText: 'legacy SSO' }).waitFor();
    assert.match(await view.locator('.tk-entry.kind-note .tk-kind').innerText(), /Internal note/);

    // Assignee and tags.
    await view.getByTestId('ticket-assignee').fill('alice');
    await view.getByTestId('ticket-assignee').press('Enter');
    await until(async () => (await ticket('SUPPORT-7102'))?.Assignee === 'alice', 'the assignee');
    await view.getByRole('button', { name: 'Add tag' }).click();
    await view.getByLabel('New tag').fill('login');
    await view.getByLabel('New tag').press('Enter');
    await until(async () => (await ticket('SUPPORT-7102'))?.Tags.join() === 'login', 'the tag to be saved');
    // The list follows: still listed (open and pending by default), now pending, alice's, tagged.
    await row.locator('.tk-assignee', { hasText: 'alice' }).waitFor();
    await row.locator('.tk-tag', { hasText: 'login' }).waitFor();
    await row.locator('.state-badge', { hasText: 'Pending' }).waitFor();
    await view.locator('.tk-entry.kind-note').scrollIntoViewIfNeeded();
    await screenshot(page, 'tickets-conversation-light');

    // Filters: solved tickets only hides it; back to the defaults shows it again.
    const chip = (name: string) => page.locator('.tk-chip', { hasText: name });
    await chip('Solved').click();
    await chip('Open').click();
    await chip('Pending').click();
    assert.equal(await chip('Solved').getAttribute('aria-pressed'), 'true');
    await page.locator('.tk-empty-list', { hasText: 'No tickets match' }).waitFor();
    await chip('Open').click();
    await chip('Pending').click();
    await chip('Solved').click();
    await row.waitFor();
    // "/" searches, as in the inbox; Escape in the box clears it.
    await page.keyboard.press('/');
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Search tickets');
    await page.keyboard.type('nothing-like-this');
    await page.locator('.tk-empty-list').waitFor();
    await page.keyboard.press('Escape');
    await row.waitFor();

    // "?" shows the tickets' own keys, not the inbox's.
    await page.locator('.tk-rows').focus();
    await page.keyboard.press('?');
    const help = page.locator('dialog[open]');
    await help.getByText('Ticket shortcuts').waitFor();
    assert.match(await help.innerText(), /Open ticket/);
    assert.doesNotMatch(await help.innerText(), /Toggle read/);
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });

    assert.deepEqual(errors, []);
    await context.close();
  });

  it('shows a held message live and opens a ticket from it', async () => {
    const { context, page } = await newPage(browser);
    const errors = collectErrors(page);
    await page.goto(`${base}/tickets`);
    await page.locator('.tk-row[data-key="SUPPORT-7102"]').waitFor();

    // A stranger guesses the next ticket's address: held, and the tab says so without a reload.
    await sendToMx(
      server,
      mail({
        from: 'Eve Stranger <eve@elsewhere.test>',
        to: 'SUPPORT-7103@support.example',
        subject: 'Refund for order 5521',
        body: 'Please refund my order.',
        id: 'stranger',
      }),
      'eve@elsewhere.test',
      ['SUPPORT-7103@support.example'],
    );
    const [h] = await until(async () => {
      const list = await held();
      return list.length === 1 && list;
    }, 'the message to be held');
    await page.getByTestId('held-tab').locator('.tk-held-count', { hasText: '1' }).waitFor();
    await page.getByTestId('held-tab').click();
    const card = page.locator('.tk-held', { hasText: 'Refund for order 5521' });
    await card.waitFor();
    assert.match(await card.innerText(), /eve@elsewhere\.test/);
    assert.ok(h);
    assert.match(
      await card.locator('.tk-held-reason').innerText(),
      new RegExp(h.Reason.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    );
    await screenshot(page, 'tickets-held-light');

    await card.getByRole('button', { name: 'Open as ticket' }).click();
    await page.waitForURL(`${base}/tickets/SUPPORT-7103`);
    await page
      .getByTestId('ticket-view')
      .locator('.tk-title', { hasText: 'Refund for order 5521' })
      .waitFor();
    await until(async () => (await held()).length === 0, 'the held message to be resolved');
    assert.equal((await ticket('SUPPORT-7103'))?.State, 'open');

    assert.deepEqual(errors, []);
    await context.close();
  });

  it('looks right in the dark', async () => {
    const { context, page } = await newPage(browser, { dark: true });
    const errors = collectErrors(page);
    await page.goto(`${base}/tickets/SUPPORT-7102`);
    await page.getByTestId('ticket-view').locator('.tk-entry.kind-note').waitFor();
    await page.locator('.tk-row[data-key="SUPPORT-7102"]').waitFor();
    await page.getByTestId('reply-box').getByRole('tab', { name: 'Internal note' }).click();
    await screenshot(page, 'tickets-conversation-dark');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('shows one pane at a time on a narrow screen', async () => {
    const { context, page } = await newPage(browser, { width: 400, height: 800 });
    const errors = collectErrors(page);
    await page.goto(`${base}/tickets`);
    const row = page.locator('.tk-row[data-key="SUPPORT-7102"]');
    await row.waitFor();
    assert.equal(await page.getByTestId('ticket-view').count(), 0);
    await row.click();
    const view = page.getByTestId('ticket-view');
    await view.locator('.tk-entry.kind-agent').waitFor();
    assert.equal(await row.isVisible(), false, 'the list gives way to the open ticket');
    const box = await view.boundingBox();
    assert.ok(box && box.width <= 400, `the ticket fits the screen (${box?.width} px)`);
    await screenshot(page, 'tickets-narrow-light');
    await view.locator('.tk-back').click();
    await row.waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('pages past the first 200 tickets', async () => {
    // 199 more customers write in: with the two tickets so far, 201 are open or pending.
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.smtpAddresses().smtp!.port,
      secure: false,
      ignoreTLS: true,
      pool: true,
      maxConnections: 4,
    });
    try {
      await Promise.all(
        Array.from({ length: 199 }, (_, i) => {
          const from = `customer${i}@many.test`;
          return t.sendMail({
            envelope: { from, to: ['new@support.example'] },
            raw: mail({
              from,
              to: 'new@support.example',
              subject: `Question ${i}`,
              body: 'Hello',
              id: `q${i}`,
            }),
          });
        }),
      );
    } finally {
      t.close();
    }
    await until(async () => {
      const r = await fetch(`${base}/api/v1/tickets?state=open,pending&limit=1`);
      return ((await r.json()) as { total: number }).total === 201;
    }, '201 tickets');

    const { context, page } = await newPage(browser);
    const errors = collectErrors(page);
    await page.goto(`${base}/tickets`);
    await page.locator('.tk-row').nth(199).waitFor();
    assert.equal(await page.locator('.tk-row').count(), 200);
    assert.match(await page.locator('.tk-more').innerText(), /200 most recently updated of 201/);
    await page.getByTestId('tickets-more').click();
    await page.locator('.tk-row').nth(200).waitFor();
    assert.equal(await page.locator('.tk-row').count(), 201);
    assert.equal(await page.locator('.tk-more').count(), 0);
    // The oldest ticket is the one the second page brought.
    assert.equal(await page.locator('.tk-row').nth(200).getAttribute('data-key'), 'SUPPORT-7102');
    assert.deepEqual(errors, []);
    await context.close();
  });
});
