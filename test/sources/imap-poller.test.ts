// The IMAP poller against a real Dovecot: each message imported once across passes, restarts,
// dropped connections and a UIDVALIDITY change; every afterImport mode; IDLE.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, type Logger } from '../../src/observability/logger.ts';
import { createImapPoller } from '../../src/sources/imap-poller.ts';
import type { ImportedMessage, ImportSink, PollerAccount } from '../../src/sources/types.ts';
import { type RunningDovecot, startCuttingProxy, startDovecot } from '../helpers/dovecot.ts';

const GUARD = { timeout: 60_000 };

/** What the storage does, in memory: keys are claimed atomically with the message. */
class MemorySink implements ImportSink {
  readonly stored: ImportedMessage[] = [];
  readonly keys = new Set<string>();
  /** Every importedAmong() call's keys. */
  readonly asked: string[][] = [];
  acceptCalls = 0;
  /** Runs after a message is stored, before accept() resolves. */
  onStored: ((m: ImportedMessage) => void) | null = null;

  async importedAmong(keys: readonly string[]): Promise<Set<string>> {
    this.asked.push([...keys]);
    return new Set(keys.filter((k) => this.keys.has(k)));
  }

  async accept(message: ImportedMessage): Promise<'stored' | 'duplicate'> {
    this.acceptCalls += 1;
    if (message.keys.some((k) => this.keys.has(k))) return 'duplicate';
    this.stored.push(message);
    for (const k of message.keys) this.keys.add(k);
    this.onStored?.(message);
    return 'stored';
  }
}

