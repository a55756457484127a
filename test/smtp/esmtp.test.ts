// ESMTP over the real smtp role (SQLite only): the extensions offered before and after STARTTLS,
// plaintext pipelined behind STARTTLS, AUTH exchanges (initial responses, continuation lines,
// cancel), MAIL/RCPT parameters, RSET, pipelining order, HTTP request lines, and enhanced status
// codes on every reply that should carry one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BACKENDS } from '../helpers/backends.ts';
import { type Harness, startHarness, storedMessages, USERS, waitFor } from './harness.ts';
import { RawClient, type Reply } from './raw-client.ts';

const sqlite = BACKENDS.find((b) => b.name === 'sqlite')!;
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const HOST = 'mx.mailroom.test';
/** RFC 3463 enhanced status code at the start of a reply line's text. */
const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;

/** EHLO, STARTTLS, the handshake and a new EHLO; returns the client and the second EHLO reply. */
async function overTls(port: number): Promise<{ client: RawClient; ehlo: Reply }> {
  const { client } = await RawClient.ready(port);
  const r = await client.command('STARTTLS');
  assert.equal(r.text, '220 2.0.0 Ready to start TLS');
  await client.startTls();
  const ehlo = await client.command('EHLO client.example.test');
  assert.equal(ehlo.code, 250, ehlo.text);
  return { client, ehlo };
}

/** Writes `data` and returns the bytes of the next reply exactly as they came (one line). */
async function rawReplyLine(client: RawClient, data: string): Promise<string> {
  client.write(data);
  await waitFor(() => client.unread.includes('\n'), 'a reply line');
  return client.unread.slice(0, client.unread.indexOf('\n') + 1);
}

/** The stored message whose queue id is in `queued` (the 250 reply text). */
async function storedFor(h: Harness, queued: string) {
  const id = /queued as (\S+)/.exec(queued)?.[1];
  assert.ok(id, queued);
  let found: Awaited<ReturnType<typeof storedMessages>>[number] | undefined;
  await waitFor(async () => {
    found = (await storedMessages(h.storage)).find((m) => m.summary.id === id);
    return found !== undefined;
  }, `message ${id}`);
  return found!;
}

