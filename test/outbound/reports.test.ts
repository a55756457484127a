// Delivery reports about our mail: DSNs in the forms Postfix, Exchange and Gmail send, ARF
// complaints; read (reports.ts), then matched and recorded on the message they are about
// (report-intake.ts) against both storage engines.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newMessageId } from '../../src/domain/ids.ts';
import { parseMessage } from '../../src/mime/extract.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { ReportIntake } from '../../src/outbound/report-intake.ts';
import { fieldBlocks, parseReport, reportType } from '../../src/outbound/reports.ts';
import type { Storage } from '../../src/storage/ports.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { outboundMessage } from '../helpers/fixtures.ts';
import { arf, exchangeDsn, postfixDsn } from '../helpers/report-fixtures.ts';

const enc = (s: string) => new TextEncoder().encode(s.replace(/\r?\n/g, '\r\n'));

describe('delivery reports: reading', () => {
  it('tells reports from other mail by their Content-Type alone', () => {
    assert.equal(
      reportType('multipart/report; report-type=delivery-status; boundary="x"'),
      'delivery-status',
    );
    assert.equal(
      reportType('Multipart/Report; boundary=x; report-type="global-delivery-status"'),
      'delivery-status',
    );
    assert.equal(reportType('multipart/report; report-type=feedback-report'), 'feedback-report');
    assert.equal(reportType('multipart/report; report-type=disposition-notification'), null);
    assert.equal(reportType('multipart/mixed; report-type=delivery-status'), null);
    assert.equal(reportType('text/plain'), null);
  });

  it('joins folded fields and splits blocks at blank lines', () => {
    assert.deepEqual(fieldBlocks('A: 1\nB: two\n  lines\n\n\nC: 3\r\n'), [
      [
        ['a', '1'],
        ['b', 'two lines'],
      ],
      [['c', '3']],
    ]);
  });

  it("reads Postfix's DSN: recipient, action, status, the folded diagnostic, and the original's Message-ID", async () => {
    const report = await parseReport(
      enc(postfixDsn('<o-1@shop.example>', 'ann@one.example', '550 5.1.1 <ann@one.example>: User unknown')),
    );
    assert.deepEqual(report, {
      kind: 'dsn',
      reportingMta: 'mx.one.example',
      originalMessageId: '<o-1@shop.example>',
      recipients: [
        {
          recipient: 'ann@one.example',
          originalRecipient: 'ann@one.example',
          action: 'failed',
          status: '5.1.1',
          diagnostic: '550 5.1.1 <ann@one.example>: User unknown',
          remoteMta: 'inner.one.example',
        },
      ],
    });
  });

  it("reads Exchange's DSN with the original attached whole", async () => {
    const report = await parseReport(enc(exchangeDsn('<o-2@shop.example>', 'bob@two.example')));
    assert.equal(report?.kind, 'dsn');
    assert.equal(report.originalMessageId, '<o-2@shop.example>');
    assert.equal(report.recipients[0]?.recipient, 'BOB@TWO.EXAMPLE');
    assert.equal(report.recipients[0]?.status, '5.1.10');
  });

  it('reads an ARF complaint, with or without the redacted recipient', async () => {
    const named = await parseReport(enc(arf('<o-3@shop.example>', 'cat@three.example')));
    assert.deepEqual(named, {
      kind: 'arf',
      feedbackType: 'abuse',
      userAgent: 'ISP-FBL/1.0',
      originalRcptTo: ['cat@three.example'],
      originalMailFrom: 'app@shop.example',
      originalMessageId: '<o-3@shop.example>',
    });
    const redacted = await parseReport(enc(arf('<o-3@shop.example>', null)));
    assert.equal(redacted?.kind, 'arf');
    assert.deepEqual(redacted.originalRcptTo, []);
  });

  it('is not fooled by mail that only looks like a report', async () => {
    // A report type but no machine-readable part.
    const hollow =
      'Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n--b--\n';
    assert.equal(await parseReport(enc(hollow)), null);
    assert.equal(await parseReport(enc('Subject: plain\n\nFinal-Recipient: rfc822; a@b.example\n')), null);
  });
});

