// SMTP AUTH over real sockets and the users file: PLAIN and LOGIN, TLS-only by default, failure
// limits, sandbox accept-any, and no credential in any log line at trace level.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashPassword, loadAuthFile, parseAuthFile } from '../../src/smtp/auth-file.ts';
import { BACKENDS, tempDir } from '../helpers/backends.ts';
import { PY_INSECURE_CTX, python } from './clients.ts';
import { type Harness, startHarness, storedMessages, USERS } from './harness.ts';
import { RawClient } from './raw-client.ts';

const sqlite = BACKENDS.find((b) => b.name === 'sqlite')!;
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function submissionOverTls(port: number): Promise<RawClient> {
  const { client } = await RawClient.ready(port);
  assert.equal((await client.command('STARTTLS')).code, 220);
  await client.startTls();
  assert.equal((await client.command('EHLO client.example.test')).code, 250);
  return client;
}

describe('smtp auth', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(sqlite, { flags: ['--max-auth-failures', '2'] });
  });
  after(async () => h.close());

  test('AUTH before TLS is refused with 538 5.7.11', async () => {
    const { client } = await RawClient.ready(h.ports.smtp);
    const r = await client.command(`AUTH PLAIN ${b64(`\0${USERS.bcrypt.user}\0${USERS.bcrypt.password}`)}`);
    assert.match(r.text, /^538 5\.7\.11 /);
    client.destroy();
  });

  test('AUTH PLAIN and LOGIN succeed, and no credential reaches the trace log', async () => {
    const { user, password } = USERS.scrypt;
    const plain = await submissionOverTls(h.ports.submission);
    assert.match((await plain.command(`AUTH PLAIN ${b64(`\0${user}\0${password}`)}`)).text, /^235 2\.7\.0 /);
    plain.destroy();
    const login = await submissionOverTls(h.ports.submission);
    assert.equal((await login.command('AUTH LOGIN')).code, 334);
    assert.equal((await login.command(b64(user))).code, 334);
    assert.match((await login.command(b64(password))).text, /^235 /);
    assert.equal((await login.command('MAIL FROM:<a@example.test>')).code, 250);
    login.destroy();
    const wrong = await submissionOverTls(h.ports.submission);
    assert.match((await wrong.command(`AUTH PLAIN ${b64(`\0${user}\0${password}x`)}`)).text, /^535 5\.7\.8 /);
    wrong.destroy();

    const logs = h.logText();
    assert.ok(
      logs.includes('"level":"info"') && logs.includes('smtp auth succeeded'),
      'auth outcomes are logged',
    );
    assert.ok(logs.includes(`"user":"${user}"`), 'the user name is logged');
    for (const secret of [
      password,
      `${password}x`,
      b64(password),
      b64(`\0${user}\0${password}`),
      b64(`\0${user}\0${password}x`),
    ]) {
      assert.ok(!logs.includes(secret), `log contains ${secret}`);
    }
  });

  test('Python smtplib AUTH LOGIN with the bcrypt ($2y$) user', async () => {
    const script = `${PY_INSECURE_CTX}s = smtplib.SMTP('127.0.0.1', ARGS['port'], local_hostname='login.example.test')
s.starttls(context=ctx)
s.ehlo('login.example.test')
s.user, s.password = ARGS['user'], ARGS['password']
code, _ = s.auth('LOGIN', s.auth_login)
assert code == 235, code
s.sendmail('from@example.test', ['to@example.test'], b'Subject: login\\r\\n\\r\\nhi\\r\\n')
s.quit()
`;
    const r = await python(script, { port: h.ports.submission, ...USERS.bcrypt });
    assert.equal(r.code, 0, r.stderr);
    const m = (await storedMessages(h.storage)).find((x) => x.summary.envelope.helo === 'login.example.test');
    assert.equal(m?.summary.envelope.authUser, USERS.bcrypt.user);
  });

  test('repeated failures: 535 5.7.8 each, then 421 4.7.0 and close', async () => {
    const before = h.metrics.authFailures.get();
    const client = await submissionOverTls(h.ports.submission);
    assert.match((await client.command(`AUTH PLAIN ${b64('\0alice\0nope')}`)).text, /^535 5\.7\.8 /);
    client.write(`AUTH PLAIN ${b64('\0alice\0nope2')}\r\n`);
    assert.match((await client.reply()).text, /^535 5\.7\.8 /);
    assert.match((await client.reply()).text, /^421 4\.7\.0 /);
    await client.closed;
    assert.equal(h.metrics.authFailures.get() - before, 2);
  });
});

describe('smtp auth settings', () => {
  test('no users and no accept-any: AUTH is not advertised', async () => {
    const h = await startHarness(sqlite, { noAuthFile: true });
    try {
      const { client, ehlo } = await RawClient.ready(h.ports.smtp);
      assert.ok(!ehlo.lines.some((l) => l.startsWith('AUTH')), ehlo.text);
      client.destroy();
    } finally {
      await h.close();
    }
  });

  test('accept-any with insecure AUTH allowed records the user; require-auth guards the plain listener', async () => {
    const h = await startHarness(sqlite, {
      noAuthFile: true,
      flags: ['--smtp-auth-accept-any', '--smtp-auth-allow-insecure', '--smtp-require-auth'],
    });
    try {
      const { client } = await RawClient.ready(h.ports.smtp);
      assert.match((await client.command('MAIL FROM:<a@example.test>')).text, /^530 5\.7\.0 /);
      assert.equal((await client.command(`AUTH PLAIN ${b64('\0anyone\0anything')}`)).code, 235);
      assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250);
      await client.command('RCPT TO:<b@example.test>');
      await client.command('DATA');
      assert.equal((await client.command('Subject: any\r\n\r\nx\r\n.')).code, 250);
      client.destroy();
      const [m] = await storedMessages(h.storage);
      assert.equal(m?.summary.envelope.authUser, 'anyone');
    } finally {
      await h.close();
    }
  });
});

describe('smtp auth file', () => {
  const dir = tempDir();
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('hashPassword output verifies, wrong passwords and unknown users do not', async () => {
    const file = path.join(dir, 'users');
    fs.writeFileSync(file, `carol:${await hashPassword('s3cret')}\n`);
    const users = await loadAuthFile(file);
    assert.equal(await users.verify('carol', 's3cret'), true);
    assert.equal(await users.verify('carol', 's3cret '), false);
    assert.equal(await users.verify('dave', 's3cret'), false);
  });

  test('an unreadable file and bad lines are errors naming the file and line', async () => {
    const missing = path.join(dir, 'missing');
    await assert.rejects(loadAuthFile(missing), (e: Error) => e.message.includes(missing));
    assert.throws(() => parseAuthFile('users.txt', '# ok\n\nno-colon-here\n'), /users\.txt:3: /);
    assert.throws(() => parseAuthFile('users.txt', 'erin:plaintext\n'), /users\.txt:1: .*erin/);
    assert.throws(() => parseAuthFile('u', 'x:$2y$04$abc\n'), /u:1: /);
    // A third field names sender domains; anything else there is refused with its line.
    const hash = '$2y$04$' + 'a'.repeat(53);
    assert.deepEqual(parseAuthFile('u', `ann:${hash}:Shop.example, news.example\n`).get('ann')?.senders, [
      'shop.example',
      'news.example',
    ]);
    assert.deepEqual(parseAuthFile('u', `ann:${hash}\n`).get('ann')?.senders, []);
    assert.throws(
      () => parseAuthFile('u', `ann:${hash}:not a domain\n`),
      /u:1: "not a domain" is not a sender domain/,
    );
  });
});
