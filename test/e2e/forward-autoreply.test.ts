// Forward and auto-reply actions through the whole pipeline, in process, on both engines: mail to
// the MX is routed, the forward is queued with an SRS envelope sender and delivered (captured here),
// the auto-reply goes to the return path from the null sender once per period, and automatic mail
// gets none.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import nodemailer from 'nodemailer';
import type { Mailroom } from '../../src/app.ts';
import { srsReverse } from '../../src/outbound/srs.ts';
import { createFakeDns, txt } from '../helpers/fake-dns.ts';
import {
  type InProcessRig,
  inProcessRig,
  mailWhen,
  type StoredMail,
  sendToMx,
  storedMail,
} from '../helpers/in-process.ts';

const SRS_KEY = 'an-srs-key-of-at-least-thirty-two-characters';

function mail(subject: string, extra: string[] = []): Buffer {
  return Buffer.from(
    [
      ...extra,
      'From: Ann <ann@sender.example>',
      'To: help@shop.example',
      `Subject: ${subject}`,
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      `Message-ID: <${subject.replace(/\W/g, '')}@sender.example>`,
      '',
      `About ${subject}.`,
      '',
    ].join('\r\n'),
  );
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`forward and auto-reply actions: ${engine}`, () => {
    let rig: InProcessRig;
    let server: Mailroom;

    before(async () => {
      rig = await inProcessRig({
        engine,
        hostname: 'mx.shop.example',
        resolver: createFakeDns({ 'sender.example': { TXT: txt('v=spf1 ip4:127.0.0.1 -all') } }).resolve,
        args: ['--local-domains', 'shop.example', '--srs-secret', SRS_KEY],
        routes: [
          {
            ID: 'help',
            Name: 'help desk',
            Conditions: [{ Field: 'recipient', Op: 'equals', Value: 'help@shop.example' }],
            Actions: [
              { Type: 'forward', To: ['agent@team.example'] },
              {
                Type: 'auto-reply',
                Subject: 'Re: {{subject}}',
                Text: 'We got your message and answer within a day.',
                PeriodSeconds: 3600,
              },
            ],
          },
        ],
      });
      server = await rig.start();
    });
    after(() => rig?.dispose());

    const send = (raw: Buffer, from = 'ann@sender.example') =>
      sendToMx(server, raw, from, ['help@shop.example']);
    type Captured = StoredMail;
    const inbox = () => storedMail(server);
    const until = (what: string, ok: (ms: Captured[]) => boolean) => mailWhen(server, what, ok);
    const captured = (ms: Captured[]) => ms.filter((m) => m.listener !== 'smtp');
    const parsed = (ms: Captured[]) => ms.every((m) => m.parsed);

    it('forwards with an SRS sender and replies once to the return path, from the null sender', async () => {
      await send(mail('Broken widget'));
      const ms = await until('a forward and a reply', (ms) => captured(ms).length === 2 && parsed(ms));
      const forward = captured(ms).find((m) => m.rcptTo.includes('agent@team.example'))!;
      assert.ok(forward, 'the forward was delivered');
      assert.match(forward.mailFrom, /^SRS0=[^@]+@shop\.example$/);
      const back = srsReverse(forward.mailFrom, { secrets: [SRS_KEY], now: Date.now() });
      assert.deepEqual(back, { ok: true, original: 'ann@sender.example' });
      assert.match(forward.raw, /^X-Mailroom-Forwarded: /);
      // The original follows as it was stored, our Authentication-Results included.
      assert.match(
        forward.raw,
        /\r\nAuthentication-Results: mx\.shop\.example;[\s\S]*\r\nSubject: Broken widget\r\n/,
      );

      const reply = captured(ms).find((m) => m.rcptTo.includes('ann@sender.example'))!;
      assert.ok(reply, 'the auto-reply was delivered');
      assert.equal(reply.mailFrom, '');
      assert.equal(reply.subject, 'Re: Broken widget');
      assert.match(reply.raw, /^Auto-Submitted: auto-replied\r$/im);
      assert.match(reply.raw, /\r\nIn-Reply-To: <Brokenwidget@sender\.example>\r\n/i);
      assert.match(reply.raw, /^From: help@shop\.example\r?$/im);
    });

    it('returns a bounce sent to the SRS address to the original sender, and refuses a forged one', async () => {
      const forward = captured(await inbox()).find((m) => m.rcptTo.includes('agent@team.example'))!;
      const t = nodemailer.createTransport({
        host: '127.0.0.1',
        port: server.smtpAddresses().smtp!.port,
        secure: false,
        ignoreTLS: true,
      });
      const bounce = Buffer.from(
        'From: MAILER-DAEMON@team.example\r\nTo: ' +
          `${forward.mailFrom}\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\nagent@team.example: mailbox full\r\n`,
      );
      await t.sendMail({ envelope: { from: '', to: [forward.mailFrom] }, raw: bounce });
      const forged = forward.mailFrom.replace(/^SRS0=..../, 'SRS0=AAAA');
      await assert.rejects(
        t.sendMail({ envelope: { from: '', to: [forged] }, raw: bounce }),
        (err: { responseCode?: number; response?: string }) =>
          err.responseCode === 550 && /5\.1\.1/.test(err.response ?? ''),
      );
      t.close();
      const ms = await until('the bounce returned', (ms) =>
        captured(ms).some((m) => m.subject === 'Undelivered Mail Returned to Sender' && m.parsed),
      );
      const returned = captured(ms).find((m) => m.subject === 'Undelivered Mail Returned to Sender')!;
      assert.deepEqual(returned.rcptTo, ['ann@sender.example']);
      assert.equal(returned.mailFrom, '', 'a bounce stays a bounce');
    });

    it('does not reply again within the period, nor to automatic mail, but still forwards', async () => {
      await send(mail('Still broken'));
      await send(mail('Out of office', ['Auto-Submitted: auto-replied']), 'bob@sender.example');
      const ms = await until(
        'both forwarded',
        (ms) => captured(ms).filter((m) => m.rcptTo.includes('agent@team.example')).length === 3,
      );
      // Give a wrongly queued reply time to arrive.
      await sleep(500);
      const replies = captured(await inbox()).filter(
        (m) => !m.rcptTo.includes('agent@team.example') && m.mailFrom === '' && m.subject.startsWith('Re: '),
      );
      assert.equal(replies.length, 1, JSON.stringify(replies.map((m) => m.subject)));
      assert.equal(ms.length >= 6, true);
      const jobs = await server.storage.inbound.actionJobs({ start: 0, limit: 50 });
      const skipped = jobs.filter((j) => j.action.type === 'auto-reply' && j.state === 'succeeded');
      assert.equal(skipped.length, 3, 'each auto-reply job ended, two of them skipping');
    });
  });
}
