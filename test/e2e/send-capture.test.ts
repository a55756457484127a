// Sending with the capture transport, end to end: the `mailpit-api` client sends through
// POST /api/v1/send to a real Mailroom process; the delivery worker claims the queued deliveries
// and the message lands in the inbox under the ID the send call returned, once, with every
// recipient (Bcc too) in its envelope and nothing of the Bcc in its headers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MailpitClient } from 'mailpit-api';
import { type MailroomOnEngine, mailroomOn } from '../helpers/process.ts';

const PNG_1x1 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`send API with the capture transport: ${engine}`, () => {
    let server: MailroomOnEngine;
    let mailpit: MailpitClient;
    let base: string;

    before(async () => {
      server = await mailroomOn(engine);
      base = server.base;
      mailpit = new MailpitClient(base);
    });

    after(() => server?.dispose());

    it('captures a sent message once, under the returned ID, Bcc in the envelope only', async () => {
      const { ID } = await mailpit.sendMessage({
        From: { Email: 'orders@shop.example', Name: 'Shop' },
        To: [{ Email: 'ann@one.example', Name: 'Ann Example' }],
        Cc: [{ Email: 'bob@two.example' }],
        Bcc: ['audit@three.example'],
        Subject: 'Sent through the API',
        Text: 'Your code is 424242.',
        HTML: '<p>Your code is <b>424242</b>.</p><img src="cid:logo">',
        Attachments: [
          { Content: PNG_1x1, Filename: 'logo.png', ContentType: 'image/png', ContentID: 'logo' },
          { Content: Buffer.from('a,b\n1,2\n').toString('base64'), Filename: 'order.csv' },
        ],
        Tags: ['api-sent'],
        Headers: { 'X-Campaign': 'spring' },
      });
      const found = await mailpit.waitForMessage(
        { query: 'subject:"Sent through the API"' },
        { timeout: 10_000 },
      );
      assert.equal(found.ID, ID);
      assert.deepEqual(found.Tags, ['api-sent']);
      assert.equal(found.Text.trim(), 'Your code is 424242.');
      assert.deepEqual(
        found.Attachments.map((a) => a.FileName),
        ['order.csv'],
      );
      assert.deepEqual(
        found.Inline.map((a) => a.FileName),
        ['logo.png'],
      );
      // Three domains are three deliveries, but one message in the inbox.
      const list = await mailpit.searchMessages({ query: 'subject:"Sent through the API"' });
      assert.equal(list.messages_count, 1);
      const raw = await mailpit.getMessageSource(ID);
      assert.doesNotMatch(raw, /audit@three\.example/);
      assert.match(raw, /^X-Campaign: spring\r?$/m);
      const message = (await (await fetch(`${base}/api/v1/message/${ID}`)).json()) as {
        Envelope: { MailFrom: string; RcptTo: string[]; Listener: string };
      };
      assert.deepEqual(message.Envelope.RcptTo, [
        'ann@one.example',
        'bob@two.example',
        'audit@three.example',
      ]);
      assert.equal(message.Envelope.MailFrom, 'orders@shop.example');
      assert.equal(message.Envelope.Listener, 'api');
    });

    it('refuses a header injection over the wire with a problem, and captures nothing', async () => {
      const res = await fetch(`${base}/api/v1/send`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          From: { Email: 'orders@shop.example' },
          To: [{ Email: 'ann@one.example', Name: 'Ann\r\nBcc: victim@evil.example' }],
          Subject: 'Injected',
        }),
      });
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      assert.match(((await res.json()) as { detail: string }).detail, /To\[0\]\.Name/);
      // A valid message sent afterwards is captured; the refused one never is.
      const { ID } = await mailpit.sendMessage({
        From: { Email: 'orders@shop.example' },
        To: [{ Email: 'ann@one.example' }],
        Subject: 'After the refusal',
      });
      assert.equal(
        (await mailpit.waitForMessage({ query: 'subject:"After the refusal"' }, { timeout: 10_000 })).ID,
        ID,
      );
      assert.equal((await mailpit.searchMessages({ query: 'subject:Injected' })).messages_count, 0);
    });
  });
}
