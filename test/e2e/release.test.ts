// Release end to end: Mailroom processes capture mail over SMTP and POST /api/v1/message/{ID}/release
// sends it on to a real Postfix on loopback (test/helpers/postfix.ts, the final destination for
// inbox.test) and to a scripted server that requires AUTH. The copy Postfix stores is the stored
// message byte for byte, Bcc gone, From and envelope sender rewritten only with --release-from;
// each attempt is an event in the message's history; the allow and block lists refuse before
// anything is sent; the server's refusals come back as 502; credentials never reach the log.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { tempDir } from '../helpers/backends.ts';
import { type PostfixMailbox, type StoredMail, startPostfixMailbox } from '../helpers/postfix.ts';
import { type MailroomOnEngine, mailroomOn } from '../helpers/process.ts';
import { readData } from '../helpers/smtp-peer.ts';

const DOMAIN = 'inbox.test';
const ENVELOPE_FROM = 'bounces@example.test';

interface Problem {
  type: string;
  status: number;
  detail: string;
}

interface RoutingEvent {
  Type: string;
  Data: {
    Server: string;
    MailFrom: string;
    FromRewritten: boolean;
    Reply: string;
    Recipients: { Address: string; Outcome: string; Reply: string }[];
  };
}

/** A message with what a release must keep (folding, 8bit, a leading dot) and drop (Bcc). */
function message(tag: string): string {
  return [
    'From: Shop <shop@example.test>',
    'To: Tester <tester@example.test>',
    'Bcc: hidden@example.test,',
    ' other-hidden@example.test',
    `Subject: Release ${tag} =?UTF-8?B?w6lsw6k=?=`,
    `Message-ID: <${tag}@example.test>`,
    'Date: Mon, 01 Jun 2026 10:00:00 +0000',
    'X-Folded: first part',
    '\tsecond part',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    `Hello, this is ${tag}: ünïcödé.`,
    '.a line that starts with a dot',
    '',
  ].join('\r\n');
}

/** The stored bytes as a release should send them. */
function released(raw: string, from?: string): string {
  let out = raw.replace('Bcc: hidden@example.test,\r\n other-hidden@example.test\r\n', '');
  assert.notEqual(out, raw, 'the Bcc field was there to drop');
  if (from) out = out.replace('From: Shop <shop@example.test>\r\n', `From: ${from}\r\n`);
  return out;
}

/**
 * The message as it reached Postfix: the stored file (LF line endings, as virtual(8) writes) with
 * CRLF restored, after the fields Postfix put on top, which may only be its own trace fields.
 */
function assertArrived(m: StoredMail, expected: string): void {
  const text = m.raw.toString('latin1').replace(/\n/g, '\r\n');
  assert.ok(text.endsWith(expected), `arrived changed:\n${text}\n--- expected ending:\n${expected}`);
  const added = text
    .slice(0, text.length - expected.length)
    .split(/\r\n(?![ \t])/)
    .filter(Boolean)
    .map((f) => f.slice(0, f.indexOf(':')).toLowerCase());
  assert.ok(added.length > 0);
  for (const name of added)
    assert.ok(['return-path', 'x-original-to', 'delivered-to', 'received'].includes(name), name);
}

async function capture(server: MailroomOnEngine, tag: string): Promise<{ id: string; raw: string }> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: server.smtpPort,
    secure: false,
    ignoreTLS: true,
  });
  try {
    const raw = message(tag);
    const info = await transport.sendMail({
      envelope: { from: ENVELOPE_FROM, to: ['tester@example.test'] },
      raw,
    });
    const id = /queued as ([0-9A-Za-z]{22})/.exec(info.response)?.[1];
    assert.ok(id, info.response);
    // As bytes, one character each, the way the stored files are read.
    return { id, raw: Buffer.from(raw).toString('latin1') };
  } finally {
    transport.close();
  }
}