for (const backend of BACKENDS) {
  describe(`delivery reports: matching and recording (${backend.name})`, () => {
    let storage: Storage;
    let cleanup: () => Promise<void>;
    let intake: ReportIntake;
    const now = Date.parse('2026-11-24T12:00:00.000Z');

    before(async () => {
      const made = await backend.create();
      storage = made.storage;
      cleanup = made.cleanup;
      intake = new ReportIntake({ storage, logger: createLogger('silent'), now: () => now });
    });
    after(() => cleanup());

    async function queued(rcptTo: string[]) {
      const m = outboundMessage(rcptTo, 'Subject: Your order\r\n\r\nThanks\r\n', now - 60_000);
      await storage.outbound.enqueue(m);
      return m;
    }

    async function read(text: string, id = newMessageId()) {
      const raw = enc(text);
      return intake.read({ id, raw, parsed: await parseMessage(raw) });
    }

    it('records a hard bounce on the right delivery once, and suppresses that recipient', async () => {
      const m = await queued(['ann@one.example', 'bob@two.example']);
      const dsn = postfixDsn(
        m.headerMessageId,
        'ann@one.example',
        '550 5.1.1 <ann@one.example>: User unknown',
      );
      const reportId = newMessageId();
      const outcome = await read(dsn, reportId);
      assert.deepEqual(outcome, {
        kind: 'recorded',
        report: 'dsn',
        outboundId: m.id,
        events: 1,
        suppressed: ['ann@one.example'],
      });
      const view = await storage.outbound.get(m.id);
      const annDelivery = view?.deliveries.find((d) => d.domain === 'one.example');
      const event = (await storage.outbound.events(m.id)).find((e) => e.type === 'delivery:bounced');
      assert.ok(event && annDelivery);
      assert.equal(event.id, `${reportId}.0`);
      assert.equal(event.deliveryId, annDelivery.id);
      assert.equal(event.data.recipient, 'ann@one.example');
      assert.equal(event.data.status, '5.1.1');
      assert.equal(event.data.reply, '550 5.1.1 <ann@one.example>: User unknown');
      const [entry] = await storage.outbound.suppressedAmong(
        ['ann@one.example'],
        new Date(now).toISOString(),
      );
      assert.equal(entry?.reason, 'hard-bounce');
      assert.match(entry.detail ?? '', /^DSN: 550 5\.1\.1/);

      // The same report again (a re-parse): nothing new, and an operator's removal stands.
      await storage.outbound.unsuppress('ann@one.example');
      assert.deepEqual(await read(dsn, reportId), {
        kind: 'recorded',
        report: 'dsn',
        outboundId: m.id,
        events: 0,
        suppressed: [],
      });
      assert.equal(
        (await storage.outbound.suppressedAmong(['ann@one.example'], new Date(now).toISOString())).length,
        0,
      );
    });

    it('matches an Exchange DSN whatever the case of the address, and treats 5.1.10 as hard', async () => {
      const m = await queued(['bob@two.example']);
      const outcome = await read(exchangeDsn(m.headerMessageId, 'bob@two.example'));
      assert.equal(outcome.kind, 'recorded');
      assert.deepEqual(outcome.kind === 'recorded' && outcome.suppressed, ['bob@two.example']);
    });

    it('records a full mailbox and a delay without suppressing anyone', async () => {
      const m = await queued(['dan@four.example']);
      await read(postfixDsn(m.headerMessageId, 'dan@four.example', '552 5.2.2 Mailbox full'));
      await read(
        postfixDsn(m.headerMessageId, 'dan@four.example', '451 4.4.1 connection timed out', 'delayed'),
      );
      const types = (await storage.outbound.events(m.id))
        .map((e) => e.type)
        .filter((t) => t !== 'message:queued');
      assert.deepEqual(types, ['delivery:bounced', 'delivery:delayed']);
      assert.equal(
        (await storage.outbound.suppressedAmong(['dan@four.example'], new Date(now).toISOString())).length,
        0,
      );
    });

    it('suppresses a complainant: named, or the only recipient; a not-spam report suppresses nobody', async () => {
      const named = await queued(['eve@five.example', 'fay@five.example']);
      const outcome = await read(arf(named.headerMessageId, 'fay@five.example'));
      assert.deepEqual(outcome.kind === 'recorded' && outcome.suppressed, ['fay@five.example']);
      const complaint = (await storage.outbound.events(named.id)).find(
        (e) => e.type === 'message:complained',
      );
      assert.deepEqual(complaint?.data.recipients, ['fay@five.example']);
      const at = new Date(now).toISOString();
      assert.equal(
        (await storage.outbound.suppressedAmong(['fay@five.example'], at))[0]?.reason,
        'complaint',
      );
      assert.equal((await storage.outbound.suppressedAmong(['eve@five.example'], at)).length, 0);

      const only = await queued(['gus@six.example']);
      const redacted = await read(arf(only.headerMessageId, null));
      assert.deepEqual(redacted.kind === 'recorded' && redacted.suppressed, ['gus@six.example']);

      const taken = await queued(['hal@seven.example']);
      const notSpam = await read(arf(taken.headerMessageId, 'hal@seven.example', 'not-spam'));
      assert.deepEqual(notSpam.kind === 'recorded' && notSpam.suppressed, []);
    });

    it('changes nothing for a report about unknown mail, or about someone who was not a recipient', async () => {
      const unknown = await read(
        postfixDsn('<never-sent@shop.example>', 'ann@one.example', '550 5.1.1 unknown'),
      );
      assert.deepEqual(unknown, {
        kind: 'unmatched',
        report: 'dsn',
        originalMessageId: '<never-sent@shop.example>',
      });

      const m = await queued(['ivy@eight.example', 'jon@eight.example']);
      const stranger = await read(
        postfixDsn(m.headerMessageId, 'victim@elsewhere.example', '550 5.1.1 unknown'),
      );
      assert.deepEqual(stranger.kind === 'recorded' && stranger.suppressed, []);
      const event = (await storage.outbound.events(m.id)).find((e) => e.type === 'delivery:bounced');
      assert.equal(event?.data.matched, false);
      assert.equal(event?.deliveryId, null);
      const at = new Date(now).toISOString();
      assert.equal((await storage.outbound.suppressedAmong(['victim@elsewhere.example'], at)).length, 0);
    });

    it('leaves our own captured mail alone: a DSN we sent lands in the inbox under its outbound id', async () => {
      const m = await queued(['kim@nine.example']);
      const ours = await queued(['app@shop.example']);
      const outcome = await read(
        postfixDsn(m.headerMessageId, 'kim@nine.example', '550 5.1.1 unknown'),
        ours.id,
      );
      assert.deepEqual(outcome, { kind: 'own-message' });
      assert.deepEqual(await read('Subject: hello\n\nnot a report\n'), { kind: 'not-a-report' });
    });
  });
}
