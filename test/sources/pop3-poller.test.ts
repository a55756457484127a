// The POP3 poller against a real Dovecot (import once, restart, leave and delete, TLS and STLS, a
// connection cut mid-RETR) and against a scripted server for what Dovecot will not do (no UIDL,
// understated sizes, unique-ids that change).
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, type Logger } from '../../src/observability/logger.ts';
import { backoffDelay } from '../../src/sources/backoff.ts';
import { createPop3Poller } from '../../src/sources/pop3-poller.ts';
import type { ImportedMessage, ImportSink, PollerAccount } from '../../src/sources/types.ts';
import { type RunningDovecot, startCuttingProxy, startDovecot } from '../helpers/dovecot.ts';

const GUARD = { timeout: 60_000 };
// Made per run, for the scripted server and for a login Dovecot must refuse.
const RIGHT = randomBytes(9).toString('base64url');
const WRONG = randomBytes(9).toString('base64url');

/** What the storage does, in memory: keys are claimed atomically with the message. */
class MemorySink implements ImportSink {
  readonly stored: ImportedMessage[] = [];
  readonly keys = new Set<string>();
  readonly asked: string[][] = [];
  acceptCalls = 0;

  async importedAmong(keys: readonly string[]): Promise<Set<string>> {
    this.asked.push([...keys]);
    return new Set(keys.filter((k) => this.keys.has(k)));
  }

  async accept(message: ImportedMessage): Promise<'stored' | 'duplicate'> {
    this.acceptCalls += 1;
    if (message.keys.some((k) => this.keys.has(k))) return 'duplicate';
    this.stored.push(message);
    for (const k of message.keys) this.keys.add(k);
    return 'stored';
  }
}

