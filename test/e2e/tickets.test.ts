// The support desk end to end, in process, on both engines: mail over real SMTP to new@ opens a
// ticket and is acknowledged; an agent answers through the API; the reply goes out through the
// outbound queue (captured here) and the customer's answer comes back to the ticket. Then what
// must not thread: strangers, guessed and forged anchors, automatic mail, loops, bounces.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Mailroom } from '../../src/app.ts';
import { createFakeDns } from '../helpers/fake-dns.ts';
import {
  type InProcessRig,
  inProcessRig,
  mailWhen,
  type StoredMail,
  sendToMx,
} from '../helpers/in-process.ts';
import { postfixDsn } from '../helpers/report-fixtures.ts';

const KEY = 'a-ticket-key-of-at-least-thirty-two-characters';
const DESK = 'support.example?prefix=SUPPORT&first=7102&ack=on&from-name=Example%20Support';

interface Entry {
  Kind: string;
  From: { Address: string };
  StrippedText: string;
  Text: string;
  Note: string | null;
  HeaderMessageID: string | null;
}
interface TicketView {
  ID: string;
  Key: string;
  State: string;
  Requester: { Address: string };
  Participants: string[];
  Subject: string;
  Conversation: Entry[];
}

function mail(o: {
  from: string;
  to: string;
  subject: string;
  body: string;
  id?: string | null;
  extra?: string[];
}): Buffer {
  return Buffer.from(
    [
      ...(o.extra ?? []),
      `From: ${o.from}`,
      `To: ${o.to}`,
      `Subject: ${o.subject}`,
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      ...(o.id === null ? [] : [`Message-ID: <${o.id ?? Math.random().toString(36).slice(2)}@ferrier.test>`]),
      '',
      o.body,
      '',
    ].join('\r\n'),
  );
}

