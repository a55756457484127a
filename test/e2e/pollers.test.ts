// Polled mailboxes enter the same pipeline as MX mail, on both engines: messages in a real
// Dovecot's IMAP and POP3 mailboxes are imported once each (across a restart and a UIDVALIDITY
// change), checked (SPF from the server's Received field, through a fake DNS zone), routed by a
// recipient route, and left flagged (IMAP) or deleted (POP3) on the server as configured.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Mailroom } from '../../src/app.ts';
import { type RunningDovecot, startDovecot } from '../helpers/dovecot.ts';
import { createFakeDns, txt } from '../helpers/fake-dns.ts';
import {
  type InProcessRig,
  inProcessRig,
  mailWhen,
  type StoredMail,
  storedMail,
} from '../helpers/in-process.ts';

const HOST = 'mx.mailroom.test';

function mail(subject: string, to: string): Buffer {
  return Buffer.from(
    [
      'Return-Path: <ann@sender.example>',
      `Delivered-To: ${to}`,
      'Received: from mail.sender.example (mail.sender.example [127.0.0.1])',
      '\tby imap.provider.example with ESMTPS; Mon, 23 Nov 2026 10:00:01 +0000',
      'From: Ann <ann@sender.example>',
      `To: ${to}`,
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
  describe(`polled mailboxes: ${engine}`, () => {
    let dovecot: RunningDovecot;
    let rig: InProcessRig;
    let server: Mailroom;

    before(async () => {
      dovecot = await startDovecot(['ann', 'bob']);
      const pw = (u: string) => encodeURIComponent(dovecot.passwords.get(u)!);
      // The test server's certificate is self-signed: STARTTLS and implicit TLS are used, unverified.
      const imap = `imap://ann:${pw('ann')}@127.0.0.1:${dovecot.ports.imap}/INBOX?verify=false&after=flag&interval=200ms`;
      const pop3 = `pop3s://bob:${pw('bob')}@127.0.0.1:${dovecot.ports.pop3s}?verify=false&after=delete&interval=200ms`;
      rig = await inProcessRig({
        engine,
        hostname: HOST,
        smtp: false,
        resolver: createFakeDns({ 'sender.example': { TXT: txt('v=spf1 ip4:127.0.0.1 -all') } }).resolve,
        args: ['--poll', `${imap},${pop3}`],
        routes: [
          {
            ID: 'support',
            Name: 'support mail',
            Conditions: [{ Field: 'recipient', Op: 'glob', Value: 'support@*' }],
            Actions: [{ Type: 'store', Tags: ['support'] }],
          },
        ],
      });
    });
    after(async () => {
      await rig?.dispose();
      await dovecot?.stop();
    });

    const start = async () => {
      server = await rig.start();
    };
    const stop = () => rig.stop();
    const all = () => storedMail(server);
    const until = (what: string, ok: (ms: StoredMail[]) => boolean) => mailWhen(server, what, ok);

    it('imports IMAP and POP3 mail once, checks and routes it, and treats the server as told', async () => {
      await dovecot.append('ann', mail('Printer on fire', 'support@shop.example'));
      await dovecot.append('ann', mail('Lunch', 'ann@shop.example'));
      await dovecot.append('bob', mail('Refund please', 'support@shop.example'));
      await start();
      const ms = await until(
        'three imported, the support ones routed',
        (ms) => ms.length === 3 && ms.filter((m) => m.tags.includes('support')).length === 2,
      );
      const bySubject = new Map(ms.map((m) => [m.subject, m]));
      assert.equal(bySubject.get('Printer on fire')?.listener, 'imap');
      assert.equal(bySubject.get('Refund please')?.listener, 'pop3');
      assert.deepEqual(bySubject.get('Lunch')?.tags, []);
      const top = bySubject.get('Printer on fire')!.raw.split('\r\n')[0]!;
      assert.match(top, new RegExp(`^Authentication-Results: ${HOST.replace(/\./g, '\\.')};`));
      assert.match(bySubject.get('Refund please')!.raw, /spf=pass/);

      // IMAP: left on the server, flagged \Seen; POP3: deleted after import.
      for (let i = 0; i < 100; i++) {
        const ann = await dovecot.messages('ann');
        const bob = await dovecot.messages('bob');
        if (bob.length === 0 && ann.every((m) => m.flags.has('\\Seen'))) break;
        await sleep(50);
      }
      assert.equal((await dovecot.messages('bob')).length, 0);
      assert.equal((await dovecot.messages('ann')).length, 2);
      assert.ok((await dovecot.messages('ann')).every((m) => m.flags.has('\\Seen')));
    });

    it('imports nothing twice across a restart and a new UIDVALIDITY, and takes what is new', async () => {
      await stop();
      await dovecot.renumber('ann');
      await dovecot.append('ann', mail('Coffee machine broken', 'support@shop.example'));
      await start();
      const ms = await until('the new message imported and routed', (ms) =>
        ms.some((m) => m.subject === 'Coffee machine broken' && m.tags.includes('support')),
      );
      // A few more passes: still nothing imported twice.
      await sleep(1000);
      const again = await all();
      assert.equal(again.length, 4, JSON.stringify(again.map((m) => m.subject)));
      assert.equal(ms.length, 4);
      const routing = await server.storage.inbound.actionJobs({ start: 0, limit: 50 });
      assert.equal(routing.length, 3, 'three support messages, each routed once');
    });
  });
}
