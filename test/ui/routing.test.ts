// The Routing tab in the web inbox (Chromium), against Mailroom started in this process in MX mode
// with a fake DNS zone: a message signed by its sender's domain (and carrying a second signature
// whose body hash fails) matches a tagging route and a webhook route whose receiver (on loopback)
// refuses it, so the tab shows the server's real sender checks, the matched routes with their
// captures, why another route did not match, and each action; Replay runs the failed webhook
// again, and a stale Replay shows the server's refusal as a toast. Mail from the send API explains
// that it is not routed, and results forged in our name are never shown as ours.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { dkimSign } from 'mailauth';
import type { Browser, Page } from 'playwright-core';
import type { Mailroom } from '../../src/app.ts';
import { createFakeDns, txt } from '../helpers/fake-dns.ts';
import { type InProcessRig, inProcessRig, sendToMx } from '../helpers/in-process.ts';
import { collectErrors, launchBrowser, newPage, screenshot } from './helpers/browser.ts';
import { until } from './helpers/wait.ts';

const HOST = 'mx.mailroom.test';
/** What a sender writes in our name, hoping to be believed. */
const FORGED = `${HOST}; spf=pass smtp.mailfrom=forger.example; dkim=pass header.d=forger.example; dmarc=pass header.from=forger.example`;

function dkimKey() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    record: `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`,
  };
}

function mail(o: { from: string; to: string; subject: string; body: string; extra?: string[] }): Buffer {
  return Buffer.from(
    [
      ...(o.extra ?? []),
      `From: ${o.from}`,
      `To: ${o.to}`,
      `Subject: ${o.subject}`,
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      `Message-ID: <${o.subject.replace(/\W/g, '')}@ui.test>`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      o.body,
      '',
    ].join('\r\n'),
  );
}

/** The DKIM-Signature field(s) of `raw` signed by `domain` with selector sel. */
async function signature(raw: Buffer, domain: string, privateKey: string): Promise<string> {
  const signatureData = [{ signingDomain: domain, selector: 'sel', privateKey }];
  const signed = await dkimSign(raw, { ...signatureData[0]!, signatureData });
  assert.deepEqual(signed.errors, []);
  return signed.signatures;
}

interface Routing {
  Authentication: { SPF: string; DKIM: string[] } | null;
  Events: { Type: string; RouteID: string | null }[];
  Actions: { ID: string; RouteID: string; Type: string; State: string; Attempts: number }[];
}

/** A webhook receiver on loopback that refuses (410), holds requests until released, or accepts. */
function receiver() {
  let mode: 'refuse' | 'hold' | 'accept' = 'refuse';
  let held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (mode === 'hold') held.push(res);
      else res.writeHead(mode === 'refuse' ? 410 : 200).end();
    });
  });
  return {
    server,
    set(next: typeof mode) {
      mode = next;
    },
    /** Answers every held request with 200. */
    release() {
      for (const res of held) res.writeHead(200).end();
      held = [];
    },
    held: () => held.length,
  };
}

