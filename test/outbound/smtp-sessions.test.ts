// SMTP sessions reused between deliveries (SmtpSessionCache), against smtp-server on loopback:
// one connection carries several messages; a refusal is cleared with RSET and the session kept;
// a session the server dropped while idle is replaced without losing or doubling the message;
// sessions go after their idle time, their transaction count, and when the cache closes.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  deliverOverSmtp,
  type SessionCacheOptions,
  type SmtpLimits,
  SmtpSessionCache,
  type SmtpTarget,
} from '../../src/outbound/smtp-client.ts';
import { readData, type ScriptedSmtp, scriptedSmtp } from '../helpers/smtp-peer.ts';

const LIMITS: SmtpLimits = { connectMs: 2000, socketMs: 2000, attemptMs: 5000, maxReadBytes: 64 * 1024 };
const target = (port: number): SmtpTarget => ({
  host: '127.0.0.1',
  port,
  tls: 'none',
  heloName: 'mailroom.test',
  verifyTls: false,
});
const message = (subject: string, to = ['ann@one.example']) => ({
  mailFrom: 'app@shop.example',
  recipients: to,
  raw: new TextEncoder().encode(`Subject: ${subject}\r\n\r\nbody\r\n`),
});
const refusal = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await sleep(10);
  assert.ok(condition(), 'the condition did not come true');
}

describe('SMTP session cache', () => {
  let server: ScriptedSmtp;
  let connections: number;
  let subjects: { connection: number; subject: string }[];
  let cache: SmtpSessionCache;

  async function start(options: Partial<SessionCacheOptions> = {}) {
    cache = new SmtpSessionCache(options);
  }

  beforeEach(async () => {
    connections = 0;
    subjects = [];
    const ids = new Map<string, number>();
    server = await scriptedSmtp({
      onConnect(session, cb) {
        ids.set(session.id, ++connections);
        cb();
      },
      onRcptTo(address, _session, cb) {
        if (address.address.startsWith('gone@')) return cb(refusal(550, '5.1.1 No such user'));
        cb();
      },
      onData(stream, session, cb) {
        void readData(stream).then((data) => {
          subjects.push({ connection: ids.get(session.id)!, subject: /Subject: (.*)/.exec(data)![1]! });
          cb(null, 'queued');
        });
      },
    });
    await start();
  });
  afterEach(async () => {
    cache.close();
    await server.close();
  });

  it('carries messages to the same server over one connection', async () => {
    for (const subject of ['one', 'two', 'three']) {
      const r = await deliverOverSmtp(target(server.port), message(subject), {
        limits: LIMITS,
        sessions: cache,
      });
      assert.equal(r.results[0]?.outcome, 'delivered');
    }
    assert.deepEqual(subjects, [
      { connection: 1, subject: 'one' },
      { connection: 1, subject: 'two' },
      { connection: 1, subject: 'three' },
    ]);
    assert.equal(cache.size, 1);
    // Without a cache, each attempt has its own connection.
    await deliverOverSmtp(target(server.port), message('four'), { limits: LIMITS });
    await deliverOverSmtp(target(server.port), message('five'), { limits: LIMITS });
    assert.deepEqual(
      subjects.slice(3).map((s) => s.connection),
      [2, 3],
    );
  });

  it('keeps a session after a refusal, cleared with RSET', async () => {
    const refused = await deliverOverSmtp(target(server.port), message('no', ['gone@one.example']), {
      limits: LIMITS,
      sessions: cache,
    });
    assert.equal(refused.results[0]?.outcome, 'bounced');
    assert.match(refused.results[0]?.reply ?? '', /^550/);
    const ok = await deliverOverSmtp(target(server.port), message('yes'), {
      limits: LIMITS,
      sessions: cache,
    });
    assert.equal(ok.results[0]?.outcome, 'delivered');
    assert.deepEqual(subjects, [{ connection: 1, subject: 'yes' }]);
  });

  it('replaces a session the server dropped while it was idle, delivering once', async () => {
    await deliverOverSmtp(target(server.port), message('first'), { limits: LIMITS, sessions: cache });
    assert.equal(cache.size, 1);
    // The server side hangs up without a word, as a server's idle timeout does.
    server.dropConnections();
    const r = await deliverOverSmtp(target(server.port), message('second'), {
      limits: LIMITS,
      sessions: cache,
    });
    assert.equal(r.results[0]?.outcome, 'delivered');
    assert.deepEqual(subjects, [
      { connection: 1, subject: 'first' },
      { connection: 2, subject: 'second' },
    ]);
  });

  it('closes sessions after their idle time, their transaction count, or when the cache closes', async () => {
    await start({ idleMs: 30 });
    await deliverOverSmtp(target(server.port), message('a'), { limits: LIMITS, sessions: cache });
    assert.equal(cache.size, 1);
    await until(() => cache.size === 0);
    await deliverOverSmtp(target(server.port), message('b'), { limits: LIMITS, sessions: cache });
    assert.deepEqual(
      subjects.map((s) => s.connection),
      [1, 2],
    );
    cache.close();

    await start({ maxTransactions: 2 });
    for (const subject of ['c', 'd', 'e']) {
      await deliverOverSmtp(target(server.port), message(subject), { limits: LIMITS, sessions: cache });
    }
    assert.deepEqual(
      subjects.slice(2).map((s) => s.connection),
      [3, 3, 4],
    );
    assert.equal(cache.size, 1);
    cache.close();
    assert.equal(cache.size, 0);
    // A closed cache keeps nothing more.
    await deliverOverSmtp(target(server.port), message('f'), { limits: LIMITS, sessions: cache });
    assert.equal(cache.size, 0);
  });
});
