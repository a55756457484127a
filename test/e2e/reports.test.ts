// Reports about sent mail coming back by SMTP, end to end on a real process: a message is sent
// through the API; a DSN (null reverse-path, from Python's smtplib) and an ARF complaint arrive on
// the SMTP port; the message's record shows the bounce and the complaint on the right delivery, and
// both recipients are on the suppression list, so the next send to them is not attempted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type MailroomOnEngine, mailroomOn } from '../helpers/process.ts';
import { arf, postfixDsn } from '../helpers/report-fixtures.ts';

interface Outbound {
  MessageID: string;
  Deliveries: { ID: string; Domain: string; Recipients: { Address: string; State: string }[] }[];
  Events: { ID: string; Type: string; DeliveryID: string | null; Data: Record<string, unknown> }[];
}

/** Hands a message to the SMTP port with Python's smtplib, MAIL FROM:<> as a mail system's report has. */
function smtpSend(port: number, rcpt: string, text: string): void {
  const script = [
    'import smtplib, sys',
    'data = sys.stdin.buffer.read()',
    `with smtplib.SMTP("127.0.0.1", ${port}, timeout=10) as s:`,
    `    s.sendmail("", [${JSON.stringify(rcpt)}], data)`,
  ].join('\n');
  const r = spawnSync('python3', ['-c', script], { input: text.replace(/\r?\n/g, '\r\n'), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`reports by SMTP about sent mail: ${engine}`, () => {
    let server: MailroomOnEngine;
    let base: string;

    before(async () => {
      server = await mailroomOn(engine);
      base = server.base;
    });
    after(() => server?.dispose());

    async function outbound(id: string): Promise<Outbound> {
      return (await (await fetch(`${base}/api/v1/outbound/${id}`)).json()) as Outbound;
    }

    async function eventually(id: string, done: (o: Outbound) => boolean): Promise<Outbound> {
      for (let i = 0; i < 200; i++) {
        const o = await outbound(id);
        if (done(o)) return o;
        await sleep(50);
      }
      assert.fail(`outbound ${id}: the expected events did not come`);
    }

    async function send(to: string[]): Promise<string> {
      const res = await fetch(`${base}/api/v1/send`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          From: { Email: 'app@shop.example' },
          To: to.map((Email) => ({ Email })),
          Subject: 'Your order',
          Text: 'Thanks for your order.',
        }),
      });
      assert.equal(res.status, 200);
      return ((await res.json()) as { ID: string }).ID;
    }

    it('records a DSN and an ARF complaint on the message they are about and suppresses both', async () => {
      const id = await send(['ann@one.example', 'bob@two.example']);
      const { MessageID } = await outbound(id);

      smtpSend(
        server.smtpPort,
        'app@shop.example',
        postfixDsn(MessageID, 'ann@one.example', '550 5.1.1 <ann@one.example>: User unknown'),
      );
      smtpSend(server.smtpPort, 'fbl@shop.example', arf(MessageID, 'bob@two.example'));

      const o = await eventually(
        id,
        (v) =>
          v.Events.some((e) => e.Type === 'delivery:bounced') &&
          v.Events.some((e) => e.Type === 'message:complained'),
      );
      const bounced = o.Events.find((e) => e.Type === 'delivery:bounced');
      const ann = o.Deliveries.find((d) => d.Domain === 'one.example');
      assert.equal(bounced?.DeliveryID, ann?.ID);
      assert.equal(bounced?.Data.recipient, 'ann@one.example');
      assert.equal(bounced?.Data.via, 'dsn');
      const complained = o.Events.find((e) => e.Type === 'message:complained');
      assert.deepEqual(complained?.Data.recipients, ['bob@two.example']);

      const list = (await (await fetch(`${base}/api/v1/suppressions`)).json()) as {
        suppressions: { Address: string; Reason: string }[];
      };
      const reasons = Object.fromEntries(list.suppressions.map((s) => [s.Address, s.Reason]));
      assert.equal(reasons['ann@one.example'], 'hard-bounce');
      assert.equal(reasons['bob@two.example'], 'complaint');

      // The reports stay in the inbox as mail, and the next message to them is not attempted.
      const next = await send(['ann@one.example', 'bob@two.example']);
      const states = await eventually(next, (v) =>
        v.Deliveries.every((d) => d.Recipients.every((r) => r.State !== 'pending')),
      );
      assert.deepEqual(
        states.Deliveries.flatMap((d) => d.Recipients.map((r) => r.State)),
        ['suppressed', 'suppressed'],
      );
    });
  });
}