function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('debug', { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

function mail(subject: string, body = 'hello\r\n'): Buffer {
  return Buffer.from(
    `From: sender@example.test\r\nMessage-ID: <${randomUUID()}@example.test>\r\nSubject: ${subject}\r\n\r\n${body}`,
  );
}

async function waitFor(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface ScriptedDrop {
  messages: Array<{ uid: string; raw: Buffer }>;
  /** LIST answers with these sizes instead of the true ones. */
  claimedSizes?: number[];
  noUidl?: boolean;
  /** PASS is refused unless it carries this; any password passes when unset. */
  password?: string;
}

/** A scripted POP3 server over loopback; records every command. */
async function scriptedPop3(drop: ScriptedDrop) {
  const commands: string[] = [];
  const answer = (verb: string, arg: string): string => {
    const m = drop.messages;
    const size = (i: number) => drop.claimedSizes?.[i] ?? m[i]!.raw.length;
    if (verb === 'CAPA') return `+OK\r\n${drop.noUidl ? '' : 'UIDL\r\n'}USER\r\n.\r\n`;
    if (verb === 'STAT') return `+OK ${m.length} ${m.reduce((s, x) => s + x.raw.length, 0)}\r\n`;
    if (verb === 'UIDL')
      return drop.noUidl
        ? '-ERR command not implemented\r\n'
        : `+OK\r\n${m.map((x, i) => `${i + 1} ${x.uid}\r\n`).join('')}.\r\n`;
    if (verb === 'LIST') return `+OK\r\n${m.map((_x, i) => `${i + 1} ${size(i)}\r\n`).join('')}.\r\n`;
    if (verb === 'RETR') return `+OK\r\n${m[Number(arg) - 1]!.raw.toString('latin1')}.\r\n`;
    if (verb === 'PASS' && drop.password !== undefined && arg !== drop.password) return '-ERR [AUTH] no\r\n';
    return '+OK\r\n';
  };
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.write('+OK scripted\r\n');
    let pending = '';
    socket.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      for (let i = pending.indexOf('\r\n'); i >= 0; i = pending.indexOf('\r\n')) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 2);
        commands.push(line);
        const [verb = '', arg = ''] = line.split(' ');
        if (!socket.destroyed) socket.write(answer(verb, arg), 'latin1');
        if (verb === 'QUIT') socket.end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    commands,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function scriptedAccount(port: number, over: Partial<PollerAccount> = {}): PollerAccount {
  return {
    name: 'scripted',
    protocol: 'pop3',
    host: '127.0.0.1',
    port,
    tls: 'none',
    tlsVerify: true,
    user: 'u',
    password: RIGHT,
    afterImport: 'leave',
    pollIntervalMs: 60_000,
    maxMessageBytes: 1024 * 1024,
    ...over,
  };
}

describe('POP3 poller against a scripted server', () => {
  it('fails clearly when the server has no UIDL', GUARD, async () => {
    const server = await scriptedPop3({ messages: [{ uid: 'a', raw: mail('x') }], noUidl: true });
    try {
      const p = createPop3Poller(scriptedAccount(server.port), {
        sink: new MemorySink(),
        logger: captureLogger().logger,
      });
      await assert.rejects(p.pollOnce(), /does not support UIDL/);
      assert.ok(!server.commands.some((c) => c.startsWith('RETR')));
    } finally {
      await server.close();
    }
  });

  it(
    'skips a message whose LIST size understated it, after one attempt, and imports the rest',
    GUARD,
    async () => {
      const big = mail('big', `${'b'.repeat(70)}\r\n`.repeat(200));
      const small = mail('small');
      const server = await scriptedPop3({
        messages: [
          { uid: 'big', raw: big },
          { uid: 'small', raw: small },
        ],
        claimedSizes: [100, small.length],
      });
      try {
        const sink = new MemorySink();
        const { logger, lines } = captureLogger();
        const p = createPop3Poller(scriptedAccount(server.port, { maxMessageBytes: 4000 }), { sink, logger });
        assert.deepEqual(await p.pollOnce(), { imported: 1, duplicates: 0, skipped: 1 });
        assert.deepEqual(await p.pollOnce(), { imported: 0, duplicates: 0, skipped: 1 });
        assert.equal(server.commands.filter((c) => c === 'RETR 1').length, 1, 'the big one was tried once');
        assert.deepEqual(Buffer.from(sink.stored[0]!.raw), small);
        const warnings = lines.filter((l) => String(l.msg).includes('larger than maxMessageBytes'));
        assert.equal(warnings.length, 1);
        assert.equal(warnings[0]!.uidl, 'big');
      } finally {
        await server.close();
      }
    },
  );

  it(
    'recognises messages whose unique-ids changed by their content key, and still deletes them',
    GUARD,
    async () => {
      const messages = [
        { uid: 'old-1', raw: mail('one') },
        { uid: 'old-2', raw: mail('two') },
      ];
      const server = await scriptedPop3({ messages });
      try {
        const sink = new MemorySink();
        const logger = captureLogger().logger;
        assert.equal(
          (await createPop3Poller(scriptedAccount(server.port), { sink, logger }).pollOnce()).imported,
          2,
        );
        messages[0]!.uid = 'new-1';
        messages[1]!.uid = 'new-2';
        const p = createPop3Poller(scriptedAccount(server.port, { afterImport: 'delete' }), { sink, logger });
        assert.deepEqual(await p.pollOnce(), { imported: 0, duplicates: 2, skipped: 0 });
        // Downloaded again (POP3 offers no header-only look that counts), handed over, refused, deleted.
        assert.deepEqual(server.commands.slice(-5), ['RETR 1', 'DELE 1', 'RETR 2', 'DELE 2', 'QUIT']);
        assert.equal(sink.stored.length, 2);
      } finally {
        await server.close();
      }
    },
  );

  it(
    'reconnects after failures with exponential backoff and jitter, and stops when told',
    GUARD,
    async () => {
      const server = await scriptedPop3({ messages: [], password: RIGHT });
      try {
        const waits: number[] = [];
        const { logger, lines } = captureLogger();
        const p = createPop3Poller(scriptedAccount(server.port, { password: WRONG }), {
          sink: new MemorySink(),
          logger,
          backoff: { initialMs: 100, maxMs: 1000 },
          random: () => 0.5,
          // The clock is ours: every wait is recorded and passes at once.
          sleep: async (ms) => {
            waits.push(ms);
            await sleep(1);
          },
        });
        p.start();
        try {
          await waitFor('six reconnects', () => waits.length >= 6);
        } finally {
          await p.stop();
        }
        // Half the ceiling plus half of it again at random 0.5; the ceiling doubles up to maxMs.
        assert.deepEqual(waits.slice(0, 6), [75, 150, 300, 600, 750, 750]);
        assert.ok(
          lines.some(
            (l) =>
              String(l.msg).includes('reconnecting') &&
              String(l.err && JSON.stringify(l.err)).includes('PASS refused'),
          ),
        );
        assert.ok(!JSON.stringify(lines).includes(WRONG), 'the password is never logged');
      } finally {
        await server.close();
      }
    },
  );

  it('spreads reconnect delays between half the ceiling and the ceiling', () => {
    const policy = { initialMs: 1000, maxMs: 60_000 };
    assert.equal(
      backoffDelay(1, policy, () => 0),
      500,
    );
    assert.equal(
      backoffDelay(1, policy, () => 0.999999),
      1000,
    );
    assert.equal(
      backoffDelay(3, policy, () => 0),
      2000,
    );
    assert.equal(
      backoffDelay(30, policy, () => 0),
      30_000,
    );
    assert.equal(
      backoffDelay(30, policy, () => 0.999999),
      60_000,
    );
  });

  it('refuses after-import actions POP3 does not have', () => {
    const deps = { sink: new MemorySink(), logger: captureLogger().logger };
    assert.throws(
      () => createPop3Poller(scriptedAccount(1, { afterImport: 'move' }), deps),
      /leave or delete/,
    );
    assert.throws(
      () => createPop3Poller(scriptedAccount(1, { afterImport: 'flag' }), deps),
      /leave or delete/,
    );
  });
});

describe('POP3 poller against Dovecot', () => {
  let dovecot: RunningDovecot;

  before(async () => {
    dovecot = await startDovecot(['leave', 'del', 'cut', 'big', 'loop', 'wrong']);
  });
  after(async () => {
    await dovecot?.stop();
  });

  function account(user: string, over: Partial<PollerAccount> = {}): PollerAccount {
    return {
      name: `acct-${user}`,
      protocol: 'pop3',
      host: '127.0.0.1',
      port: dovecot.ports.pop3s,
      tls: 'implicit',
      tlsVerify: true,
      user,
      password: dovecot.passwords.get(user)!,
      afterImport: 'leave',
      pollIntervalMs: 60_000,
      maxMessageBytes: 10 * 1024 * 1024,
      ...over,
    };
  }

  function poller(acct: PollerAccount, sink: ImportSink, logger = captureLogger().logger) {
    return createPop3Poller(acct, {
      sink,
      logger,
      tls: { ca: dovecot.ca },
      backoff: { initialMs: 20, maxMs: 200 },
      timeoutMs: 20_000,
    });
  }

  it('imports each message once, nothing on the next pass and nothing after a restart', GUARD, async () => {
    const sent = [mail('one'), mail('two', '.starts with a dot\r\n'), mail('three')];
    for (const m of sent) await dovecot.append('leave', m);
    const sink = new MemorySink();
    const first = poller(account('leave'), sink);
    assert.deepEqual(await first.pollOnce(), { imported: 3, duplicates: 0, skipped: 0 });
    assert.deepEqual(
      sink.stored.map((m) => Buffer.from(m.raw)),
      sent,
    );
    for (const m of sink.stored) {
      assert.equal(m.source, 'pop3:acct-leave');
      assert.match(m.keys[0]!, /^pop3:acct-leave:[\x21-\x7e]+$/);
      assert.match(m.keys[1]!, /^content:acct-leave:[0-9a-f]{64}:\d+$/);
    }
    const asked = sink.asked.length;
    assert.deepEqual(await first.pollOnce(), { imported: 0, duplicates: 0, skipped: 0 });
    assert.equal(sink.asked.length, asked, 'known unique-ids are not looked up again');
    assert.deepEqual(await poller(account('leave'), sink).pollOnce(), {
      imported: 0,
      duplicates: 0,
      skipped: 0,
    });
    assert.equal(sink.asked.at(-1)?.length, 3, 'after a restart the keys are checked in one batch');
    assert.equal(sink.acceptCalls, 3);
    assert.equal((await dovecot.messages('leave')).length, 3);
  });

  it("deletes imported messages with afterImport 'delete' (over STLS)", GUARD, async () => {
    await dovecot.append('del', mail('d1'));
    await dovecot.append('del', mail('d2'));
    const sink = new MemorySink();
    const p = poller(
      account('del', { afterImport: 'delete', tls: 'starttls', port: dovecot.ports.pop3 }),
      sink,
    );
    assert.equal((await p.pollOnce()).imported, 2);
    assert.equal((await dovecot.messages('del')).length, 0);
    assert.deepEqual(await p.pollOnce(), { imported: 0, duplicates: 0, skipped: 0 });
  });

  it(
    'retries a RETR cut off mid-message without a duplicate, and deletes what the cut left behind',
    GUARD,
    async () => {
      const small = mail('small');
      const large = mail('large', `${'q'.repeat(998)}\r\n`.repeat(2000));
      await dovecot.append('cut', small);
      await dovecot.append('cut', large);
      const proxy = await startCuttingProxy(dovecot.ports.pop3);
      try {
        proxy.cutNextAfter(512 * 1024);
        const sink = new MemorySink();
        const p = poller(account('cut', { afterImport: 'delete', tls: 'none', port: proxy.port }), sink);
        await assert.rejects(p.pollOnce(), /closed/);
        assert.equal(sink.stored.length, 1, 'the small one was stored before the cut');
        assert.equal((await dovecot.messages('cut')).length, 2, 'no QUIT, so nothing was deleted');
        assert.deepEqual(await p.pollOnce(), { imported: 1, duplicates: 0, skipped: 0 });
        assert.equal(sink.acceptCalls, 2, 'the small one was not downloaded again');
        assert.deepEqual(
          sink.stored.map((m) => Buffer.from(m.raw)),
          [small, large],
        );
        assert.equal((await dovecot.messages('cut')).length, 0);
      } finally {
        await proxy.close();
      }
    },
  );

  it('leaves a message larger than maxMessageBytes on the server without downloading it', GUARD, async () => {
    await dovecot.append('big', mail('small'));
    await dovecot.append('big', mail('too big', `${'z'.repeat(76)}\r\n`.repeat(100)));
    const sink = new MemorySink();
    const { logger, lines } = captureLogger();
    const p = poller(account('big', { maxMessageBytes: 4000, afterImport: 'delete' }), sink, logger);
    assert.deepEqual(await p.pollOnce(), { imported: 1, duplicates: 0, skipped: 1 });
    assert.deepEqual(await p.pollOnce(), { imported: 0, duplicates: 0, skipped: 1 });
    assert.equal(lines.filter((l) => String(l.msg).includes('larger than maxMessageBytes')).length, 1);
    const left = await dovecot.messages('big');
    assert.equal(left.length, 1);
    assert.match(left[0]!.raw.toString(), /Subject: too big/);
  });

  it('polls in the background until stopped', GUARD, async () => {
    const sink = new MemorySink();
    const p = poller(account('loop', { pollIntervalMs: 50 }), sink);
    p.start();
    try {
      await dovecot.append('loop', mail('first'));
      await waitFor('the first message', () => sink.stored.length === 1);
      await dovecot.append('loop', mail('second'));
      await waitFor('the second message', () => sink.stored.length === 2);
    } finally {
      await p.stop();
    }
    assert.equal(sink.acceptCalls, 2);
  });

  it('fails a pass on a refused login', GUARD, async () => {
    const p = poller(account('wrong', { password: WRONG }), new MemorySink());
    await assert.rejects(
      p.pollOnce(),
      (err: Error) => /PASS refused/.test(err.message) && !err.message.includes(WRONG),
    );
  });
});
