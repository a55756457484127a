// The greeting (SQLite only): sent after one poll phase of the event loop, with no fixed pause (the
// smtp-server package Mailroom used before had a 100 ms one), early talkers refused with 554 5.5.1
// however they are caught, and --smtp-greet-pause for a postscreen-style wait.
import assert from 'node:assert/strict';
import { executionAsyncResource } from 'node:async_hooks';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosInput } from '../../src/smtp/hooks/chaos.ts';
import { ACCEPT } from '../../src/smtp/hooks/types.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { PY_INSECURE_CTX, python, run } from './clients.ts';
import { type Harness, startHarness, storedMessages, USERS, waitFor } from './harness.ts';
import { RawClient } from './raw-client.ts';

const sqlite = BACKENDS.find((b) => b.name === 'sqlite')!;
const REFUSED = /^554 5\.5\.1 /;
// The classes of the objects Node runs timer and immediate callbacks for.
const Immediate = (() => {
  const i = setImmediate(() => {});
  clearImmediate(i);
  return i.constructor;
})();
const Timeout = (() => {
  const t = setTimeout(() => {}, 0);
  clearTimeout(t);
  return t.constructor;
})();

/** A promise with its resolve function, to hold a hook until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** The smtps listener requires AUTH (RFC 8314 submission). */
async function authenticate(client: RawClient): Promise<void> {
  const { user, password } = USERS.bcrypt;
  const token = Buffer.from(`\0${user}\0${password}`).toString('base64');
  assert.equal((await client.command(`AUTH PLAIN ${token}`)).code, 235);
}

/** MAIL, RCPT, DATA and QUIT on a greeted client that said EHLO; returns the reply to the data. */
async function transaction(client: RawClient, subject: string): Promise<string> {
  assert.equal((await client.command('MAIL FROM:<sender@example.test>')).code, 250);
  assert.equal((await client.command('RCPT TO:<rcpt@example.test>')).code, 250);
  assert.equal((await client.command('DATA')).code, 354);
  const queued = await client.command(`Subject: ${subject}\r\n\r\nhello\r\n.`);
  assert.equal((await client.command('QUIT')).code, 221);
  await client.closed;
  return queued.text;
}

/** Waits for the refusal and the close; nothing may come before or after the 554. */
async function assertRefused(client: RawClient): Promise<void> {
  const r = await client.reply();
  assert.match(r.text, REFUSED, 'the first reply is the refusal: no 220 came before it');
  await client.closed;
  assert.equal(client.unread, '', 'nothing after the refusal');
}

const refusedCount = (h: Harness) =>
  h.metrics.messagesRejected.get({ stage: 'connect', reason: 'early-talker' });

