// Deadlines, connection limits, bad-command and hook-failure handling (SQLite only). Timeouts are
// set small through config; nothing here asserts how fast anything is.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BACKENDS } from '../helpers/backends.ts';
import { type Harness, startHarness, storedMessages, waitFor } from './harness.ts';
import { RawClient } from './raw-client.ts';

const sqlite = BACKENDS.find((b) => b.name === 'sqlite')!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `text` one byte every `everyMs` until the connection closes; returns what was sent. */
async function drip(client: RawClient, text: string, everyMs: number): Promise<number> {
  let sent = 0;
  for (const ch of text) {
    if (client.isClosed) break;
    client.write(ch);
    sent++;
    await sleep(everyMs);
  }
  return sent;
}

describe('smtp deadlines', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(sqlite, {
      flags: [
        ...['--smtp-command-timeout', '300ms', '--smtp-idle-timeout', '800ms'],
        ...['--smtp-data-timeout', '600ms', '--smtp-session-timeout', '2s'],
      ],
    });
  });
  after(async () => h.close());

  test('a client dripping a command one byte at a time is cut off with 421 4.4.2', async () => {
    const { client } = await RawClient.ready(h.ports.smtp);
    const line = 'MAIL FROM:<slow-drip@example.test>\r\n';
    const sent = await drip(client, line, 60);
    assert.ok(sent < line.length, 'the command never completed');
    assert.match((await client.reply()).text, /^421 4\.4\.2 Command not completed in time/);
    await client.closed;
  });

  test('an idle client gets 421 4.4.2 and is closed', async () => {
    const { client } = await RawClient.ready(h.ports.smtp);
    assert.match((await client.reply(3000)).text, /^421 4\.4\.2 Idle timeout/);
    await client.closed;
  });

  test('DATA trickled in whole lines hits the DATA deadline; nothing stored', async () => {
    const { client } = await RawClient.ready(h.ports.smtp);
    await client.command('MAIL FROM:<slow-data@example.test>');
    await client.command('RCPT TO:<r@example.test>');
    assert.equal((await client.command('DATA')).code, 354);
    for (let i = 0; i < 30 && !client.isClosed; i++) {
      client.write(`line ${i}\r\n`);
      await sleep(50);
    }
    assert.match((await client.reply()).text, /^421 4\.4\.2 Message data not completed in time/);
    await client.closed;
    const stored = await storedMessages(h.storage);
    assert.ok(!stored.some((m) => m.summary.envelope.mailFrom === 'slow-data@example.test'));
  });

  test('a busy session is still ended at the session deadline', async () => {
    const { client } = await RawClient.ready(h.ports.smtp);
    let last = await client.command('NOOP');
    for (let i = 0; i < 40 && last.code === 250; i++) {
      await sleep(100);
      last = await client.command('NOOP');
    }
    assert.match(last.text, /^421 4\.4\.2 Session lasted too long/);
    await client.closed;
  });
});

describe('smtp connection and command limits', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(sqlite, {
      flags: ['--max-connections-per-ip', '2', '--max-connections', '3', '--max-bad-commands', '3'],
      hooks: {
        mailFrom: () => {
          throw new Error('hook exploded');
        },
      },
    });
  });
  after(async () => h.close());

  test('extra connections get 421 4.7.0 per IP and 421 4.3.2 in total', async () => {
    const a = await RawClient.ready(h.ports.smtp);
    const b = await RawClient.ready(h.ports.smtp);
    const perIp = await RawClient.connect(h.ports.smtp);
    assert.match((await perIp.reply()).text, /^421 4\.7\.0 /);
    await perIp.closed;
    const active = () =>
      h.metrics.sessionsActive.get({ listener: 'smtp' }) +
      h.metrics.sessionsActive.get({ listener: 'submission' });
    await waitFor(() => active() === 2, 'the refused session to end');
    const c = await RawClient.ready(h.ports.smtp, { localAddress: '127.0.0.2' });
    const total = await RawClient.connect(h.ports.submission, { localAddress: '127.0.0.3' });
    assert.match((await total.reply()).text, /^421 4\.3\.2 /);
    await total.closed;
    for (const x of [a, b, c]) x.client.destroy();
    await waitFor(() => active() === 0, 'all sessions to end');
  });

  test('too many bad commands: 421 and close', async () => {
    const { client } = await RawClient.ready(h.ports.smtp);
    assert.equal((await client.command('FOO')).code, 500);
    assert.equal((await client.command('BAR')).code, 500);
    client.write('BAZ\r\n');
    assert.equal((await client.reply()).code, 500);
    assert.match((await client.reply()).text, /^421 4\.7\.0 /);
    await client.closed;
  });

  test('a hook that throws defers with 451 4.3.0', async () => {
    const { client } = await RawClient.ready(h.ports.smtp);
    assert.match((await client.command('MAIL FROM:<a@example.test>')).text, /^451 4\.3\.0 /);
    client.destroy();
    assert.equal(h.metrics.messagesRejected.get({ stage: 'mail-from', reason: 'hook-failed' }), 1);
  });
});

describe('smtp hook deadline', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(sqlite, {
      flags: ['--smtp-command-timeout', '300ms'],
      hooks: { rcptTo: () => new Promise(() => {}) },
    });
  });
  after(async () => h.close());

  test('a hook that never answers defers instead of hanging', async () => {
    const { client } = await RawClient.ready(h.ports.smtp);
    assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250);
    assert.match((await client.command('RCPT TO:<b@example.test>', 3000)).text, /^451 4\.3\.0 /);
    assert.equal((await client.command('NOOP')).code, 250);
    client.destroy();
  });
});

describe('smtp deadlines during a commit', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(sqlite, { flags: ['--smtp-session-timeout', '1s'], spoolDelayMs: 1500 });
  });
  after(async () => h.close());

  test('a session deadline during the commit waits for the 250, then closes with 421', async () => {
    const { client } = await RawClient.ready(h.ports.smtp);
    await client.command('MAIL FROM:<committing@example.test>');
    await client.command('RCPT TO:<r@example.test>');
    assert.equal((await client.command('DATA')).code, 354);
    // The deadline passes while the message is committed but not yet acknowledged: a 421 in place
    // of the 250 would make the client send a stored message again.
    const stored = await client.command('Subject: slow ack\r\n\r\nbody\r\n.', 5000);
    assert.match(stored.text, /^250 2\.0\.0 /);
    assert.match((await client.reply(3000)).text, /^421 4\.4\.2 /);
    await client.closed;
  });
});