async function post(server: MailroomOnEngine, route: string, body: unknown, accept?: string) {
  const res = await fetch(`${server.base}${route}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(accept ? { Accept: accept } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text };
}

async function events(server: MailroomOnEngine, id: string): Promise<RoutingEvent[]> {
  const res = await fetch(`${server.base}/api/v1/message/${id}/routing`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { Events: RoutingEvent[] }).Events;
}

const byMessageId = (tag: string) => (m: StoredMail) => m.header('message-id')[0] === `<${tag}@example.test>`;

describe('release to a real Postfix', () => {
  let postfix: PostfixMailbox;
  let server: MailroomOnEngine;

  before(async () => {
    postfix = await startPostfixMailbox({ domain: DOMAIN, users: ['ann', 'bob', 'carol'] });
    server = await mailroomOn('sqlite', [
      ...['--release-host', `127.0.0.1:${postfix.port}`, '--release-tls', 'none'],
      ...['--release-allow', `*@${DOMAIN}`, '--release-block', `bob@${DOMAIN},/^blocked-[0-9]+@/`],
    ]);
  });
  after(async () => {
    await server?.dispose();
    await postfix?.stop();
  });

  it('arrives byte for byte (Bcc dropped), from the envelope sender it came with, once per recipient', async () => {
    const { id, raw } = await capture(server, 'intact');
    const r = await post(server, `/api/v1/message/${id}/release`, {
      To: [`Ann <ann@${DOMAIN}>`, `carol@${DOMAIN}`, `ANN@${DOMAIN}`],
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, 'ok');
    const [toAnn] = await postfix.waitForMail((m) => m.user === 'ann' && byMessageId('intact')(m));
    const [toCarol] = await postfix.waitForMail((m) => m.user === 'carol' && byMessageId('intact')(m));
    for (const m of [toAnn!, toCarol!]) {
      assertArrived(m, released(raw));
      assert.deepEqual(m.header('return-path'), [`<${ENVELOPE_FROM}>`]);
    }
    const [event, ...more] = await events(server, id);
    assert.equal(more.length, 0);
    assert.equal(event!.Type, 'release:succeeded');
    assert.equal(event!.Data.Server, `127.0.0.1:${postfix.port}`);
    assert.equal(event!.Data.MailFrom, ENVELOPE_FROM);
    assert.equal(event!.Data.FromRewritten, false);
    assert.deepEqual(
      event!.Data.Recipients.map((x) => [x.Address, x.Outcome]),
      [
        [`ann@${DOMAIN}`, 'delivered'],
        [`carol@${DOMAIN}`, 'delivered'],
      ],
    );
    assert.match(event!.Data.Reply, /^250 2\.0\.0 Ok: queued as /);
  });

  it('answers JSON when asked, and takes `latest`', async () => {
    const { id } = await capture(server, 'json');
    const r = await post(
      server,
      '/api/v1/message/latest/release',
      { To: [`carol@${DOMAIN}`] },
      'application/json',
    );
    assert.equal(r.status, 200, r.text);
    const body = JSON.parse(r.text) as { ID: string; MailFrom: string; To: string[]; Reply: string };
    assert.equal(body.ID, id);
    assert.equal(body.MailFrom, ENVELOPE_FROM);
    assert.deepEqual(body.To, [`carol@${DOMAIN}`]);
    assert.match(body.Reply, /^250 /);
    await postfix.waitForMail((m) => m.user === 'carol' && byMessageId('json')(m));
  });

  it('the lists and bad requests refuse the whole request before anything is sent, and record nothing', async () => {
    const { id } = await capture(server, 'refused');
    const cases: [unknown, number, RegExp][] = [
      [{ To: [`bob@${DOMAIN}`] }, 400, /bob@inbox\.test matches the block list \(bob@inbox\.test\)/],
      [{ To: [`blocked-7@${DOMAIN}`] }, 400, /matches the block list \(\/\^blocked-\[0-9\]\+@\/\)/],
      [{ To: ['ann@elsewhere.test'] }, 400, /ann@elsewhere\.test matches nothing in the allow list/],
      [{ To: [`ann@${DOMAIN}`, `bob@${DOMAIN}`] }, 400, /^Nothing was released: bob@inbox\.test/],
      [{ To: ['not an address'] }, 400, /not an address is not a plain address/],
      [{ To: [] }, 400, /To/],
      [{ To: `ann@${DOMAIN}` }, 400, /To/],
      [{}, 400, /To/],
      [{ To: [`ann@${DOMAIN}`], Cc: [] }, 400, /Cc/],
      ['{"To": [', 400, /not valid JSON/],
    ];
    for (const [body, status, detail] of cases) {
      const r = await post(server, `/api/v1/message/${id}/release`, body);
      assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.text}`);
      assert.match(r.type, /^application\/problem\+json/);
      assert.match((JSON.parse(r.text) as Problem).detail, detail, JSON.stringify(body));
    }
    const missing = await post(server, `/api/v1/message/${'A'.repeat(22)}/release`, {
      To: [`ann@${DOMAIN}`],
    });
    assert.equal(missing.status, 404);
    assert.deepEqual(await events(server, id), []);
    // A release after the refusals: the only copy of this message Postfix ever gets.
    assert.equal(
      (await post(server, `/api/v1/message/${id}/release`, { To: [`ann@${DOMAIN}`] })).status,
      200,
    );
    await postfix.waitForMail((m) => m.user === 'ann' && byMessageId('refused')(m));
    assert.equal(postfix.messages().filter(byMessageId('refused')).length, 1);
  });

  it("the server's refusal is a 502 naming each recipient, recorded as release:failed", async () => {
    const { id } = await capture(server, 'unknown-user');
    const r = await post(server, `/api/v1/message/${id}/release`, { To: [`nobody@${DOMAIN}`] });
    assert.equal(r.status, 502, r.text);
    assert.match((JSON.parse(r.text) as Problem).detail, /nobody@inbox\.test: 550 5\.1\.1 /);
    const partial = await post(server, `/api/v1/message/${id}/release`, {
      To: [`carol@${DOMAIN}`, `nobody@${DOMAIN}`],
    });
    assert.equal(partial.status, 502, partial.text);
    assert.match((JSON.parse(partial.text) as Problem).detail, /it did take it for carol@inbox\.test\.$/);
    await postfix.waitForMail((m) => m.user === 'carol' && byMessageId('unknown-user')(m));
    const recorded = await events(server, id);
    assert.deepEqual(
      recorded.map((e) => e.Type),
      ['release:failed', 'release:failed'],
    );
    assert.deepEqual(
      recorded[1]!.Data.Recipients.map((x) => [x.Address, x.Outcome]),
      [
        [`carol@${DOMAIN}`, 'delivered'],
        [`nobody@${DOMAIN}`, 'bounced'],
      ],
    );
  });

  it('chaos is off without --chaos-enabled: 409 problem JSON', async () => {
    const res = await fetch(`${server.base}/api/v1/chaos`);
    assert.equal(res.status, 409);
    assert.match(((await res.json()) as Problem).detail, /--chaos-enabled/);
  });

  describe('with --release-from', () => {
    let rewriting: MailroomOnEngine;
    before(async () => {
      rewriting = await mailroomOn('sqlite', [
        ...['--release-host', `127.0.0.1:${postfix.port}`, '--release-tls', 'none'],
        ...['--release-from', `rel@${DOMAIN}`],
      ]);
    });
    after(async () => rewriting?.dispose());

    it('From and the envelope sender are rewritten, everything else arrives as stored', async () => {
      const { id, raw } = await capture(rewriting, 'rewritten');
      const r = await post(rewriting, `/api/v1/message/${id}/release`, { To: [`ann@${DOMAIN}`] });
      assert.equal(r.status, 200, r.text);
      const [m] = await postfix.waitForMail(byMessageId('rewritten'));
      assertArrived(m!, released(raw, `rel@${DOMAIN}`));
      assert.deepEqual(m!.header('return-path'), [`<rel@${DOMAIN}>`]);
      assert.deepEqual(m!.header('from'), [`rel@${DOMAIN}`]);
      const [event] = await events(rewriting, id);
      assert.equal(event!.Data.FromRewritten, true);
      assert.equal(event!.Data.MailFrom, `rel@${DOMAIN}`);
      const webui = (await (await fetch(`${rewriting.base}/api/v1/webui`)).json()) as {
        MessageRelay: { Enabled: boolean; OverrideFrom: string };
      };
      assert.equal(webui.MessageRelay.Enabled, true);
      assert.equal(webui.MessageRelay.OverrideFrom, `rel@${DOMAIN}`);
    });
  });
});

