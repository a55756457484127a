// Main acceptance: three real clients deliver through the three listeners, on every backend; the
// stored bytes are exactly what was sent (after dot-unstuffing) and the envelope is right.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import nodemailer from 'nodemailer';
import { BACKENDS } from '../helpers/backends.ts';
import { PY_INSECURE_CTX, python, run } from './clients.ts';
import { type Harness, startHarness, storedMessages, USERS } from './harness.ts';

// swaks ends the data with CRLF itself, so the file has no final line break.
const SWAKS_BODY = 'Subject: via swaks\r\nFrom: s@example.test\r\n\r\n.a line that starts with a dot\r\nend';

for (const backend of BACKENDS) {
  describe(`smtp acceptance (${backend.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(backend);
    });
    after(async () => h.close());

    test('swaks over the plain listener: bytes and envelope', async () => {
      const file = path.join(h.dataDir, 'swaks.eml');
      fs.writeFileSync(file, SWAKS_BODY);
      const r = await run('swaks', [
        ...['--server', `127.0.0.1:${h.ports.smtp}`, '--helo', 'swaks.example.test'],
        ...['--from', 'sender@example.test', '--to', 'a@example.test,b@example.test', '--data', file],
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /250 2\.0\.0 Ok: queued as [0-9A-Za-z]{22}/);
      const [m] = (await storedMessages(h.storage)).filter(
        (x) => x.summary.envelope.helo === 'swaks.example.test',
      );
      assert.ok(m, 'message stored');
      assert.equal(m.raw.toString('latin1'), `${SWAKS_BODY}\r\n`);
      const env = m.summary.envelope;
      assert.equal(env.mailFrom, 'sender@example.test');
      assert.deepEqual(env.rcptTo, ['a@example.test', 'b@example.test']);
      assert.equal(env.clientIp, '127.0.0.1');
      assert.ok(env.clientPort > 0);
      assert.equal(env.tls, null);
      assert.equal(env.authUser, null);
      assert.equal(env.listener, 'smtp');
      assert.match(env.receivedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(env.sessionId.length > 0);
    });

    test('Python smtplib: STARTTLS + AUTH on submission, null sender', async () => {
      const body = 'Subject: via smtplib\r\nX-Test: 1\r\n\r\n..two dots\r\n.\r\nlast line\r\n';
      const script = `${PY_INSECURE_CTX}s = smtplib.SMTP('127.0.0.1', ARGS['port'], local_hostname='py.example.test')
s.starttls(context=ctx)
s.login(ARGS['user'], ARGS['password'])
s.sendmail('<>', ['rcpt@example.test'], ARGS['body'].encode())
s.quit()
`;
      const r = await python(script, { port: h.ports.submission, ...USERS.scrypt, body });
      assert.equal(r.code, 0, r.stderr);
      const [m] = (await storedMessages(h.storage)).filter(
        (x) => x.summary.envelope.helo === 'py.example.test',
      );
      assert.ok(m, 'message stored');
      assert.equal(m.raw.toString('latin1'), body);
      const env = m.summary.envelope;
      assert.equal(env.mailFrom, '');
      assert.deepEqual(env.rcptTo, ['rcpt@example.test']);
      assert.equal(env.authUser, USERS.scrypt.user);
      assert.equal(env.listener, 'submission');
      assert.match(env.tls?.protocol ?? '', /^TLSv1\.[23]$/);
      assert.ok(env.tls?.cipher);
    });

    test('nodemailer with an attachment over implicit TLS (smtps)', async () => {
      const mail = {
        from: 'app@example.test',
        to: 'user@example.test',
        subject: 'with attachment',
        text: 'See the attachment.\n.\nA dot line above.',
        attachments: [
          { filename: 'data.bin', content: Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 256)) },
        ],
      };
      const built = await nodemailer
        .createTransport({ streamTransport: true, buffer: true, newline: 'windows' })
        .sendMail(mail);
      const raw = built.message as Buffer;
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: h.ports.smtps,
        secure: true,
        name: 'nodemailer.example.test',
        auth: { user: USERS.bcrypt.user, pass: USERS.bcrypt.password },
        tls: { rejectUnauthorized: false },
      });
      const info = await transport.sendMail({ envelope: { from: mail.from, to: [mail.to] }, raw });
      transport.close();
      assert.match(info.response, /^250 2\.0\.0 Ok: queued as /);
      const [m] = (await storedMessages(h.storage)).filter((x) => x.summary.envelope.listener === 'smtps');
      assert.ok(m, 'message stored');
      assert.ok(m.raw.equals(raw), 'stored bytes equal the bytes nodemailer built');
      assert.equal(m.summary.envelope.authUser, USERS.bcrypt.user);
      assert.equal(m.summary.envelope.helo, 'nodemailer.example.test');
      assert.ok(m.summary.envelope.tls);
      assert.equal(h.metrics.sessions.get({ listener: 'smtps' }), 1);
      assert.equal(h.metrics.messagesAccepted.get({ listener: 'smtps' }), 1);
    });
  });
}