describe('smtp greeting without a configured pause', () => {
  let h: Harness;
  /** The async resource each connect stage ran under, in order. */
  const greetedFrom: object[] = [];
  /** Replaced by tests that hold the connect stage. */
  let connectStage: () => Promise<void> = async () => {};
  before(async () => {
    h = await startHarness(sqlite, {
      hooks: {
        // The session calls this hook before its first await in the connect stage, so the async
        // resource it runs under is the callback that started the stage: the session's
        // setImmediate (an Immediate), never a timer (a Timeout) as with a fixed pause. No clock
        // is read, and the test fails whenever a timer is what greets.
        chaos: (input: ChaosInput) => {
          if (input.stage === 'connect') greetedFrom.push(executionAsyncResource());
          return ACCEPT;
        },
        connect: async () => {
          await connectStage();
          return ACCEPT;
        },
      },
    });
  });
  after(async () => h.close());

  /**
   * Holds the next connect stages until `release.open()`: `entered` opens when one starts. The
   * returned `restore` releases and puts the default (no wait) back.
   */
  function holdConnectStage() {
    const entered = gate();
    const release = gate();
    connectStage = async () => {
      entered.open();
      await release.promise;
    };
    const restore = () => {
      release.open();
      connectStage = async () => {};
    };
    return { entered, release, restore };
  }

  test('an honest client is greeted after one poll phase, never by a timer', async () => {
    greetedFrom.length = 0;
    for (let i = 0; i < 10; i++) {
      const client = await RawClient.connect(h.ports.smtp);
      const greeting = await client.reply();
      assert.equal(greeting.text, '220 mx.mailroom.test ESMTP Mailroom');
      assert.equal((await client.command('EHLO client.example.test')).code, 250);
      assert.match(await transaction(client, `honest ${i}`), /^250 2\.0\.0 Ok: queued as /);
    }
    assert.equal(greetedFrom.length, 10);
    for (const resource of greetedFrom) {
      assert.ok(!(resource instanceof Timeout), 'the connect stage ran from a timer');
      assert.ok(resource instanceof Immediate, `the connect stage ran from ${resource.constructor.name}`);
    }
    assert.equal(refusedCount(h), 0);
  });

  test('implicit TLS and STARTTLS sessions are greeted and work', async () => {
    const smtps = await RawClient.ready(h.ports.smtps, { tls: true });
    await authenticate(smtps.client);
    assert.match(await transaction(smtps.client, 'over smtps'), /^250 /);
    const { client } = await RawClient.ready(h.ports.smtp);
    assert.equal((await client.command('STARTTLS')).code, 220);
    await client.startTls();
    assert.equal((await client.command('EHLO again.example.test')).code, 250);
    assert.match(await transaction(client, 'after starttls'), /^250 /);
  });

  test('an early talker behind a slow connect stage gets 554 5.5.1 and is closed', async () => {
    const refusedBefore = refusedCount(h);
    connectStage = () => sleep(200);
    try {
      const client = await RawClient.connect(h.ports.smtp);
      client.write('EHLO x\r\n');
      await assertRefused(client);
    } finally {
      connectStage = async () => {};
    }
    assert.equal(refusedCount(h), refusedBefore + 1);
    const line = h.logs().find((l) => l.reason === 'early-talker');
    assert.equal(line?.level, 'info');
    assert.equal(line?.stage, 'connect');
  });

  test('a partial line written straight after connecting is refused before the connect stage', async () => {
    // Any byte before the greeting is refused the moment it is read; here that is in the poll
    // phase after the accept. The bytes are in the server's receive buffer when write() returns
    // (loopback), so that poll phase reads them whichever of the accept and the client's connect
    // event this event loop saw first, and the connect stage never starts.
    const stagesBefore = greetedFrom.length;
    const client = await RawClient.connect(h.ports.smtp);
    client.write('EH');
    await assertRefused(client);
    assert.equal(greetedFrom.length, stagesBefore, 'the connect stage never ran');
  });

  test('a command during the connect stage is refused at once', async () => {
    // The connect stage is entered only once the session found the client silent, so the line
    // written now arrives before the greeting, while the stage is held.
    const { entered, release, restore } = holdConnectStage();
    try {
      const client = await RawClient.connect(h.ports.smtp);
      await entered.promise;
      client.write('EHLO x\r\n');
      // The refusal comes while the connect stage is still held.
      assert.match((await client.reply()).text, REFUSED);
      release.open();
      await client.closed;
      assert.equal(client.unread, '', 'no greeting once the connect stage finished');
    } finally {
      restore();
    }
  });

  test('a partial line during the connect stage: the greeting turns into the refusal', async () => {
    const { entered, release, restore } = holdConnectStage();
    try {
      const client = await RawClient.connect(h.ports.smtp);
      await entered.promise;
      // No line end: a partial line counts as much as a command. The bytes are in the server's
      // receive buffer when write() returns (loopback), and client and server share this event
      // loop: the poll phase between these two immediates reads them, before the stage ends.
      client.write('EH');
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      release.open();
      await assertRefused(client);
    } finally {
      restore();
    }
  });

  test('swaks and Python smtplib deliver', async () => {
    const file = path.join(h.dataDir, 'greeting-swaks.eml');
    fs.writeFileSync(file, 'Subject: greeting via swaks\r\n\r\nhello');
    const r = await run('swaks', [
      ...['--server', `127.0.0.1:${h.ports.smtp}`, '--helo', 'swaks.example.test'],
      ...['--from', 'sender@example.test', '--to', 'a@example.test', '--data', file],
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /250 2\.0\.0 Ok: queued as /);
    const script = `${PY_INSECURE_CTX}s = smtplib.SMTP('127.0.0.1', ARGS['port'], local_hostname='py.example.test')
s.starttls(context=ctx)
s.ehlo('py.example.test')
s.sendmail('sender@example.test', ['rcpt@example.test'], b'Subject: greeting via smtplib\\r\\n\\r\\nhello\\r\\n')
s.quit()
`;
    const py = await python(script, { port: h.ports.smtp });
    assert.equal(py.code, 0, py.stderr);
    const helos = (await storedMessages(h.storage)).map((m) => m.summary.envelope.helo);
    assert.ok(helos.includes('swaks.example.test'), 'swaks message stored');
    assert.ok(helos.includes('py.example.test'), 'smtplib message stored');
  });
});

describe('smtp greeting with --smtp-greet-pause', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(sqlite, { flags: ['--smtp-greet-pause', '300ms'] });
  });
  after(async () => h.close());

  test('a client that writes at once is refused with 554 5.5.1', async () => {
    const client = await RawClient.connect(h.ports.smtp);
    client.write('EHLO x\r\n');
    await assertRefused(client);
    assert.equal(refusedCount(h), 1);
  });

  test('a client that waits for the greeting gets its 220 and delivers', async () => {
    const { client, ehlo } = await RawClient.ready(h.ports.smtp);
    assert.equal(ehlo.code, 250);
    assert.match(await transaction(client, 'after the pause'), /^250 2\.0\.0 Ok: queued as /);
    const smtps = await RawClient.ready(h.ports.smtps, { tls: true });
    await authenticate(smtps.client);
    assert.match(await transaction(smtps.client, 'smtps after the pause'), /^250 /);
    const stored = (await storedMessages(h.storage)).map((m) => m.raw.toString('latin1'));
    assert.ok(stored.some((raw) => raw.startsWith('Subject: after the pause\r\n')));
    assert.ok(stored.some((raw) => raw.startsWith('Subject: smtps after the pause\r\n')));
  });

  test('a client that leaves during the pause causes no error', async () => {
    const disconnects = () => h.logs().filter((l) => l.msg === 'smtp disconnect').length;
    const before = disconnects();
    const gone = await RawClient.connect(h.ports.smtp);
    gone.destroy();
    await waitFor(() => disconnects() > before, 'the session to end');
    // A session started now greets after its own pause, which ends after the one of the session
    // that left (equal timers fire in the order they were set): anything that session's pause
    // would have done has happened by the time this greeting arrives.
    const { client } = await RawClient.ready(h.ports.smtp);
    assert.match(await transaction(client, 'after one left'), /^250 /);
    const bad = h.logs().filter((l) => ['warn', 'error', 'fatal'].includes(l.level as string));
    assert.deepEqual(bad, [], 'no warning or error logged');
    assert.equal(refusedCount(h), 1, 'only the early talker of the first test was refused');
  });
});
