// `mailroom wait` and MailroomClient.waitFor against a running Mailroom: the way a CI script waits
// for the mail its application sent, chains waits with the cursor, and learns from the exit
// status what happened.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MailroomClient, MailroomError } from '../../src/client/index.ts';
import { BIN, type MailroomOnEngine, mailroomOn } from '../helpers/process.ts';
import { run } from '../smtp/clients.ts';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI without blocking this process (it waits while the test sends). */
function mailroom(args: string[], env: Record<string, string | undefined> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, MAILROOM_URL: undefined, MAILROOM_HTTP_LISTEN: undefined, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function send(port: number, subject: string): Promise<void> {
  const r = await run('swaks', [
    '--server',
    `127.0.0.1:${port}`,
    '--to',
    'ann@example.test',
    '--header',
    `Subject: ${subject}`,
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
}

async function waiting(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^mailroom_api_waiters (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe('mailroom wait', () => {
  let server: MailroomOnEngine;
  before(async () => {
    server = await mailroomOn('sqlite');
  });
  after(() => server.dispose());

  it('waits for mail sent after it started, prints it, and chains on the cursor it printed', async () => {
    const tag = `signup-${randomUUID()}`;
    const cursor = await mailroom(['wait', '--cursor', '--url', server.base]);
    assert.equal(cursor.code, 0, cursor.stderr);
    assert.match(cursor.stdout, /^\d+\n$/);
    const first = mailroom(
      ['wait', '--query', `subject:"${tag}"`, '--after', cursor.stdout.trim(), '--timeout', '60s'],
      {
        MAILROOM_URL: server.base,
      },
    );
    for (let i = 0; i < 800 && (await waiting(server.base)) === 0; i++) await sleep(25);
    await send(server.smtpPort, `${tag} welcome`);
    await send(server.smtpPort, `${tag} confirm`);
    const r = await first;
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as {
      Cursor: string;
      Message: { Subject: string; ParseState: string };
    };
    assert.equal(printed.Message.Subject, `${tag} welcome`);
    assert.equal(printed.Message.ParseState, 'parsed');
    const second = await mailroom([
      'wait',
      '--url',
      server.base,
      '--query',
      `subject:"${tag}"`,
      '--after',
      printed.Cursor,
    ]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(
      (JSON.parse(second.stdout) as { Message: { Subject: string } }).Message.Subject,
      `${tag} confirm`,
    );
  });

  it('exits 1 when nothing came in time, 2 for a search the server refuses or a bad option, 3 when unreachable', async () => {
    const none = await mailroom([
      'wait',
      '--url',
      server.base,
      '--query',
      `subject:"${randomUUID()}"`,
      '--timeout',
      '200ms',
    ]);
    assert.equal(none.code, 1);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /No matching message arrived in time/);
    const refused = await mailroom(['wait', '--url', server.base, '--query', 'before:whenever']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /Cannot read the date "whenever"/);
    const badOption = await mailroom(['wait', '--url', server.base, '--timeout', '30']);
    assert.equal(badOption.code, 2);
    assert.match(badOption.stderr, /--timeout "30" is not a duration/);
    const port = await closedPort();
    const away = await mailroom(['wait', '--query', 'x', '--timeout', '1s'], {
      MAILROOM_HTTP_LISTEN: `127.0.0.1:${port}`,
    });
    assert.equal(away.code, 3);
    assert.match(away.stderr, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}`));
  });
});

describe('mailroom wait with credentials', () => {
  const token = `ci-token-${randomUUID()}`;
  let server: MailroomOnEngine;
  before(async () => {
    server = await mailroomOn('sqlite', ['--http-tokens', `${token}:read`]);
  });
  after(() => server.dispose());

  it('sends the token from MAILROOM_API_TOKEN, and fails (3) without it', async () => {
    const refused = await mailroom(['wait', '--cursor', '--url', server.base]);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /Credentials are required/);
    const ok = await mailroom(['wait', '--cursor', '--url', server.base], { MAILROOM_API_TOKEN: token });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, '0\n');
  });
});

describe('MailroomClient.waitFor', () => {
  let server: MailroomOnEngine;
  before(async () => {
    server = await mailroomOn('sqlite');
  });
  after(() => server.dispose());

  it('resolves with the match and its cursor, and rejects with a 408 MailroomError when none comes', async () => {
    const client = new MailroomClient(server.base);
    const tag = `client-${randomUUID()}`;
    const start = await client.waitCursor();
    const pending = client.waitFor(`subject:"${tag}"`, { after: start, timeout: '60s' });
    await send(server.smtpPort, tag);
    const r = await pending;
    assert.equal(r.Message.Subject, tag);
    assert.ok(Number(r.Cursor) > Number(start));
    await assert.rejects(
      client.waitFor(`subject:"${tag}"`, { after: r.Cursor, timeout: 250 }),
      (err: unknown) => err instanceof MailroomError && err.status === 408,
    );
    await assert.rejects(client.waitFor('x', { timeout: '5 minutes' }), TypeError);
  });
});