function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('debug', { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

function mail(subject: string, body = 'hello\r\n', messageId = true): Buffer {
  const id = messageId ? `Message-ID: <${randomUUID()}@example.test>\r\n` : '';
  return Buffer.from(
    `From: sender@example.test\r\nTo: rcpt@example.test\r\n${id}Subject: ${subject}\r\n\r\n${body}`,
  );
}

async function waitFor(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const USERS = [
  'leave',
  'seen',
  'kw',
  'move',
  'del',
  'repair',
  'idle',
  'uv',
  'big',
  'cut',
  'restart',
  'badca',
];

describe('IMAP poller against Dovecot', () => {
  let dovecot: RunningDovecot;

  before(async () => {
    dovecot = await startDovecot(USERS);
  });
  after(async () => {
    await dovecot?.stop();
  });

  function account(user: string, over: Partial<PollerAccount> = {}): PollerAccount {
    return {
      name: `acct-${user}`,
      protocol: 'imap',
      host: '127.0.0.1',
      port: dovecot.ports.imaps,
      tls: 'implicit',
      tlsVerify: true,
      user,
      password: dovecot.passwords.get(user)!,
      afterImport: 'leave',
      pollIntervalMs: 10 * 60_000,
      maxMessageBytes: 10 * 1024 * 1024,
      ...over,
    };
  }

  function poller(acct: PollerAccount, sink: ImportSink, logger = captureLogger().logger) {
    return createImapPoller(acct, {
      sink,
      logger,
      tls: { ca: dovecot.ca },
      backoff: { initialMs: 20, maxMs: 200 },
      timeoutMs: 20_000,
    });
  }

  it('imports each message once, nothing on the next pass and nothing after a restart', GUARD, async () => {
    const sent = [mail('one'), mail('two', 'no id\r\n', false), mail('three')];
    for (const m of sent) await dovecot.append('leave', m);
    const uidValidity = await dovecot.uidValidity('leave');
    const sink = new MemorySink();
    const first = poller(account('leave'), sink);
    assert.deepEqual(await first.pollOnce(), { imported: 3, duplicates: 0, skipped: 0 });
    assert.deepEqual(
      sink.stored.map((m) => Buffer.from(m.raw)),
      sent,
    );
    sink.stored.forEach((m, i) => {
      assert.equal(m.source, 'imap:acct-leave');
      assert.equal(m.keys[0], `imap:acct-leave:INBOX:${uidValidity}:${i + 1}`);
      assert.match(m.keys[1]!, /^content:acct-leave:[0-9a-f]{64}:\d+$/);
      assert.ok(m.receivedAt && !Number.isNaN(Date.parse(m.receivedAt)));
    });
    // Downloaded with BODY.PEEK: nobody's unread mail turned read.
    for (const m of await dovecot.messages('leave')) assert.ok(!m.flags.has('\\Seen'));

    const asked = sink.asked.length;
    assert.deepEqual(await first.pollOnce(), { imported: 0, duplicates: 0, skipped: 0 });
    assert.equal(sink.asked.length, asked, 'the high-water mark spares the sink a look at old UIDs');

    const restarted = poller(account('leave'), sink);
    assert.deepEqual(await restarted.pollOnce(), { imported: 0, duplicates: 0, skipped: 0 });
    assert.equal(sink.acceptCalls, 3, 'nothing was downloaded again');
    assert.deepEqual(sink.asked.at(-1)?.length, 3, 'after a restart the UID keys are checked in one batch');
    assert.equal((await dovecot.messages('leave')).length, 3);
  });

  it("marks imported messages \\Seen with afterImport 'flag' (over STARTTLS)", GUARD, async () => {
    await dovecot.append('seen', mail('a'));
    await dovecot.append('seen', mail('b'));
    const sink = new MemorySink();
    const p = poller(
      account('seen', { afterImport: 'flag', tls: 'starttls', port: dovecot.ports.imap }),
      sink,
    );
    assert.equal((await p.pollOnce()).imported, 2);
    await dovecot.append('seen', mail('c'));
    assert.equal((await p.pollOnce()).imported, 1);
    const left = await dovecot.messages('seen');
    assert.equal(left.length, 3);
    for (const m of left) assert.ok(m.flags.has('\\Seen'), `UID ${m.uid} is \\Seen`);
  });

  it(
    'sets a keyword, imports mail a person already read, and skips keyworded mail after a restart',
    GUARD,
    async () => {
      await dovecot.append('kw', mail('read by a person'), 'INBOX', ['\\Seen']);
      await dovecot.append('kw', mail('unread'));
      const sink = new MemorySink();
      const acct = account('kw', {
        afterImport: 'flag',
        flag: '$MailroomImported',
        tls: 'none',
        port: dovecot.ports.imap,
      });
      assert.equal((await poller(acct, sink).pollOnce()).imported, 2);
      for (const m of await dovecot.messages('kw')) assert.ok(m.flags.has('$MailroomImported'));
      const asked = sink.asked.length;
      assert.deepEqual(await poller(acct, sink).pollOnce(), { imported: 0, duplicates: 0, skipped: 0 });
      assert.equal(sink.asked.length, asked, 'keyworded messages are not even looked up');
    },
  );

  it("moves imported messages with afterImport 'move'", GUARD, async () => {
    await dovecot.createMailbox('move', 'Imported');
    const sent = [mail('m1'), mail('m2')];
    for (const m of sent) await dovecot.append('move', m);
    const sink = new MemorySink();
    const p = poller(account('move', { afterImport: 'move', moveTo: 'Imported' }), sink);
    assert.equal((await p.pollOnce()).imported, 2);
    assert.equal((await dovecot.messages('move')).length, 0);
    assert.deepEqual(
      (await dovecot.messages('move', 'Imported')).map((m) => m.raw),
      sent,
    );
    assert.deepEqual(await p.pollOnce(), { imported: 0, duplicates: 0, skipped: 0 });
  });

  it("deletes and expunges imported messages with afterImport 'delete'", GUARD, async () => {
    await dovecot.append('del', mail('d1'));
    await dovecot.append('del', mail('d2'));
    const sink = new MemorySink();
    assert.equal((await poller(account('del', { afterImport: 'delete' }), sink).pollOnce()).imported, 2);
    assert.equal((await dovecot.messages('del')).length, 0);
    assert.equal(sink.stored.length, 2);
  });

  it(
    'repeats the after-import action that a dropped connection prevented, without importing again',
    GUARD,
    async () => {
      await dovecot.createMailbox('repair', 'Imported');
      await dovecot.append('repair', mail('r1'));
      const proxy = await startCuttingProxy(dovecot.ports.imaps);
      try {
        const sink = new MemorySink();
        // The connection dies right after the sink committed, before the MOVE is sent.
        sink.onStored = () => proxy.cutAll();
        const p = poller(
          account('repair', { afterImport: 'move', moveTo: 'Imported', port: proxy.port }),
          sink,
        );
        await assert.rejects(p.pollOnce());
        assert.equal(sink.stored.length, 1);
        assert.equal((await dovecot.messages('repair')).length, 1, 'not moved yet');
        sink.onStored = null;
        assert.deepEqual(await p.pollOnce(), { imported: 0, duplicates: 0, skipped: 0 });
        assert.equal((await dovecot.messages('repair')).length, 0);
        assert.equal((await dovecot.messages('repair', 'Imported')).length, 1);
        assert.equal(sink.stored.length, 1);
      } finally {
        await proxy.close();
      }
    },
  );

  it('picks up a message appended while it waits in IDLE', GUARD, async () => {
    await dovecot.append('idle', mail('before start'));
    const sink = new MemorySink();
    // The poll interval is far beyond the guard: only IDLE can bring the second message in time.
    const p = poller(account('idle', { pollIntervalMs: 60 * 60_000 }), sink);
    p.start();
    try {
      await waitFor('the first pass', () => sink.stored.length === 1);
      const later = mail('after start');
      await dovecot.append('idle', later);
      await waitFor('the message announced by IDLE', () => sink.stored.length === 2);
      assert.deepEqual(Buffer.from(sink.stored[1]!.raw), later);
    } finally {
      await p.stop();
    }
  });

  it('recognises messages renumbered under a new UIDVALIDITY by their content key', GUARD, async () => {
    await dovecot.append('uv', mail('x1'));
    await dovecot.append('uv', mail('x2', 'no id either\r\n', false));
    const sink = new MemorySink();
    const p = poller(account('uv'), sink);
    assert.equal((await p.pollOnce()).imported, 2);
    const before = await dovecot.uidValidity('uv');
    const after = await dovecot.renumber('uv');
    assert.notEqual(after, before);
    const fresh = mail('x3');
    await dovecot.append('uv', fresh);
    assert.deepEqual(await p.pollOnce(), { imported: 1, duplicates: 2, skipped: 0 });
    assert.equal(sink.acceptCalls, 3, 'the renumbered messages were recognised before downloading them');
    assert.deepEqual(Buffer.from(sink.stored[2]!.raw), fresh);
    assert.ok(sink.stored[2]!.keys[0]!.includes(`:${after}:`));
    assert.deepEqual(await poller(account('uv'), sink).pollOnce(), {
      imported: 0,
      duplicates: 2,
      skipped: 0,
    });
  });

  it(
    'leaves a message over maxMessageBytes on the server, says why once, and does not retry it',
    GUARD,
    async () => {
      await dovecot.append('big', mail('small 1'));
      await dovecot.append('big', mail('too big', `${'z'.repeat(76)}\r\n`.repeat(100)));
      await dovecot.append('big', mail('small 2'));
      // Its header section alone passes the cap (and the literal cap of the connection).
      await dovecot.append('big', Buffer.from(`X-Filler: ${'h'.repeat(70)}\r\n`.repeat(80) + '\r\nbody\r\n'));
      const sink = new MemorySink();
      const { logger, lines } = captureLogger();
      const p = poller(account('big', { maxMessageBytes: 4000 }), sink, logger);
      assert.deepEqual(await p.pollOnce(), { imported: 2, duplicates: 0, skipped: 2 });
      assert.deepEqual(await p.pollOnce(), { imported: 0, duplicates: 0, skipped: 0 });
      const warnings = lines.filter((l) => String(l.msg).includes('larger than maxMessageBytes'));
      assert.deepEqual(
        warnings.map((w) => [w.uid, w.maxMessageBytes]),
        [
          [2, 4000],
          [4, 4000],
        ],
      );
      assert.equal((await dovecot.messages('big')).length, 4);
      assert.equal(sink.acceptCalls, 2);
    },
  );

  it('retries a download cut off mid-message and imports it once', GUARD, async () => {
    const large = mail('large', `${'q'.repeat(998)}\r\n`.repeat(4000));
    await dovecot.append('cut', large);
    const proxy = await startCuttingProxy(dovecot.ports.imaps);
    try {
      // Well past login and the header fetch, well before the end of the 4 MB body.
      proxy.cutNextAfter(1024 * 1024);
      const sink = new MemorySink();
      const { logger, lines } = captureLogger();
      const p = poller(account('cut', { port: proxy.port }), sink, logger);
      p.start();
      try {
        await waitFor('the retried import', () => sink.stored.length === 1);
      } finally {
        await p.stop();
      }
      assert.equal(proxy.cuts, 1);
      assert.ok(proxy.connections >= 2);
      assert.ok(lines.some((l) => String(l.msg).includes('reconnecting')));
      assert.deepEqual(Buffer.from(sink.stored[0]!.raw), large);
      assert.deepEqual(await p.pollOnce(), { imported: 0, duplicates: 0, skipped: 0 });
      assert.equal(sink.stored.length, 1);
    } finally {
      await proxy.close();
    }
  });

  it('refuses a server certificate it cannot verify', GUARD, async () => {
    const p = createImapPoller(account('badca'), { sink: new MemorySink(), logger: captureLogger().logger });
    await assert.rejects(p.pollOnce(), /certificate/i);
  });

  it('reconnects after Dovecot restarts and goes on importing', GUARD, async () => {
    await dovecot.append('restart', mail('before'));
    const sink = new MemorySink();
    const p = poller(account('restart'), sink);
    p.start();
    try {
      await waitFor('the first import', () => sink.stored.length === 1);
      await dovecot.restart();
      await dovecot.append('restart', mail('after'));
      await waitFor('the import after the restart', () => sink.stored.length === 2);
    } finally {
      await p.stop();
    }
    assert.equal(sink.stored.length, 2);
  });
});