describe('release to a server that requires AUTH (password from a file)', () => {
  const PASSWORD = 'release-secret-Zq81x';
  const received: { user: string; mailFrom: string; to: string[]; data: string }[] = [];
  let peer: SMTPServer;
  let server: MailroomOnEngine;
  let dir: string;

  before(async () => {
    peer = new SMTPServer({
      authOptional: false,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth(auth, _session, cb) {
        if (auth.username === 'releaser' && auth.password === PASSWORD) cb(null, { user: 'releaser' });
        else cb(Object.assign(new Error('5.7.8 bad credentials'), { responseCode: 535 }));
      },
      onData(stream, session, cb) {
        void readData(stream, 'latin1').then((data) => {
          if (data.includes('Subject: Release refuse-me')) {
            cb(Object.assign(new Error('5.7.1 not this one'), { responseCode: 554 }));
            return;
          }
          received.push({
            user: String(session.user),
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            data,
          });
          cb(null);
        });
      },
    });
    await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
    dir = tempDir();
    const passwordFile = path.join(dir, 'release-password');
    fs.writeFileSync(passwordFile, `${PASSWORD}\n`);
    const port = (peer.server.address() as net.AddressInfo).port;
    server = await mailroomOn('sqlite', [
      ...['--release-host', `127.0.0.1:${port}`, '--release-tls', 'none'],
      ...['--release-user', 'releaser', '--release-password-file', passwordFile],
    ]);
  });
  after(async () => {
    await server?.dispose();
    await new Promise<void>((r) => peer?.close(() => r()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('logs in, sends the stored bytes, and the password appears in no log line or API answer', async () => {
    const { id, raw } = await capture(server, 'auth');
    const r = await post(server, `/api/v1/message/${id}/release`, { To: ['someone@example.test'] });
    assert.equal(r.status, 200, r.text);
    assert.equal(received.length, 1);
    assert.deepEqual(received[0]!.user, 'releaser');
    assert.equal(received[0]!.mailFrom, ENVELOPE_FROM);
    assert.deepEqual(received[0]!.to, ['someone@example.test']);
    assert.equal(received[0]!.data, released(raw));
    const refused = await capture(server, 'refuse-me');
    const failed = await post(server, `/api/v1/message/${refused.id}/release`, {
      To: ['someone@example.test'],
    });
    assert.equal(failed.status, 502);
    assert.match(
      (JSON.parse(failed.text) as Problem).detail,
      /someone@example\.test: 554 5\.7\.1 not this one/,
    );
    const webui = await (await fetch(`${server.base}/api/v1/webui`)).text();
    for (const text of [server.output.join('\n'), webui, JSON.stringify(await events(server, id))]) {
      assert.ok(!text.includes(PASSWORD), 'the password leaked');
    }
    assert.ok(server.output.some((l) => l.includes('"message released"')));
  });
});
