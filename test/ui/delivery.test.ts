// A message sent through the send API, opened in the web inbox (Chromium): its envelope tab shows
// the delivery record, each domain's state and reply, and the events, from /api/v1/outbound/{ID}.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import type { Browser } from 'playwright-core';
import { postfixDsn } from '../helpers/report-fixtures.ts';
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

describe('delivery record in the web inbox (Chromium)', () => {
  let srv: UiServer;
  let browser: Browser;

  before(async () => {
    [srv, browser] = await Promise.all([startMailroom(), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await srv?.stop();
  });

  it('shows each delivery and the events under the envelope of a sent message', async () => {
    const res = await fetch(`${srv.base}/api/v1/send`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        From: { Email: 'orders@shop.example', Name: 'Shop' },
        To: [{ Email: 'ann@one.example' }],
        Bcc: ['audit@two.example'],
        Subject: 'Sent, then delivered',
        Text: 'Your order has shipped.',
      }),
    });
    assert.equal(res.status, 200);
    const { ID } = (await res.json()) as { ID: string };
    const { context, page } = await newPage(browser);
    const errors = collectErrors(page);
    await page.goto(`${srv.base}/m/${ID}`);
    await page.locator('#tab-envelope').click();
    const delivery = page.getByTestId('delivery');
    await delivery.locator('td.mono', { hasText: 'two.example' }).waitFor();
    assert.equal(await delivery.locator('tbody tr').count(), 2);
    assert.match(await delivery.innerText(), /captured as/);
    assert.equal(await delivery.locator('.badge', { hasText: 'delivered' }).count(), 2);
    await delivery.locator('.events li', { hasText: 'delivery:delivered' }).first().waitFor();
    assert.match(await delivery.locator('.events').innerText(), /message:queued/);
    // A DSN about it comes back by SMTP: the bounce shows in the events, with who and why.
    const outbound = (await (await fetch(`${srv.base}/api/v1/outbound/${ID}`)).json()) as {
      MessageID: string;
    };
    const dsn = postfixDsn(
      outbound.MessageID,
      'ann@one.example',
      '550 5.1.1 <ann@one.example>: User unknown',
    );
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: srv.mailroom.smtpPort,
      ignoreTLS: true,
    });
    await transport.sendMail({
      envelope: { from: 'mailer-daemon@one.example', to: ['orders@shop.example'] },
      raw: dsn.replace(/\r?\n/g, '\r\n'),
    });
    transport.close();
    // The report is read just after the DSN is stored: wait for its event, not for the count.
    await bouncedInApi(srv.base, ID);
    await page.reload();
    await page.locator('#tab-envelope').click();
    const bounced = page.getByTestId('delivery').locator('.events li', { hasText: 'delivery:bounced' });
    await bounced.waitFor();
    assert.match(await bounced.innerText(), /ann@one\.example: 550 5\.1\.1/);
    await bounced.scrollIntoViewIfNeeded();
    await screenshot(page, 'message-envelope-delivery');
    // A message that came in over SMTP has no delivery record, and shows none.
    await sendMail(srv.mailroom.smtpPort, { subject: 'Arrived over SMTP', text: 'hello' });
    await waitForCount(srv.base, 3);
    await page.goto(`${srv.base}/`);
    await page.locator('.row[data-id]', { hasText: 'Arrived over SMTP' }).click();
    await page.locator('#tab-envelope').click();
    await page.locator('.env dd', { hasText: 'smtp' }).first().waitFor();
    assert.equal(await page.getByTestId('delivery').count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });
});

/** Waits until the delivery record of `id` carries a delivery:bounced event. */
async function bouncedInApi(base: string, id: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let types: string[] = [];
  while (Date.now() < until) {
    const body = (await (await fetch(`${base}/api/v1/outbound/${id}`)).json()) as {
      Events?: { Type: string }[];
    };
    types = (body.Events ?? []).map((e) => e.Type);
    if (types.includes('delivery:bounced')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no delivery:bounced event on ${id}; events: ${types.join(', ')}`);
}
