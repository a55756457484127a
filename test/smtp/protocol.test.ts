// Protocol edges over raw sockets (SQLite only): smuggling, STARTTLS pipelining, malformed
// commands and addresses, size and recipient limits, clients that vanish or speak garbage.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BACKENDS } from '../helpers/backends.ts';
import { type Harness, startHarness, storedMessages, waitFor } from './harness.ts';
import { RawClient } from './raw-client.ts';

const sqlite = BACKENDS.find((b) => b.name === 'sqlite')!;
const ENHANCED = /^\d{3} [245]\.\d{1,3}\.\d{1,3} /;

async function transaction(port: number, rcpts = ['rcpt@example.test']): Promise<RawClient> {
  const { client } = await RawClient.ready(port);
  assert.equal((await client.command('MAIL FROM:<sender@example.test>')).code, 250);
  for (const r of rcpts) assert.equal((await client.command(`RCPT TO:<${r}>`)).code, 250);
  assert.equal((await client.command('DATA')).code, 354);
  return client;
}

describe('smtp protocol edges', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(sqlite, {
      flags: ['--max-message-size', '2KB', '--max-recipients', '2', '--smtp-max-line-length', '1000'],
    });
  });
  after(async () => h.close());

  test('EHLO advertises the extensions of each listener', async () => {
    const plain = await RawClient.ready(h.ports.smtp);
    for (const kw of ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'STARTTLS', 'SIZE 2048']) {
      assert.ok(plain.ehlo.lines.includes(kw), `${kw} in ${plain.ehlo.text}`);
    }
    plain.client.destroy();
    const smtps = await RawClient.ready(h.ports.smtps, { tls: true });
    assert.ok(!smtps.ehlo.lines.includes('STARTTLS'));
    assert.ok(smtps.ehlo.lines.includes('AUTH PLAIN LOGIN'));
    smtps.client.destroy();
  });

  const smuggles: [string, string][] = [
    ['\\n.\\n', '\n.\n'],
    ['\\r\\n.\\n', '\r\n.\n'],
    ['\\n.\\r\\n', '\n.\r\n'],
    ['bare CR', '\r.\r'],
  ];
  for (const [name, seq] of smuggles) {
    test(`smuggling with ${name}: one 554 5.6.0, nothing stored, the hidden message never runs`, async () => {
      const before = (await storedMessages(h.storage)).length;
      const client = await transaction(h.ports.smtp);
      client.write(
        `Subject: first\r\n\r\nhello${seq}MAIL FROM:<evil@example.test>\r\nRCPT TO:<victim@example.test>\r\n` +
          'DATA\r\nSubject: smuggled\r\n\r\nsecond\r\n.\r\n',
      );
      const r = await client.reply();
      assert.equal(r.code, 554, r.text);
      assert.match(r.text, /^554 5\.6\.0 /);
      // The session goes on, and no reply belongs to the smuggled commands.
      assert.equal((await client.command('NOOP')).text, '250 2.0.0 OK');
      assert.equal(client.unread, '');
      client.destroy();
      assert.equal((await storedMessages(h.storage)).length, before);
    });
  }

  test('commands pipelined behind STARTTLS are discarded', async () => {
    const { client } = await RawClient.ready(h.ports.smtp);
    client.write('STARTTLS\r\nMAIL FROM:<injected@example.test>\r\n');
    assert.equal((await client.reply()).code, 220);
    await client.startTls();
    assert.equal((await client.command('EHLO again.example.test')).code, 250);
    const rcpt = await client.command('RCPT TO:<x@example.test>');
    assert.equal(rcpt.code, 503, 'the injected MAIL FROM must not have run');
    client.destroy();
  });

  test('malformed commands and addresses get 5xx with enhanced codes', async () => {
    const { client } = await RawClient.ready(h.ports.smtp);
    const cases: [string, RegExp][] = [
      ['MAIL FROM:<a@b', /^501 5\.1\.7 /],
      ['MAIL FROM:<a\x01b@example.test>', /^501 5\.1\.7 /],
      ['MAIL FROM:<jörg@example.test>', /^553 5\.6\.7 /],
      ['XYZZY', /^500 5\.5\.2 /],
    ];
    for (const [line, want] of cases) assert.match((await client.command(line)).text, want, line);
    assert.match((await client.command('MAIL FROM:<jörg@example.test> SMTPUTF8')).text, /^250 2\.1\.0/);
    assert.match((await client.command('RCPT TO:<>')).text, /^501 5\.1\.3 /);
    assert.match((await client.command('RCPT TO:<postmaster>')).text, /^250 /);
    client.destroy();
  });

  test('a command line over 512 octets gets 500 5.5.2 and the session closes', async () => {
    const { client } = await RawClient.ready(h.ports.smtp);
    const r = await client.command(`MAIL FROM:<${'a'.repeat(520)}@example.test>`);
    assert.match(r.text, /^500 5\.5\.2 /);
    await client.closed;
    const next = await RawClient.ready(h.ports.smtp);
    assert.equal((await next.client.command('NOOP')).code, 250, 'the server serves the next client');
    next.client.destroy();
  });

  test('a message line over --smtp-max-line-length is refused, nothing stored', async () => {
    const before = (await storedMessages(h.storage)).length;
    const client = await transaction(h.ports.smtp);
    const r = await client.command(`Subject: long\r\n\r\n${'x'.repeat(1001)}\r\n.`);
    assert.match(r.text, /^554 5\.6\.0 /);
    client.destroy();
    assert.equal((await storedMessages(h.storage)).length, before);
  });

  test('declared oversize is refused at MAIL FROM with 552 5.3.4', async () => {
    const { client } = await RawClient.ready(h.ports.smtp);
    assert.match((await client.command('MAIL FROM:<a@example.test> SIZE=4096')).text, /^552 5\.3\.4 /);
    assert.match((await client.command('MAIL FROM:<a@example.test> SIZE=100')).text, /^250 /);
    client.destroy();
  });

  test('undeclared oversize gets 552 5.3.4 after the data, nothing stored', async () => {
    const before = (await storedMessages(h.storage)).length;
    const client = await transaction(h.ports.smtp);
    const r = await client.command(`Subject: big\r\n\r\n${'y'.repeat(70).concat('\r\n').repeat(40)}.`);
    assert.match(r.text, /^552 5\.3\.4 /);
    assert.equal((await client.command('NOOP')).code, 250);
    client.destroy();
    assert.equal((await storedMessages(h.storage)).length, before);
    assert.ok(h.metrics.messagesRejected.get({ stage: 'data', reason: 'message-too-big' }) >= 1);
  });

  test('recipients beyond the cap get 452 4.5.3 and the message goes to the earlier ones', async () => {
    const { client } = await RawClient.ready(h.ports.smtp);
    await client.command('MAIL FROM:<cap@example.test>');
    assert.equal((await client.command('RCPT TO:<r1@example.test>')).code, 250);
    assert.equal((await client.command('RCPT TO:<r2@example.test>')).code, 250);
    assert.match((await client.command('RCPT TO:<r3@example.test>')).text, /^452 4\.5\.3 /);
    assert.equal((await client.command('DATA')).code, 354);
    assert.match((await client.command('Subject: cap\r\n\r\nhi\r\n.')).text, /^250 2\.0\.0 Ok: queued as /);
    client.destroy();
    const m = (await storedMessages(h.storage)).find(
      (x) => x.summary.envelope.mailFrom === 'cap@example.test',
    );
    assert.deepEqual(m?.summary.envelope.rcptTo, ['r1@example.test', 'r2@example.test']);
  });

  test('a client vanishing mid-DATA leaves nothing stored; the next client works', async () => {
    const before = (await storedMessages(h.storage)).length;
    const client = await transaction(h.ports.smtp, ['vanish@example.test']);
    client.write('Subject: half\r\n\r\nthe first half of a mess');
    await new Promise((r) => setTimeout(r, 50));
    client.destroy();
    await waitFor(() => h.metrics.sessionsActive.get({ listener: 'smtp' }) === 0, 'session end');
    assert.equal((await storedMessages(h.storage)).length, before);
    const next = await transaction(h.ports.smtp);
    assert.match((await next.command('Subject: ok\r\n\r\nfine\r\n.')).text, /^250 2\.0\.0 /);
    next.destroy();
  });

  test('TLS handshake garbage closes that connection only', async () => {
    const junk = await RawClient.connect(h.ports.smtps);
    junk.write('EHLO i-forgot-tls\r\n\r\n\r\n');
    await junk.closed;
    const starttls = await RawClient.ready(h.ports.smtp);
    assert.equal((await starttls.client.command('STARTTLS')).code, 220);
    starttls.client.write('\x16\x03\x01\x00\x05hello');
    await starttls.client.closed;
    const ok = await RawClient.ready(h.ports.smtps, { tls: true });
    assert.equal((await ok.client.command('NOOP')).code, 250);
    ok.client.destroy();
  });

  test('submission requires AUTH before MAIL', async () => {
    const { client } = await RawClient.ready(h.ports.submission);
    assert.match((await client.command('MAIL FROM:<a@example.test>')).text, /^530 5\.7\.0 /);
    client.destroy();
  });

  test('every error reply so far carried an enhanced status code', async () => {
    const { client } = await RawClient.ready(h.ports.smtp);
    for (const line of ['RCPT TO:<a@example.test>', 'DATA', 'VRFY', 'AUTH FOO']) {
      const r = await client.command(line);
      assert.ok(r.code >= 400, line);
      assert.match(r.text, ENHANCED, line);
    }
    client.destroy();
  });
});

describe('SMTP long lines by default', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(sqlite);
  });
  after(async () => {
    await h.close();
  });

  test('a 100,000-octet line is accepted and stored byte for byte', async () => {
    const client = await transaction(h.ports.smtp);
    const body = `Subject: one long line\r\n\r\n<p>${'x'.repeat(100_000)}</p>\r\n`;
    const r = await client.command(`${body}.`);
    assert.match(r.text, /^250 2\.0\.0 /);
    client.destroy();
    const id = /queued as (\S+)/.exec(r.text)![1]!;
    assert.equal(Buffer.from((await h.storage.getRaw(id))!).toString('latin1'), body);
  });
});