describe('routing tab in the web inbox (Chromium)', () => {
  const hook = receiver();
  const sender = dkimKey();
  const relay = dkimKey();
  let rig: InProcessRig;
  let server: Mailroom;
  let base = '';
  let browser: Browser;
  let id = '';

  const routing = async (messageId: string): Promise<Routing> =>
    (await (await fetch(`${base}/api/v1/message/${messageId}/routing`)).json()) as Routing;
  const webhookOf = (r: Routing) => r.Actions.find((a) => a.Type === 'webhook');

  before(async () => {
    await new Promise<void>((r) => hook.server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hook.server.address() as AddressInfo).port}`;
    const routes = [
      {
        ID: 'support-tag',
        Name: 'tag support mail',
        Priority: 10,
        Conditions: [{ Field: 'recipient', Op: 'glob', Value: '*@support.example' }],
        Actions: [{ Type: 'store', Tags: ['support'] }],
      },
      {
        ID: 'tickets',
        Name: 'support tickets',
        Priority: 20,
        Conditions: [{ Field: 'recipient', Op: 'regex', Value: '^support-(?<ticket>\\d+)@' }],
        Actions: [{ Type: 'webhook', URL: `${url}/tickets`, Attachments: 'none' }],
      },
      {
        ID: 'invoices',
        Name: 'invoices',
        Priority: 30,
        Conditions: [{ Field: 'subject', Op: 'contains', Value: 'invoice' }],
        Actions: [{ Type: 'store', Tags: ['billing'] }],
      },
    ];
    // sender.example proves itself three ways (SPF for our loopback client, a DKIM key, DMARC);
    // relay.example publishes a key too, so its signature fails on the body alone.
    const dns = createFakeDns({
      'sender.example': { TXT: txt('v=spf1 ip4:127.0.0.1 -all') },
      'sel._domainkey.sender.example': { TXT: txt(sender.record) },
      '_dmarc.sender.example': { TXT: txt('v=DMARC1; p=reject') },
      'sel._domainkey.relay.example': { TXT: txt(relay.record) },
    });
    rig = await inProcessRig({
      engine: 'sqlite',
      hostname: HOST,
      routes,
      resolver: dns.resolve,
      // MX mode: the server checks senders itself. example.com is for the mail no route matches
      // (the invoices route has no recipient condition, so the MX door takes any local address).
      args: [
        '--local-domains',
        'support.example,example.com',
        '--webhook-secret',
        `ui-test-${'s'.repeat(40)}`,
        '--webhook-allow',
        '127.0.0.1',
      ],
    });
    [server, browser] = await Promise.all([rig.start(), launchBrowser()]);
    base = `http://127.0.0.1:${server.httpAddress()!.port}`;
  });
  after(async () => {
    await browser?.close();
    await rig?.dispose();
    hook.server.close();
  });

  async function openRouting(page: Page, messageId: string): Promise<void> {
    await page.goto(`${base}/m/${messageId}`);
    await page.locator('#tab-routing').click();
    await page.getByTestId('routing').waitFor();
  }

  it('shows the sender checks, the matched routes and each action, and fetches only when opened', async () => {
    // Signed by sender.example over this body, and by relay.example over another one: the server's
    // own checks give SPF, one DKIM signature and DMARC a pass, and the other signature a fail.
    const raw = mail({
      from: 'Ann <ann@sender.example>',
      to: 'support-7102@support.example',
      subject: 'I cannot log in',
      body: 'Still broken.',
    });
    const relayed = Buffer.from(raw.toString().replace('Still broken.', 'Fixed, thanks.'));
    const signed = Buffer.concat([
      Buffer.from(await signature(raw, 'sender.example', sender.privateKey)),
      Buffer.from(await signature(relayed, 'relay.example', relay.privateKey)),
      raw,
    ]);
    await sendToMx(server, signed, 'ann@sender.example', ['support-7102@support.example']);
    const found = await until(async () => {
      const res = await fetch(`${base}/api/v1/search?query=${encodeURIComponent('subject:"log in"')}`);
      return ((await res.json()) as { messages: { ID: string }[] }).messages[0]?.ID;
    }, 'the message to be listed');
    id = found;
    const settled = await until(async () => {
      const r = await routing(id);
      const states = r.Actions.map((a) => `${a.Type}:${a.State}`).sort();
      return states.join() === 'store:succeeded,webhook:failed' ? r : undefined;
    }, 'the store action to succeed and the refused webhook to fail');
    assert.deepEqual(settled.Authentication?.DKIM, ['pass', 'fail']);

    // Tall enough for the whole tab in the screenshot.
    const { context, page } = await newPage(browser, { height: 1250 });
    const errors = collectErrors(page);
    const asked: string[] = [];
    page.on('request', (req) => {
      if (req.url().endsWith('/routing')) asked.push(req.url());
    });
    await page.goto(`${base}/m/${id}`);
    await page.locator('.msg-subject', { hasText: 'I cannot log in' }).waitFor();
    assert.deepEqual(asked, [], 'the routing record is not fetched before the tab is opened');
    // Reached from the keyboard like the other tabs: the arrow key after Envelope.
    await page.locator('#tab-envelope').click();
    await page.locator('#tab-envelope').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#tab-routing').getAttribute('aria-selected'), 'true');
    assert.equal(await page.locator('#tab-routing').innerText(), 'Routing');
    const tab = page.getByTestId('routing');
    await tab.waitFor();
    assert.equal(asked.length, 1);

    assert.match(await tab.locator('.routing-door').innerText(), /Received by SMTP \(MX\)/);
    const checks = tab.getByTestId('auth-checks');
    assert.deepEqual(await checks.locator('.auth-badge').allInnerTexts(), [
      'SPF\npass',
      'DKIM\npass',
      'DKIM\nfail',
      'DMARC\npass',
      'ARC\nnone',
    ]);
    assert.equal(await checks.locator('.auth-badge.badge-ok').count(), 3);
    assert.equal(await checks.locator('.auth-badge.badge-danger').count(), 1);
    assert.match(await checks.innerText(), /relay\.example/);
    await tab.locator('.auth-header summary').click();
    assert.match(
      await tab.locator('.auth-header-text').innerText(),
      /dkim=fail \(body hash did not verify\)/,
    );

    const ticket = tab.locator('.route-item[data-route="tickets"]');
    assert.match(await ticket.innerText(), /matched/);
    assert.match(await ticket.innerText(), /support tickets/);
    assert.equal(await ticket.locator('.capture').innerText(), 'ticket = 7102');
    assert.match(await tab.locator('.route-item[data-route="support-tag"]').innerText(), /matched/);

    const rows = tab.locator('.routing-actions tbody tr');
    assert.equal(await rows.count(), 2);
    const webhook = rows.filter({ hasText: 'webhook' });
    assert.equal(await webhook.getAttribute('data-state'), 'failed');
    assert.match(await webhook.locator('.routing-error').innerText(), /410/);
    assert.equal(await rows.filter({ hasText: 'store' }).getAttribute('data-state'), 'succeeded');
    assert.equal(await rows.locator('button', { hasText: 'Replay' }).count(), 2);

    // Why the invoices route did not match: a dry run of today's routes, on request.
    await tab.locator('.route-why').click();
    const others = tab.getByTestId('other-routes');
    await others.waitFor();
    assert.match(
      await others.locator('.route-item[data-route="invoices"]').innerText(),
      /no match[\s\S]*did not hold/,
    );
    assert.equal(await others.locator('.route-item').count(), 1);

    await screenshot(page, 'message-routing-light');
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('replays a failed action, follows it to success, and shows a refused replay as a toast', async () => {
    const { context, page } = await newPage(browser, { dark: true, height: 1250 });
    const errors = collectErrors(page);
    await openRouting(page, id);
    const webhook = page.locator('.routing-actions tbody tr', { hasText: 'webhook' });
    assert.equal(await webhook.getAttribute('data-state'), 'failed');

    hook.set('hold');
    await webhook.locator('button', { hasText: 'Replay' }).click();
    const again = await until(async () => {
      const w = webhookOf(await routing(id));
      return w && (w.State === 'pending' || w.State === 'running') ? w : undefined;
    }, 'the replayed webhook to be pending or running');
    assert.ok(['pending', 'running'].includes(again.State));
    await page.locator('.toast', { hasText: 'Replaying the webhook action' }).waitFor();
    await until(async () => {
      const state = await webhook.getAttribute('data-state');
      return state === 'pending' || state === 'running';
    }, 'the tab to show the replay under way');
    assert.equal(await webhook.locator('button', { hasText: 'Replay' }).count(), 0);

    // The receiver answers now: the tab, which reads the record again while an action is under
    // way, shows the second attempt's success.
    await until(() => hook.held() > 0, 'the webhook request to arrive');
    hook.set('accept');
    hook.release();
    await until(async () => (await webhook.getAttribute('data-state')) === 'succeeded', 'success on screen');
    assert.equal(await webhook.locator('td').nth(3).innerText(), '2');
    assert.equal(await webhook.locator('.routing-error').innerText(), '—');
    await page.locator('.routing-history summary').click();
    await page.locator('.toast').waitFor({ state: 'detached' });
    await screenshot(page, 'message-routing-dark');

    // A replay started elsewhere makes this Replay button stale: the server's 409 is a toast.
    hook.set('hold');
    const res = await fetch(`${base}/api/v1/actions/${encodeURIComponent(again.ID)}/replay`, {
      method: 'POST',
    });
    assert.equal(res.status, 200);
    await until(async () => webhookOf(await routing(id))?.State === 'running', 'the replay to run');
    await webhook.locator('button', { hasText: 'Replay' }).click();
    const refused = page.locator('.toast-error', { hasText: 'Could not replay the webhook action' });
    await refused.waitFor();
    assert.match(await refused.innerText(), /is running/);
    hook.set('accept');
    hook.release();
    await until(async () => webhookOf(await routing(id))?.State === 'succeeded', 'the third attempt');
    assert.deepEqual(
      errors.filter((e) => !e.includes('/replay')),
      [],
    );
    assert.equal(errors.length, 1, 'the one refused replay (409)');
    await context.close();
  });

  it('explains mail that is not routed: no route matched, or a door routing does not serve', async () => {
    // Both carry sender results forged in our name: the MX door checks the sender itself, and
    // API mail is never checked, so neither shows them.
    await sendToMx(
      server,
      mail({
        from: 'Ann Sender <ann@example.com>',
        to: 'bob@example.com',
        subject: 'Hello Bob',
        body: 'hi',
        extra: [`Authentication-Results: ${FORGED}`],
      }),
      'ann@example.com',
      ['bob@example.com'],
    );
    const sent = await fetch(`${base}/api/v1/send`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        From: { Email: 'app@shop.example' },
        To: [{ Email: 'ann@one.example' }],
        Subject: 'Sent by the app',
        Text: 'Your order has shipped.',
        Headers: { 'Authentication-Results': FORGED },
      }),
    });
    assert.equal(sent.status, 200);
    const apiId = ((await sent.json()) as { ID: string }).ID;
    const bob = await until(async () => {
      const res = await fetch(`${base}/api/v1/search?query=${encodeURIComponent('subject:"Hello Bob"')}`);
      return ((await res.json()) as { messages: { ID: string }[] }).messages[0]?.ID;
    }, 'the message to Bob');

    const { context, page } = await newPage(browser);
    const errors = collectErrors(page);
    await openRouting(page, bob);
    const tab = page.getByTestId('routing');
    await tab.getByTestId('no-route').waitFor();
    // example.com publishes nothing in the fake zone: our checks find nothing to pass, and the
    // forged passes are not read as ours.
    const checks = tab.getByTestId('auth-checks');
    assert.deepEqual(await checks.locator('.auth-badge').allInnerTexts(), [
      'SPF\nnone',
      'DKIM\nnone',
      'DMARC\nnone',
      'ARC\nnone',
    ]);
    assert.equal(await checks.locator('.auth-badge.badge-ok').count(), 0);
    assert.doesNotMatch(await tab.innerText(), /forger\.example/);
    assert.equal(await tab.locator('.routing-actions').count(), 0);

    await openRouting(page, apiId);
    assert.match(await tab.locator('.routing-door').innerText(), /HTTP API/);
    assert.match(await tab.getByTestId('not-routed').innerText(), /MX and polled mail only/);
    assert.match(await tab.getByTestId('auth-none').innerText(), /Not checked/);
    assert.equal((await routing(apiId)).Authentication, null);
    assert.equal(await tab.getByTestId('auth-checks').count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
