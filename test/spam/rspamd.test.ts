// The Rspamd client against a real Rspamd normal worker (started once for the file, offline),
// plus stand-in servers for what a healthy Rspamd never does: refuse, hang, or answer garbage.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RspamdChecker } from '../../src/spam/rspamd.ts';
import { SpamCheckError, type SpamResult } from '../../src/spam/types.ts';
import {
  freePort,
  type RunningRspamd,
  startRspamd,
  startScriptedHttpServer,
  startStallingServer,
} from '../helpers/spam-daemons.ts';
import { gtubeMessage, hamMessage, largeMessage } from './messages.ts';

async function checkError(p: Promise<SpamResult>): Promise<SpamCheckError> {
  const err = await p.then(
    (r) => assert.fail(`expected a failed check, got ${JSON.stringify(r)}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof SpamCheckError, `expected SpamCheckError, got ${String(err)}`);
  assert.equal(err.engine, 'rspamd');
  return err;
}

function ruleNames(result: SpamResult): string {
  return result.Rules.map((r) => r.Name).join(', ');
}

describe('Rspamd (real daemon)', () => {
  let rspamd: RunningRspamd;
  let checker: RspamdChecker;

  before(async () => {
    rspamd = await startRspamd();
    console.log(`rspamd ready in ${rspamd.startMs} ms at ${rspamd.url}`);
    checker = new RspamdChecker({ url: rspamd.url, timeoutMs: 20_000 });
  });
  after(async () => {
    await rspamd?.stop();
  });

  test('GTUBE is spam with a high score and the GTUBE symbol', async () => {
    const result = await checker.check(gtubeMessage(), { clientIp: '127.0.0.1' });
    assert.equal(result.Engine, 'rspamd');
    assert.equal(result.Error, '');
    assert.equal(result.IsSpam, true);
    // GTUBE makes Rspamd reject outright: the score is set to the reject threshold (15 by default).
    assert.ok(result.Score >= 15, `score ${result.Score}`);
    assert.ok(
      result.Rules.some((r) => r.Name === 'GTUBE'),
      ruleNames(result),
    );
  });

  test('a plain message is not spam; rules come highest score first', async () => {
    const result = await checker.check(hamMessage(), {
      clientIp: '127.0.0.1',
      helo: 'client.example.com',
      mailFrom: 'ann@example.com',
      rcptTo: ['bob@example.org'],
    });
    assert.deepEqual(Object.keys(result), ['IsSpam', 'Error', 'Score', 'Rules', 'Engine']);
    assert.equal(result.IsSpam, false);
    assert.equal(result.Error, '');
    assert.ok(result.Score < 6, `score ${result.Score}`);
    assert.ok(result.Rules.length > 0);
    assert.ok(!result.Rules.some((r) => r.Name === 'GTUBE'));
    for (let i = 1; i < result.Rules.length; i++) {
      assert.ok(result.Rules[i - 1]!.Score >= result.Rules[i]!.Score, ruleNames(result));
    }
    for (const rule of result.Rules) assert.deepEqual(Object.keys(rule), ['Score', 'Name', 'Description']);
  });

  test('the SMTP envelope reaches Rspamd', async () => {
    const same = await checker.check(hamMessage(), {
      clientIp: '127.0.0.1',
      mailFrom: 'ann@example.com',
      rcptTo: ['bob@example.org'],
    });
    assert.ok(
      same.Rules.some((r) => r.Name === 'FROM_EQ_ENVFROM'),
      ruleNames(same),
    );
    assert.ok(
      same.Rules.some((r) => r.Name === 'TO_MATCH_ENVRCPT_ALL'),
      ruleNames(same),
    );

    const other = await checker.check(hamMessage(), {
      clientIp: '127.0.0.1',
      mailFrom: 'bounces@lists.example.net',
      rcptTo: ['bob@example.org', 'carol@example.org'],
    });
    const neq = other.Rules.find((r) => r.Name === 'FROM_NEQ_ENVFROM');
    assert.ok(neq, ruleNames(other));
    // Symbol options are kept in the description.
    assert.match(neq.Description, /\[.*bounces@lists\.example\.net.*\]$/);
  });

  test('odd context values are cleaned or left out, and the check still runs', async () => {
    const result = await checker.check(hamMessage(), {
      clientIp: 'not-an-ip',
      helo: 'evil.example\r\nPass: all',
      mailFrom: 'ann@example.com',
      rcptTo: ['bob@example.org', ''],
      authUser: 'ännä',
    });
    assert.equal(result.Error, '');
    assert.equal(result.IsSpam, false);
  });

  test('a large message under the cap is scored', async () => {
    const message = largeMessage(450_000);
    const result = await checker.check(message, { clientIp: '127.0.0.1' });
    assert.equal(result.Error, '');
    assert.equal(result.IsSpam, false);
    assert.ok(Number.isFinite(result.Score));
  });

  test('a base URL with a trailing slash works too', async () => {
    const slash = new RspamdChecker({ url: `${rspamd.url}/`, timeoutMs: 20_000 });
    assert.equal(slash.endpoint.href, `${rspamd.url}/checkv2`);
    const result = await slash.check(gtubeMessage(), {});
    assert.equal(result.IsSpam, true);
  });
});

describe('Rspamd client failures', () => {
  test('connection refused is a clean "unavailable" error', async () => {
    const port = await freePort();
    const checker = new RspamdChecker({ url: `http://127.0.0.1:${port}`, timeoutMs: 5000 });
    const err = await checkError(checker.check(hamMessage(), {}));
    assert.equal(err.kind, 'unavailable');
    assert.equal(err.message, `cannot reach rspamd at http://127.0.0.1:${port}: connection refused`);
  });

  test('a server that accepts but never answers hits the deadline', async () => {
    const server = await startStallingServer();
    try {
      const checker = new RspamdChecker({ url: `http://127.0.0.1:${server.port}`, timeoutMs: 300 });
      const started = Date.now();
      const err = await checkError(checker.check(hamMessage(), {}));
      const elapsed = Date.now() - started;
      assert.equal(err.kind, 'timeout');
      assert.equal(err.message, `rspamd at http://127.0.0.1:${server.port} did not answer within 300 ms`);
      // Not before the deadline (no upper bound: tests never assert on how long things take).
      assert.ok(elapsed >= 250, `took ${elapsed} ms`);
      assert.equal(server.connections, 1);
    } finally {
      await server.close();
    }
  });

  test('a server that stalls in the middle of its answer hits the deadline', async () => {
    const server = await startStallingServer(
      'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{"score": 1.0,',
    );
    try {
      const checker = new RspamdChecker({ url: `http://127.0.0.1:${server.port}`, timeoutMs: 300 });
      const err = await checkError(checker.check(hamMessage(), {}));
      assert.equal(err.kind, 'timeout');
    } finally {
      await server.close();
    }
  });

  test("the caller's signal aborts a check", async () => {
    const server = await startStallingServer();
    try {
      const checker = new RspamdChecker({ url: `http://127.0.0.1:${server.port}`, timeoutMs: 10_000 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const err = await checkError(checker.check(hamMessage(), {}, controller.signal));
      assert.equal(err.kind, 'aborted');
    } finally {
      await server.close();
    }
  });

  test('the request carries the message and the SMTP context as headers', async () => {
    const seen: { headers: Record<string, string | string[] | undefined>; body: Buffer; url?: string }[] = [];
    const server = await startScriptedHttpServer((req, body, res) => {
      seen.push({ headers: req.headers, body, url: req.url });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ score: 6.5, required_score: 15, action: 'add header', symbols: {} }));
    });
    try {
      const checker = new RspamdChecker({ url: `${server.url}/rspamd`, timeoutMs: 5000 });
      const message = hamMessage();
      const result = await checker.check(message, {
        clientIp: '::ffff:192.0.2.7',
        helo: 'mx.example.com\r\nX-Evil: 1',
        mailFrom: 'ann@example.com',
        rcptTo: ['bob@example.org'],
        authUser: 'ännä',
      });
      assert.deepEqual(result, { IsSpam: true, Error: '', Score: 6.5, Rules: [], Engine: 'rspamd' });
      const [req] = seen;
      assert.ok(req);
      assert.equal(req.url, '/rspamd/checkv2');
      assert.deepEqual(req.body, message);
      assert.equal(req.headers.ip, '192.0.2.7');
      assert.equal(req.headers.helo, 'mx.example.comX-Evil: 1');
      assert.equal(req.headers['x-evil'], undefined);
      assert.equal(req.headers.from, 'ann@example.com');
      assert.equal(req.headers.rcpt, 'bob@example.org');
      assert.equal(req.headers['deliver-to'], 'bob@example.org');
      // UTF-8 goes out as raw bytes; Node hands them back as latin1.
      assert.equal(Buffer.from(String(req.headers.user), 'latin1').toString('utf8'), 'ännä');

      await checker.check(message, { mailFrom: '', rcptTo: ['a@example.org', 'b@example.org'] });
      const second = seen[1]!;
      assert.equal(second.headers.from, '<>');
      assert.equal(second.headers.rcpt, 'a@example.org, b@example.org');
      assert.equal(second.headers['deliver-to'], undefined);
      assert.equal(second.headers.ip, undefined);
      assert.equal(second.headers.user, undefined);
    } finally {
      await server.close();
    }
  });

  const bad: [string, number, string, RegExp][] = [
    [
      'an HTTP error with an Rspamd error body',
      500,
      '{"error":"cannot parse message"}',
      /HTTP 500: cannot parse message/,
    ],
    ['an HTTP error with an HTML body', 404, '<html><body>Not Found</body></html>', /HTTP 404: <html>/],
    ['a body that is not JSON', 200, 'pong', /not a check result/],
    ['JSON without a score', 200, '{"action":"no action","symbols":{}}', /no numeric "score"/],
    ['JSON without an action', 200, '{"score":1,"symbols":{}}', /no "action"/],
  ];
  for (const [name, status, body, pattern] of bad) {
    test(`${name} is a protocol error`, async () => {
      const server = await startScriptedHttpServer((_req, _body, res) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(body);
      });
      try {
        const checker = new RspamdChecker({ url: server.url, timeoutMs: 5000 });
        const err = await checkError(checker.check(hamMessage(), {}));
        assert.equal(err.kind, 'protocol');
        assert.match(err.message, pattern);
        assert.ok(err.message.startsWith(`rspamd at ${server.url} `), err.message);
      } finally {
        await server.close();
      }
    });
  }
});