describe('esmtp', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(sqlite, { flags: ['--max-bad-commands', '100'] });
  });
  after(async () => h.close());

  describe('EHLO and STARTTLS', () => {
    test('EHLO on the plain listener offers STARTTLS but neither AUTH nor DSN', async () => {
      const { client, ehlo } = await RawClient.ready(h.ports.smtp);
      assert.equal(ehlo.code, 250);
      assert.deepEqual(ehlo.lines, [
        HOST,
        'PIPELINING',
        `SIZE ${h.config.maxMessageSize}`,
        '8BITMIME',
        'SMTPUTF8',
        'ENHANCEDSTATUSCODES',
        'STARTTLS',
      ]);
      assert.ok(!ehlo.lines.some((l) => /^AUTH\b/i.test(l)), ehlo.text);
      assert.ok(!ehlo.lines.some((l) => /^DSN\b/i.test(l)), ehlo.text);
      client.destroy();
    });

    test('HELO answers with the host name alone', async () => {
      const client = await RawClient.connect(h.ports.smtp);
      assert.equal((await client.reply()).code, 220);
      assert.equal((await client.command('HELO client.example.test')).text, `250 ${HOST}`);
      assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250);
      client.destroy();
    });

    test('after STARTTLS, EHLO offers AUTH PLAIN LOGIN and no longer STARTTLS', async () => {
      const { client, ehlo } = await overTls(h.ports.smtp);
      assert.deepEqual(ehlo.lines, [
        HOST,
        'PIPELINING',
        `SIZE ${h.config.maxMessageSize}`,
        '8BITMIME',
        'SMTPUTF8',
        'ENHANCEDSTATUSCODES',
        'AUTH PLAIN LOGIN',
      ]);
      assert.match((await client.command('STARTTLS')).text, /^503 5\.5\.1 /);
      client.destroy();
    });

    test('commands pipelined in plaintext behind STARTTLS are never answered nor run', async () => {
      const before = (await storedMessages(h.storage)).length;
      const { client } = await RawClient.ready(h.ports.smtp);
      client.write(
        'STARTTLS\r\nMAIL FROM:<injected@example.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n' +
          'Subject: injected\r\n\r\nx\r\n.\r\nNOOP\r\n',
      );
      assert.equal((await client.reply()).text, '220 2.0.0 Ready to start TLS');
      await sleep(100);
      assert.equal(client.unread, '', 'no plaintext reply after the 220');
      await client.startTls();
      // The session forgot the EHLO (RFC 3207 §4.2): MAIL first gets 503.
      assert.match((await client.command('MAIL FROM:<a@example.test>')).text, /^503 5\.5\.1 /);
      assert.equal((await client.command('EHLO again.example.test')).code, 250);
      // No transaction came through from the injected MAIL FROM.
      assert.match((await client.command('RCPT TO:<x@example.test>')).text, /^503 5\.5\.1 /);
      assert.match((await client.command('DATA')).text, /^503 5\.5\.1 /);
      assert.equal((await client.command('NOOP')).text, '250 2.0.0 OK');
      assert.equal(client.unread, '');
      client.destroy();
      assert.equal((await storedMessages(h.storage)).length, before);
    });

    test('after STARTTLS, MAIL without a new EHLO gets 503', async () => {
      const { client } = await RawClient.ready(h.ports.smtp);
      assert.equal((await client.command('STARTTLS')).code, 220);
      await client.startTls();
      assert.match((await client.command('MAIL FROM:<a@example.test>')).text, /^503 5\.5\.1 /);
      assert.equal((await client.command('HELO client.example.test')).code, 250);
      assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250);
      client.destroy();
    });
  });

  describe('AUTH', () => {
    const { user, password } = USERS.scrypt;

    test('AUTH LOGIN with the username as initial response asks for the password only', async () => {
      const { client } = await overTls(h.ports.submission);
      const r = await client.command(`AUTH LOGIN ${b64(user)}`);
      assert.equal(r.text, '334 UGFzc3dvcmQ6');
      assert.equal((await client.command(b64(password))).text, '235 2.7.0 Authentication successful');
      assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250);
      client.destroy();
    });

    test('AUTH LOGIN without initial response asks for the username, then the password', async () => {
      const { client } = await overTls(h.ports.submission);
      assert.equal((await client.command('AUTH LOGIN')).text, '334 VXNlcm5hbWU6');
      assert.equal((await client.command(b64(user))).text, '334 UGFzc3dvcmQ6');
      assert.equal((await client.command(b64(password))).code, 235);
      client.destroy();
    });

    test('AUTH PLAIN with the response on a second line after an empty challenge', async () => {
      const { client } = await overTls(h.ports.submission);
      const challenge = await client.command('AUTH PLAIN');
      assert.equal(challenge.code, 334);
      assert.deepEqual(challenge.lines, [''], 'the PLAIN challenge is empty');
      const r = await client.command(b64(`\0${user}\0${password}`));
      assert.equal(r.text, '235 2.7.0 Authentication successful');
      assert.match((await client.command('AUTH PLAIN')).text, /^503 5\.5\.1 /, 'no second AUTH');
      client.destroy();
    });

    test('the empty PLAIN challenge is "334 " with its space (RFC 4954 §4 continue-req)', async () => {
      const { client } = await overTls(h.ports.submission);
      // continue-req = "334" SP [base64] CRLF
      assert.equal(await rawReplyLine(client, 'AUTH PLAIN\r\n'), '334 \r\n');
      client.destroy();
    });

    test('"*" cancels an AUTH exchange at any step with 501; the session goes on', async () => {
      const { client } = await overTls(h.ports.submission);
      assert.equal((await client.command('AUTH LOGIN')).code, 334);
      assert.equal((await client.command('*')).text, '501 5.0.0 Authentication canceled');
      assert.equal((await client.command('AUTH PLAIN')).code, 334);
      assert.equal((await client.command('*')).text, '501 5.0.0 Authentication canceled');
      assert.equal((await client.command(`AUTH LOGIN ${b64(user)}`)).code, 334);
      assert.equal((await client.command('*')).text, '501 5.0.0 Authentication canceled');
      // The line after a cancel is a command again, not a SASL response.
      assert.equal((await client.command('NOOP')).text, '250 2.0.0 OK');
      // Cancels are not failed logins: AUTH still works (3 failures would close the session).
      assert.equal((await client.command(`AUTH PLAIN ${b64(`\0${user}\0${password}`)}`)).code, 235);
      client.destroy();
    });

    test('a SASL response that is not base64 gets 501 5.5.2', async () => {
      const { client } = await overTls(h.ports.submission);
      assert.equal((await client.command('AUTH LOGIN')).code, 334);
      assert.match((await client.command('not base64!')).text, /^501 5\.5\.2 /);
      assert.match((await client.command('AUTH PLAIN !!!')).text, /^501 5\.5\.2 /);
      assert.match((await client.command('AUTH CRAM-MD5')).text, /^504 5\.5\.4 /);
      client.destroy();
    });
  });

  describe('MAIL and RCPT parameters', () => {
    test('unknown MAIL FROM parameters get 555 5.5.4', async () => {
      const { client } = await RawClient.ready(h.ports.smtp);
      for (const param of ['RET=FULL', 'ENVID=abc', 'X-FOO']) {
        const r = await client.command(`MAIL FROM:<a@example.test> ${param}`);
        assert.equal(r.code, 555, `${param}: ${r.text}`);
        assert.match(r.text, /^555 5\.5\.4 /, param);
      }
      assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250, 'no transaction was open');
      client.destroy();
    });

    test('unknown RCPT TO parameters get 555 5.5.4 and add no recipient', async () => {
      const { client } = await RawClient.ready(h.ports.smtp);
      assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250);
      for (const param of ['NOTIFY=NEVER', 'ORCPT=rfc822;b+2Bx@example.test']) {
        const r = await client.command(`RCPT TO:<b@example.test> ${param}`);
        assert.match(r.text, /^555 5\.5\.4 /, param);
      }
      assert.match((await client.command('DATA')).text, /^503 5\.5\.1 /, 'no recipient yet');
      assert.equal((await client.command('RCPT TO:<b@example.test>')).code, 250);
      client.destroy();
    });

    test('BODY=8BITMIME with SIZE= is accepted and 8-bit data is stored byte for byte', async () => {
      const { client } = await RawClient.ready(h.ports.smtp);
      const body = Buffer.concat([
        Buffer.from('Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'),
        Buffer.from('Grüße, Jörg\r\n', 'utf8'),
      ]);
      const r = await client.command(`MAIL FROM:<eight@example.test> BODY=8BITMIME SIZE=${body.length}`);
      assert.equal(r.text, '250 2.1.0 Accepted');
      assert.equal((await client.command('RCPT TO:<rcpt@example.test>')).code, 250);
      assert.equal((await client.command('DATA')).code, 354);
      client.write(Buffer.concat([body, Buffer.from('.\r\n')]));
      const queued = await client.reply();
      assert.match(queued.text, /^250 2\.0\.0 /);
      const m = await storedFor(h, queued.text);
      assert.deepEqual(m.raw, body);
      client.destroy();
    });

    test('BODY=7BIT (any case) and SIZE=0 are accepted', async () => {
      const { client } = await RawClient.ready(h.ports.smtp);
      assert.equal((await client.command('MAIL FROM:<a@example.test> body=7bit size=0')).code, 250);
      client.destroy();
    });

    test('BODY=BINARYMIME and bad or duplicate SIZE are refused with 501 5.5.4', async () => {
      const { client } = await RawClient.ready(h.ports.smtp);
      for (const params of [
        'BODY=BINARYMIME',
        'BODY=8BIT',
        'SIZE=abc',
        'SIZE=-1',
        'SIZE',
        'SIZE=',
        'SIZE=1 SIZE=1',
      ]) {
        const r = await client.command(`MAIL FROM:<a@example.test> ${params}`);
        assert.match(r.text, /^501 5\.5\.4 /, params);
      }
      client.destroy();
    });
  });

  describe('transactions', () => {
    test('RSET ends a transaction; the next one starts clean', async () => {
      const { client } = await RawClient.ready(h.ports.smtp);
      assert.equal((await client.command('MAIL FROM:<first@example.test>')).code, 250);
      assert.equal((await client.command('RCPT TO:<one@example.test>')).code, 250);
      assert.equal((await client.command('RSET')).text, '250 2.0.0 Flushed');
      assert.match((await client.command('RCPT TO:<x@example.test>')).text, /^503 5\.5\.1 /);
      assert.match((await client.command('DATA')).text, /^503 5\.5\.1 /);
      assert.equal((await client.command('MAIL FROM:<second@example.test>')).code, 250, 'not nested');
      assert.equal((await client.command('RCPT TO:<two@example.test>')).code, 250);
      assert.equal((await client.command('DATA')).code, 354);
      const queued = await client.command('Subject: rset\r\n\r\nafter RSET\r\n.');
      assert.match(queued.text, /^250 2\.0\.0 /);
      const m = await storedFor(h, queued.text);
      assert.equal(m.summary.envelope.mailFrom, 'second@example.test');
      assert.deepEqual(m.summary.envelope.rcptTo, ['two@example.test']);
      // After the message, a new MAIL starts a new transaction without RSET.
      assert.equal((await client.command('MAIL FROM:<third@example.test>')).code, 250);
      assert.equal((await client.command('RSET')).code, 250);
      assert.equal((await client.command('RSET')).code, 250, 'RSET outside a transaction is fine');
      client.destroy();
    });

    test('pipelined MAIL, RCPT, RCPT, RCPT, DATA in one write: replies in order', async () => {
      const { client } = await RawClient.ready(h.ports.smtp);
      client.write(
        'MAIL FROM:<pipe@example.test>\r\nRCPT TO:<p1@example.test>\r\nRCPT TO:<bad@>\r\n' +
          'RCPT TO:<p2@example.test>\r\nDATA\r\n',
      );
      const replies: string[] = [];
      for (let i = 0; i < 5; i++) replies.push((await client.reply()).text);
      assert.deepEqual(
        replies.map((r) => r.slice(0, 9)),
        ['250 2.1.0', '250 2.1.5', '501 5.1.3', '250 2.1.5', '354 End d'],
        replies.join(' | '),
      );
      const queued = await client.command('Subject: pipelined\r\n\r\nhi\r\n.');
      assert.match(queued.text, /^250 2\.0\.0 /);
      const m = await storedFor(h, queued.text);
      assert.deepEqual(m.summary.envelope.rcptTo, ['p1@example.test', 'p2@example.test']);
      client.destroy();
    });

    test('a whole session in one write: every reply, in order, then the close', async () => {
      const { client } = await RawClient.ready(h.ports.smtp);
      client.write(
        'MAIL FROM:<whole@example.test>\r\nRCPT TO:<w1@example.test>\r\nRCPT TO:<w2@example.test>\r\nDATA\r\n' +
          'Subject: whole\r\n\r\n..dot\r\n.\r\nNOOP\r\nQUIT\r\n',
      );
      const codes: number[] = [];
      for (let i = 0; i < 7; i++) codes.push((await client.reply()).code);
      assert.deepEqual(codes, [250, 250, 250, 354, 250, 250, 221]);
      await client.closed;
      const m = (await storedMessages(h.storage)).find(
        (x) => x.summary.envelope.mailFrom === 'whole@example.test',
      );
      assert.equal(m?.raw.toString('latin1'), 'Subject: whole\r\n\r\n.dot\r\n');
    });
  });

  describe('HTTP and enhanced status codes', () => {
    test('an HTTP request line gets 421 4.7.0 and the connection closes', async () => {
      const client = await RawClient.connect(h.ports.smtp);
      assert.equal((await client.reply()).code, 220);
      client.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
      const r = await client.reply();
      assert.equal(r.text, '421 4.7.0 HTTP requests not allowed here');
      await client.closed;
      assert.equal(client.unread, '', 'no reply to the header lines');
    });

    test('an HTTP POST after EHLO gets 421 too', async () => {
      const { client } = await RawClient.ready(h.ports.smtp);
      client.write('POST /submit HTTP/1.0\r\nContent-Length: 0\r\n\r\n');
      assert.match((await client.reply()).text, /^421 4\.7\.0 /);
      await client.closed;
      assert.equal(client.unread, '');
    });

    test('every reply except the greeting, EHLO/HELO and 3xx carries an enhanced status code', async () => {
      const { user, password } = USERS.bcrypt;
      const client = await RawClient.connect(h.ports.smtp);
      const greeting = await client.reply();
      assert.equal(greeting.text, `220 ${HOST} ESMTP Mailroom`);
      const seen: { line: string; reply: Reply }[] = [];
      const send = async (line: string) => {
        const reply = await client.command(line);
        seen.push({ line, reply });
        return reply;
      };
      for (const line of [
        'EHLO',
        'HELO client.example.test',
        'EHLO client.example.test',
        'NOOP',
        'RSET',
        'HELP',
        'VRFY postmaster',
        'VRFY',
        'XYZZY',
        'MAIL FROM:<a@b',
        'MAIL FROM:a@example.test',
        'MAIL FROM:<a@example.test> RET=FULL',
        'MAIL FROM:<a@example.test> BODY=BINARYMIME',
        'MAIL FROM:<a@example.test> SIZE=x',
        'MAIL FROM:<a@example.test> SIZE=1 SIZE=1',
        'MAIL FROM:<a@example.test> SMTPUTF8=yes',
        `MAIL FROM:<a@example.test> SIZE=${h.config.maxMessageSize + 1}`,
        'MAIL FROM:<jörg@example.test>',
        'RCPT TO:<b@example.test>',
        'DATA',
        'AUTH PLAIN AGFsaWNlAHg=',
        'STARTTLS now',
        'MAIL FROM:<a@example.test>',
        'MAIL FROM:<a@example.test>',
        'RCPT TO:<>',
        'RCPT TO:<b@example.test> NOTIFY=NEVER',
        'RCPT TO:<b@example.test>',
        'DATA',
        'Subject: codes\r\n\r\nhi\r\n.',
        'STARTTLS',
      ]) {
        await send(line);
      }
      await client.startTls();
      for (const line of [
        'MAIL FROM:<a@example.test>',
        'EHLO client.example.test',
        'STARTTLS',
        'AUTH FOO',
        'AUTH PLAIN !!!',
        'AUTH LOGIN',
        '!!!',
        `AUTH PLAIN ${b64(`\0${user}\0wrong`)}`,
        'AUTH LOGIN',
        '*',
        `AUTH PLAIN ${b64(`\0${user}\0${password}`)}`,
        'AUTH LOGIN',
        'QUIT',
      ]) {
        await send(line);
      }
      await client.closed;
      // The session covered the replies it was meant to.
      const codes = new Set(seen.map((s) => s.reply.code));
      for (const code of [
        214, 220, 221, 235, 250, 252, 334, 354, 500, 501, 503, 504, 535, 538, 552, 553, 555,
      ]) {
        assert.ok(codes.has(code), `a ${code} reply was seen`);
      }
      for (const { line, reply } of seen) {
        if (reply.code >= 300 && reply.code < 400) continue;
        if (/^(EHLO|HELO) \S/i.test(line) && reply.code === 250) continue;
        for (const text of reply.lines) {
          assert.match(text, ENHANCED, `${JSON.stringify(line)} -> ${reply.text}`);
        }
      }
    });
  });
});
