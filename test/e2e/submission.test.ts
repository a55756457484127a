// SMTP submission with a transport that sends (relay to Postfix's smtp-sink): an authenticated
// user's mail from an allowed domain is queued and leaves; nothing else ever does. The open-relay
// matrix: unauthenticated mail, whatever its recipients look like, is only ever kept in the inbox;
// an authenticated user can neither send as another domain nor use relay tricks in RCPT TO.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashPassword } from '../../src/smtp/auth-file.ts';
import { tempDir } from '../helpers/backends.ts';
import { type RunningMailroom, spawnMailroom } from '../helpers/process.ts';
import { LineClient } from '../helpers/smtp-client.ts';
import { freePort } from '../helpers/spam-daemons.ts';

/** Addresses that route somewhere else than they seem to (RFC 5321 §3.6.1 and older habits). */
const RELAY_TRICKS = [
  'victim%outside.example@shop.example',
  'outside.example!victim@shop.example',
  '"victim@outside.example"@shop.example',
  'victim@[127.0.0.1]',
];
/** RFC 5321 §4.1.1.3: a source route is ignored; what is left is a plain address. */
const SOURCE_ROUTE = '@shop.example:victim@outside.example';

describe('SMTP submission and the open-relay matrix', () => {
  const dir = tempDir();
  const dumps = tempDir();
  let sink: ChildProcess;
  let server: RunningMailroom;
  let base: string;

  before(async () => {
    // smtp-sink writes its dumps as the unprivileged user it switches to.
    fs.chmodSync(dumps, 0o777);
    const sinkPort = await freePort();
    sink = spawn('smtp-sink', ['-u', 'nobody', '-d', `${dumps}/%M.`, `127.0.0.1:${sinkPort}`, '16'], {
      stdio: 'ignore',
    });
    const users = path.join(dir, 'users');
    fs.writeFileSync(
      users,
      `ann:${await hashPassword('s3cret-pass')}:shop.example\nbob:${await hashPassword('other-pass')}\n`,
    );
    server = await spawnMailroom([
      '--data-dir',
      path.join(dir, 'data'),
      '--outbound-transport',
      'relay',
      '--relay-host',
      `127.0.0.1:${sinkPort}`,
      '--relay-tls',
      'none',
      '--smtp-auth-file',
      users,
      '--smtp-auth-allow-insecure',
    ]);
    base = `http://127.0.0.1:${server.httpPort}`;
  });
  after(async () => {
    await server?.stop();
    sink?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(dumps, { recursive: true, force: true });
  });

  async function session(user?: string, password?: string): Promise<LineClient> {
    const c = await LineClient.connect(server.smtpPort);
    await c.read();
    await c.command('EHLO client.test');
    if (user) {
      const r = await c.command(`AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}`);
      assert.equal(r.code, 235, r.text);
    }
    return c;
  }

  const dumped = () => fs.readdirSync(dumps).map((f) => fs.readFileSync(path.join(dumps, f), 'latin1'));

  async function waitForDump(marker: string): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const found = dumped().find((d) => d.includes(marker));
      if (found) return found;
      await sleep(50);
    }
    assert.fail(`nothing with ${marker} reached the smarthost`);
  }

  it("queues an authenticated user's mail from an allowed domain, and it leaves", async () => {
    const c = await session('ann', 's3cret-pass');
    const r = await c.send(
      'ann@news.shop.example',
      ['carol@outside.example'],
      'Subject: submitted-1\r\n\r\nhello\r\n',
    );
    c.close();
    assert.equal(r.code, 250, r.text);
    const dump = await waitForDump('Subject: submitted-1');
    // The submission agent added what was missing (RFC 6409 §8).
    assert.match(dump, /^Message-ID: <[^>]+>/m);
    assert.match(dump, /^Date: /m);
    // It left instead of being kept in the inbox.
    const inbox = (await (await fetch(`${base}/api/v1/search?query=subject:submitted-1`)).json()) as {
      messages_count: number;
    };
    assert.equal(inbox.messages_count, 0);
  });

  it('refuses a sender outside the user’s domains, and a user with none', async () => {
    const ann = await session('ann', 's3cret-pass');
    const forged = await ann.command('MAIL FROM:<ceo@bank.example>');
    assert.match(forged.text, /^553 5\.7\.1 /);
    const nullSender = await ann.command('MAIL FROM:<>');
    assert.equal(nullSender.code, 553);
    ann.close();
    const bob = await session('bob', 'other-pass');
    assert.equal((await bob.command('MAIL FROM:<bob@shop.example>')).code, 553);
    bob.close();
  });

  it('refuses relay tricks in RCPT TO from an authenticated user', async () => {
    const c = await session('ann', 's3cret-pass');
    assert.equal((await c.command('MAIL FROM:<ann@shop.example>')).code, 250);
    for (const rcpt of RELAY_TRICKS) {
      const r = await c.command(`RCPT TO:<${rcpt}>`);
      assert.ok(r.code === 553 || r.code === 501, `${rcpt}: ${r.code} ${r.text}`);
    }
    c.close();
  });

  it('keeps unauthenticated mail in the inbox, whatever its recipients, and relays none of it', async () => {
    const before = dumped().length;
    const c = await session();
    const r = await c.send(
      'anyone@outside.example',
      ['victim@outside.example'],
      'Subject: not-relayed\r\n\r\nx\r\n',
    );
    assert.equal(r.code, 250, r.text);
    for (const [i, rcpt] of [...RELAY_TRICKS, SOURCE_ROUTE].entries()) {
      const t = await c.send('anyone@outside.example', [rcpt], `Subject: trick-${i}\r\n\r\nx\r\n`);
      // smtp-server may refuse the syntax; accepted or not, it must never leave.
      assert.ok([250, 501, 553].includes(t.code), `${rcpt}: ${t.code} ${t.text}`);
      if (t.code !== 250) await c.command('RSET');
    }
    c.close();
    // It is kept: the inbox has it.
    let kept = 0;
    for (let i = 0; i < 100 && kept === 0; i++) {
      const found = await fetch(`${base}/api/v1/search?query=subject:not-relayed`);
      kept = ((await found.json()) as { messages_count: number }).messages_count;
      if (kept === 0) await sleep(50);
    }
    assert.equal(kept, 1);
    // And nothing of it is queued: the only delivery in the queue is ann's, from the first test.
    assert.deepEqual(
      (
        (await (await fetch(`${base}/api/v1/queue?limit=1000`)).json()) as {
          deliveries: { Recipients: { Address: string }[] }[];
        }
      ).deliveries
        .flatMap((d) => d.Recipients.map((x) => x.Address))
        .filter((a) => a !== 'carol@outside.example'),
      [],
    );
    await sleep(300);
    assert.equal(dumped().length, before);
  });
});