const header = (raw: string, name: string) =>
  new RegExp(`^${name}: (.*(?:\\r\\n[ \\t].*)*)`, 'im').exec(raw)?.[1]?.replace(/\r\n[ \t]+/g, ' ') ?? '';

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`support desk: ${engine}`, () => {
    let rig: InProcessRig;
    let server: Mailroom;
    let base: string;

    before(async () => {
      rig = await inProcessRig({
        engine,
        hostname: 'mx.support.example',
        resolver: createFakeDns({}).resolve,
        routes: [],
        args: ['--desk', DESK, '--ticket-secret', KEY],
      });
      server = await rig.start();
      base = `http://127.0.0.1:${server.httpAddress()!.port}/api/v1`;
    });
    after(() => rig?.dispose());

    const api = async <T>(path: string, init?: RequestInit): Promise<T> => {
      const res = await fetch(`${base}${path}`, {
        ...init,
        headers: { 'Content-Type': 'application/json', ...(init?.headers ?? {}) },
      });
      const body = await res.json();
      assert.ok(res.ok, `${path}: ${res.status} ${JSON.stringify(body)}`);
      return body as T;
    };
    const ticket = (key: string) => api<TicketView>(`/tickets/${key}`);
    /** Polls the ticket until `ok` holds (the desk takes mail a moment after its 250). */
    const ticketWhen = async (key: string, what: string, ok: (t: TicketView) => boolean) => {
      for (let i = 0; i < 300; i++) {
        const res = await fetch(`${base}/tickets/${key}`);
        if (res.ok) {
          const t = (await res.json()) as TicketView;
          if (ok(t)) return t;
        }
        await sleep(50);
      }
      throw new Error(
        `${key}: ${what}: ${JSON.stringify(await (await fetch(`${base}/tickets/${key}`)).json())}`,
      );
    };
    const held = async () =>
      (await api<{ held: { MessageID: string; Reason: string; From: string }[] }>('/tickets/held')).held;
    const heldWhen = async (n: number) => {
      for (let i = 0; i < 300 && (await held()).length < n; i++) await sleep(50);
      return held();
    };
    const outgoing = (what: string, ok: (ms: StoredMail[]) => boolean) =>
      mailWhen(server, what, (ms) => ok(ms.filter((m) => m.listener !== 'smtp' && m.parsed)));
    const sent = (ms: StoredMail[]) => ms.filter((m) => m.listener !== 'smtp');

    let ack: StoredMail;
    let reply: StoredMail;

    it('lists the desk with its intake address', async () => {
      const { desks } = await api<{ desks: Record<string, unknown>[] }>('/tickets/desks');
      assert.deepEqual(desks, [
        {
          Name: 'support.example',
          Domain: 'support.example',
          Intake: 'new@support.example',
          Prefix: 'SUPPORT',
          Acknowledge: true,
          FromName: 'Example Support',
        },
      ]);
    });

    it('opens SUPPORT-7102 for mail to new@, acknowledges it, and mails the agent reply', async () => {
      await sendToMx(
        server,
        mail({
          from: 'Nic <nic@ferrier.test>',
          to: 'new@support.example',
          subject: "I can't login!",
          body: 'Help me.',
          id: 'first',
        }),
        'nic@ferrier.test',
        ['new@support.example'],
      );
      const t = await ticketWhen('SUPPORT-7102', 'opened', (t) => t.Conversation.length === 2);
      assert.equal(t.State, 'open');
      assert.equal(t.Requester.Address, 'nic@ferrier.test');
      assert.deepEqual(
        t.Conversation.map((e) => e.Kind),
        ['customer', 'acknowledgement'],
      );
      ack = (await outgoing('the acknowledgement', (ms) => ms.length === 1)).find(
        (m) => m.listener !== 'smtp',
      )!;
      assert.match(header(ack.raw, 'From'), /<SUPPORT-7102@support\.example>/);
      assert.match(header(ack.raw, 'Reply-To'), /<SUPPORT-7102\+[a-z2-7]{12}@support\.example>/);
      assert.equal(header(ack.raw, 'Auto-Submitted'), 'auto-replied');
      assert.equal(header(ack.raw, 'In-Reply-To'), '<first@ferrier.test>');

      const r = await fetch(`${base}/tickets/SUPPORT-7102/replies`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'answer-1' },
        body: JSON.stringify({
          Text: 'Try resetting your password.',
          Author: 'agent@support.example',
          State: 'pending',
        }),
      });
      assert.equal(r.status, 202);
      const ms = await outgoing('the agent reply', (ms) => ms.length === 2);
      reply = sent(ms).find((m) => m.id !== ack.id)!;
      assert.deepEqual(reply.rcptTo, ['nic@ferrier.test']);
      assert.equal(reply.subject, "RE: I can't login!");
      assert.match(header(reply.raw, 'From'), /Example Support <SUPPORT-7102@support\.example>/);
      assert.equal(header(reply.raw, 'In-Reply-To'), '<first@ferrier.test>');
      assert.match(
        header(reply.raw, 'Message-ID'),
        /^<SUPPORT-7102\.[a-z2-7]{10}\.[a-z2-7]{16}@support\.example>$/,
      );
      assert.equal(header(reply.raw, 'Auto-Submitted'), '', 'a person wrote it');
      assert.match(
        reply.mailFrom,
        /^SUPPORT-7102\+[a-z2-7]{12}@support\.example$/,
        'bounces come back to the desk',
      );
      // The same Idempotency-Key again sends nothing more.
      const again = await fetch(`${base}/tickets/SUPPORT-7102/replies`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'answer-1' },
        body: JSON.stringify({ Text: 'Try resetting your password.', Author: 'agent@support.example' }),
      });
      assert.equal(again.status, 202);
      const t2 = await ticket('SUPPORT-7102');
      assert.equal(t2.State, 'pending');
      assert.equal(t2.Conversation.filter((e) => e.Kind === 'agent').length, 1);
    });

    it('threads the customer reply back, by the signed address or our Message-ID, and reopens', async () => {
      const replyTo = /<([^>]+)>/.exec(header(reply.raw, 'Reply-To'))![1]!;
      const ourId = header(reply.raw, 'Message-ID');
      // Reply-all to both the ticket's address and new@: one entry on SUPPORT-7102, no new ticket.
      await sendToMx(
        server,
        mail({
          from: 'nic@ferrier.test',
          to: `${replyTo}, new@support.example`,
          subject: "Re: RE: I can't login!",
          body: 'Still broken.\r\n\r\nOn Mon, Nov 23, 2026 at 10:00 AM Example Support wrote:\r\n> Try resetting your password.',
          extra: [`In-Reply-To: ${ourId}`, `References: <first@ferrier.test> ${ourId}`],
          id: 'second',
        }),
        'nic@ferrier.test',
        [replyTo, 'new@support.example'],
      );
      const t = await ticketWhen('SUPPORT-7102', 'the reply', (t) => t.Conversation.length === 4);
      assert.equal(t.State, 'open', 'a customer reply reopens a pending ticket');
      assert.equal(t.Conversation[3]!.StrippedText, 'Still broken.');
      // A reply with no Message-ID of its own, to the plain address, anchored by In-Reply-To.
      await sendToMx(
        server,
        mail({
          from: 'nic@ferrier.test',
          to: 'SUPPORT-7102@support.example',
          subject: 'Re: x',
          body: 'Also this.',
          id: null,
          extra: [`In-Reply-To: ${ourId}`],
        }),
        'nic@ferrier.test',
        ['SUPPORT-7102@support.example'],
      );
      await ticketWhen('SUPPORT-7102', 'the reply without a Message-ID', (t) => t.Conversation.length === 5);
      // The same message delivered twice is one entry.
      const twice = mail({
        from: 'nic@ferrier.test',
        to: replyTo,
        subject: 'Re: again',
        body: 'Once.',
        id: 'twice',
      });
      await sendToMx(server, twice, 'nic@ferrier.test', [replyTo]);
      await sendToMx(server, twice, 'nic@ferrier.test', [replyTo]);
      await ticketWhen('SUPPORT-7102', 'the duplicate', (t) => t.Conversation.length === 6);
      await sleep(300);
      assert.equal((await ticket('SUPPORT-7102')).Conversation.length, 6, 'the second copy added nothing');
      // Our next reply answers the last message, without piling up prefixes.
      await api('/tickets/SUPPORT-7102/replies', {
        method: 'POST',
        body: JSON.stringify({ Text: 'Fixed now.' }),
      });
      const ms = await outgoing('the second reply', (ms) => ms.length === 3);
      const second = sent(ms).find((m) => m.raw.includes('Fixed now.'))!;
      assert.equal(second.subject, "RE: I can't login!");
      assert.equal(header(second.raw, 'In-Reply-To'), '<twice@ferrier.test>');
    });

    it('never lets a stranger in: quoted numbers, guessed addresses and forged anchors', async () => {
      const ourId = header(reply.raw, 'Message-ID');
      const list = () => api<{ total: number; tickets: { Key: string }[] }>('/tickets');
      const before = (await list()).total;
      // Quoting the ticket number in the subject to new@ opens a ticket of its own.
      await sendToMx(
        server,
        mail({
          from: 'eve@stranger.test',
          to: 'new@support.example',
          subject: 'Re: [SUPPORT-7102] add me',
          body: 'Hi.',
        }),
        'eve@stranger.test',
        ['new@support.example'],
      );
      // Guessing ticket addresses, and a forged token, get nowhere: held.
      for (const to of [
        'SUPPORT-7102@support.example',
        'SUPPORT-7103@support.example',
        'SUPPORT-7102+aaaaaaaaaaaa@support.example',
      ])
        await sendToMx(
          server,
          mail({ from: 'eve@stranger.test', to, subject: 'Let me in', body: 'Hi.' }),
          'eve@stranger.test',
          [to],
        );
      // A forged In-Reply-To (our shape, a wrong MAC) to the plain address: held.
      await sendToMx(
        server,
        mail({
          from: 'eve@stranger.test',
          to: 'SUPPORT-7102@support.example',
          subject: 'Forged',
          body: 'Hi.',
          extra: ['In-Reply-To: <SUPPORT-7102.aaaaaaaaaa.aaaaaaaaaaaaaaaa@support.example>'],
        }),
        'eve@stranger.test',
        ['SUPPORT-7102@support.example'],
      );
      // A real Message-ID of ours, copied by someone who is not a participant: held, with the reason.
      await sendToMx(
        server,
        mail({
          from: 'eve@stranger.test',
          to: 'SUPPORT-7102@support.example',
          subject: 'Copied',
          body: 'Hi.',
          extra: [`In-Reply-To: ${ourId}`],
        }),
        'eve@stranger.test',
        ['SUPPORT-7102@support.example'],
      );
      const h = await heldWhen(5);
      assert.equal(h.length, 5, JSON.stringify(h));
      assert.ok(h.every((x) => x.From === 'eve@stranger.test'));
      assert.ok(
        h.some((x) => /not a participant of SUPPORT-7102/.test(x.Reason)),
        JSON.stringify(h),
      );
      assert.ok(
        h.some((x) => /no verifiable anchor \(sent to SUPPORT-7103\)/.test(x.Reason)),
        JSON.stringify(h),
      );
      const after = await list();
      assert.equal(after.total, before + 1, 'only the mail to new@ opened a ticket');
      const t = await ticket('SUPPORT-7102');
      assert.ok(!t.Participants.includes('eve@stranger.test'));
      assert.ok(!t.Conversation.some((e) => e.From.Address === 'eve@stranger.test'));
    });

    it('keeps automatic mail without reopening or acknowledging, and stops auto-responder loops', async () => {
      await api('/tickets/SUPPORT-7102', { method: 'PATCH', body: JSON.stringify({ State: 'solved' }) });
      const replyTo = /<([^>]+)>/.exec(header(reply.raw, 'Reply-To'))![1]!;
      const ourId = header(reply.raw, 'Message-ID');
      // Gmail's vacation responder, and Exchange's out-of-office reply.
      await sendToMx(
        server,
        mail({
          from: 'nic@ferrier.test',
          to: replyTo,
          subject: "Out of Office: RE: I can't login!",
          body: 'Away.',
          extra: ['Auto-Submitted: auto-replied', `In-Reply-To: ${ourId}`],
        }),
        'nic@ferrier.test',
        [replyTo],
      );
      await sendToMx(
        server,
        mail({
          from: 'nic@ferrier.test',
          to: replyTo,
          subject: "Automatic reply: RE: I can't login!",
          body: 'I am out of the office.',
          extra: [
            'X-Auto-Response-Suppress: All',
            'X-MS-Exchange-Inbox-Rules-Loop: nic@ferrier.test',
            `In-Reply-To: ${ourId}`,
          ],
        }),
        'nic@ferrier.test',
        [replyTo],
      );
      const t = await ticketWhen(
        'SUPPORT-7102',
        'the automatic replies',
        (t) => t.Conversation.filter((e) => e.Kind === 'automatic').length === 2,
      );
      assert.equal(t.State, 'solved', 'automatic mail does not reopen');
      assert.equal(t.Requester.Address, 'nic@ferrier.test');

      // A naive auto-responder that writes a fresh message to new@ for every message it gets: each
      // opens a ticket, but acknowledgements to it stop at the desk's cap (3 an hour).
      const before = sent(await mailWhen(server, 'count', () => true)).length;
      for (let i = 0; i < 5; i++) {
        await sendToMx(
          server,
          mail({
            from: 'bot@robot.test',
            to: 'new@support.example',
            subject: `Thanks for your mail ${i}`,
            body: 'Received.',
          }),
          'bot@robot.test',
          ['new@support.example'],
        );
      }
      await mailWhen(server, 'the acknowledgements', (ms) => sent(ms).length === before + 3);
      await sleep(500);
      const acks = sent(await mailWhen(server, 'count', () => true)).filter((m) =>
        m.rcptTo.includes('bot@robot.test'),
      );
      assert.equal(acks.length, 3, 'no more than 3 acknowledgements an hour to one address');
    });

    it('links a bounce of a ticket reply to the ticket without reopening it, and ignores our own mail', async () => {
      const ourId = header(reply.raw, 'Message-ID');
      const dsn = postfixDsn(ourId, 'nic@ferrier.test', '550 5.1.1 <nic@ferrier.test>: User unknown');
      await sendToMx(server, Buffer.from(dsn.replace(/\r?\n/g, '\r\n')), '', [reply.mailFrom]);
      const t = await ticketWhen('SUPPORT-7102', 'the bounce', (t) =>
        t.Conversation.some((e) => e.Kind === 'bounce'),
      );
      assert.equal(t.State, 'solved');
      assert.match(
        t.Conversation.find((e) => e.Kind === 'bounce')!.Note!,
        /nic@ferrier\.test: failed \(550 5\.1\.1/,
      );
      // Our own reply coming back in (a loop through a forwarder) adds nothing.
      const n = t.Conversation.length;
      await sendToMx(server, Buffer.from(reply.raw), reply.mailFrom, ['SUPPORT-7102@support.example']);
      await sleep(800);
      assert.equal((await ticket('SUPPORT-7102')).Conversation.length, n);
    });

    it('streams ticket events over SSE and resumes from Last-Event-ID', async () => {
      const page = await api<{ events: { Seq: number; ID: string; Type: string }[] }>(
        '/tickets/events?format=json',
      );
      const types = new Set(page.events.map((e) => e.Type));
      for (const t of [
        'ticket:created',
        'ticket:replied',
        'ticket:status_changed',
        'ticket:updated',
        'ticket:held',
      ])
        assert.ok(types.has(t), `${t} in ${[...types].join(', ')}`);
      assert.equal(new Set(page.events.map((e) => e.ID)).size, page.events.length, 'ids are unique');
      const middle = page.events[Math.floor(page.events.length / 2)]!;
      const ac = new AbortController();
      const res = await fetch(`${base}/tickets/events`, {
        headers: { 'Last-Event-ID': String(middle.Seq) },
        signal: ac.signal,
      });
      assert.equal(res.headers.get('content-type'), 'text/event-stream');
      const reader = res.body!.getReader();
      let text = '';
      const want = page.events.filter((e) => e.Seq > middle.Seq).length;
      while ((text.match(/^id: /gm) ?? []).length < want)
        text += Buffer.from((await reader.read()).value!).toString();
      const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
      assert.deepEqual(
        ids.slice(0, want),
        page.events.filter((e) => e.Seq > middle.Seq).map((e) => e.Seq),
        'the stream resumes right after Last-Event-ID, in order',
      );
      // A change made now arrives on the open stream.
      await api('/tickets/SUPPORT-7102', {
        method: 'PATCH',
        body: JSON.stringify({ Assignee: 'kim', Tags: ['login'] }),
      });
      while (!/event: ticket:updated\ndata: .*"assignee"/.test(text))
        text += Buffer.from((await reader.read()).value!).toString();
      ac.abort();
    });

    it('keeps the HTML, attachments and inline images of a ticket whose requester is the Reply-To', async () => {
      const png = Buffer.from(
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
        'base64',
      );
      const pdf = Buffer.from('%PDF-1.4\n% an invoice\n');
      const raw = Buffer.from(
        [
          'From: Billing Robot <robot@shop.test>',
          'Reply-To: Dana Buyer <dana@shop.test>',
          'To: new@support.example',
          'Subject: Invoice layout is broken',
          'Date: Mon, 23 Nov 2026 11:00:00 +0000',
          'Message-ID: <invoice-1@shop.test>',
          'MIME-Version: 1.0',
          'Content-Type: multipart/mixed; boundary="outer"',
          '',
          '--outer',
          'Content-Type: multipart/alternative; boundary="alt"',
          '',
          '--alt',
          'Content-Type: text/plain; charset=utf-8',
          '',
          'The totals column is cut off. Screenshot below.',
          '--alt',
          'Content-Type: multipart/related; boundary="rel"',
          '',
          '--rel',
          'Content-Type: text/html; charset=utf-8',
          '',
          '<p>The <b>totals</b> column is cut off.</p><img src="cid:shot@shop.test" alt="shot">',
          '--rel',
          'Content-Type: image/png',
          'Content-ID: <shot@shop.test>',
          'Content-Disposition: inline; filename="shot.png"',
          'Content-Transfer-Encoding: base64',
          '',
          png.toString('base64'),
          '--rel--',
          '--alt--',
          '--outer',
          'Content-Type: application/pdf; name="invoice.pdf"',
          'Content-Disposition: attachment; filename="invoice.pdf"',
          'Content-Transfer-Encoding: base64',
          '',
          pdf.toString('base64'),
          '--outer--',
          '',
        ].join('\r\n'),
      );
      await sendToMx(server, raw, 'robot@shop.test', ['new@support.example']);
      let found: TicketView | undefined;
      for (let i = 0; i < 300 && !found; i++) {
        const list = await api<{ tickets: TicketView[] }>('/tickets?query=invoice%20layout');
        found = list.tickets[0];
        if (!found) await sleep(50);
      }
      assert.ok(found, 'a ticket for the invoice mail');
      const t = await ticket(found.Key);
      assert.equal(t.Requester.Address, 'dana@shop.test', 'the Reply-To is the requester');
      const first = t.Conversation[0] as Entry & {
        ID: string;
        HasHTML: boolean;
        Attachments: { PartID: string; FileName: string; Inline: boolean; ContentID: string }[];
      };
      assert.equal(first.Kind, 'customer');
      assert.match(first.Text, /totals column is cut off/);
      assert.equal(first.HasHTML, true);
      const byName = new Map(first.Attachments.map((a) => [a.FileName, a]));
      assert.equal(byName.get('shot.png')?.Inline, true);
      assert.equal(byName.get('shot.png')?.ContentID, 'shot@shop.test');
      assert.equal(byName.get('invoice.pdf')?.Inline, false);

      // The inbox copy goes (as retention would take it): the ticket keeps every byte.
      const del = await fetch(`${base}/messages`, { method: 'DELETE' });
      assert.equal(del.status, 200);
      const part = await fetch(
        `${base}/tickets/${t.Key}/entries/${first.ID}/part/${byName.get('invoice.pdf')!.PartID}`,
      );
      assert.equal(part.status, 200);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), pdf);
      const view = await fetch(`${base}/tickets/${t.Key}/entries/${first.ID}/view.html`);
      assert.equal(view.status, 200);
      const html = await view.text();
      assert.match(html, /<b>totals<\/b>/);
      assert.doesNotMatch(html, /src="cid:/, 'the inline image is served with the HTML');
      assert.match(
        html,
        new RegExp(
          png
            .toString('base64')
            .slice(0, 20)
            .replace(/[+/]/g, (c) => `\\${c}`),
        ),
      );
    });
  });
}
