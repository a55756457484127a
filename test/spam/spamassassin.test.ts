// The spamd client against a real SpamAssassin spamd (started once for the file, offline), plus
// stand-in servers for what a healthy spamd never does: refuse, hang, or answer garbage.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SPAMD_DEFAULT_MAX_SIZE, SpamAssassinChecker } from '../../src/spam/spamassassin.ts';
import { SpamCheckError, type SpamResult } from '../../src/spam/types.ts';
import {
  freePort,
  type RunningSpamd,
  startScriptedTcpServer,
  startSpamd,
  startStallingServer,
} from '../helpers/spam-daemons.ts';
import { gtubeMessage, HEAD_MARKER, hamMessage, largeMessage, TAIL_MARKER } from './messages.ts';

const LONG_RULE = 'MAILROOM_TEST_RULE_WITH_A_VERY_LONG_NAME';
const LONG_DESCRIPTION =
  'A deliberately long description, so that spamd has to wrap it onto several indented lines of its report';

/** Test rules: markers at both ends of a message, and one rule that stretches the report table. */
const TEST_RULES = [
  `header MAILROOM_HEAD Subject =~ /${HEAD_MARKER}/`,
  'score MAILROOM_HEAD 0.1',
  'describe MAILROOM_HEAD Subject holds the head marker',
  `full MAILROOM_TAIL /${TAIL_MARKER}/`,
  'score MAILROOM_TAIL 0.2',
  'describe MAILROOM_TAIL Message holds the tail marker',
  `body ${LONG_RULE} /mailroom-long-rule-marker/`,
  `score ${LONG_RULE} -1.5`,
  `describe ${LONG_RULE} ${LONG_DESCRIPTION}`,
];

/** Any rejection of `p`, checked to be a SpamCheckError. */
async function checkError(p: Promise<SpamResult>): Promise<SpamCheckError> {
  const err = await p.then(
    (r) => assert.fail(`expected a failed check, got ${JSON.stringify(r)}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof SpamCheckError, `expected SpamCheckError, got ${String(err)}`);
  assert.equal(err.engine, 'spamassassin');
  return err;
}

describe('SpamAssassin (real spamd)', () => {
  let spamd: RunningSpamd;
  let checker: SpamAssassinChecker;

  before(async () => {
    spamd = await startSpamd({ config: TEST_RULES });
    console.log(`spamd ready in ${spamd.startMs} ms on port ${spamd.port}`);
    checker = new SpamAssassinChecker({ host: spamd.host, port: spamd.port, timeoutMs: 20_000 });
  });
  after(async () => {
    await spamd?.stop();
  });

  test('GTUBE is spam with a very high score and the GTUBE rule', async () => {
    const result = await checker.check(gtubeMessage(), {});
    assert.equal(result.Engine, 'spamassassin');
    assert.equal(result.Error, '');
    assert.equal(result.IsSpam, true);
    assert.ok(result.Score >= 1000, `score ${result.Score}`);
    const gtube = result.Rules.find((r) => r.Name === 'GTUBE');
    assert.ok(gtube, `GTUBE not among ${result.Rules.map((r) => r.Name).join(', ')}`);
    assert.equal(gtube.Score, 1000);
    assert.match(gtube.Description, /Unsolicited Bulk Email/);
    // The total is the sum of the listed rules (one decimal each).
    const sum = result.Rules.reduce((s, r) => s + r.Score, 0);
    assert.ok(Math.abs(sum - result.Score) < 0.05 * result.Rules.length + 0.001, `${sum} vs ${result.Score}`);
  });

  test('a plain message is not spam and has Mailpit’s result shape', async () => {
    const result = await checker.check(hamMessage(), { clientIp: '127.0.0.1', helo: 'client.example.com' });
    assert.deepEqual(Object.keys(result), ['IsSpam', 'Error', 'Score', 'Rules', 'Engine']);
    assert.equal(result.IsSpam, false);
    assert.equal(result.Error, '');
    assert.ok(result.Score < 5, `score ${result.Score}`);
    assert.ok(!result.Rules.some((r) => r.Name === 'GTUBE'));
    for (const rule of result.Rules) {
      assert.deepEqual(Object.keys(rule), ['Score', 'Name', 'Description']);
      assert.match(rule.Name, /^[A-Z0-9_]+$/);
      assert.ok(!Object.is(rule.Score, -0), 'informational -0.0 scores read as 0');
    }
  });

  test('a long rule name and a wrapped description are read back whole', async () => {
    const result = await checker.check(hamMessage('Hello mailroom-long-rule-marker, how are you?'), {});
    const rule = result.Rules.find((r) => r.Name === LONG_RULE);
    assert.ok(rule, `${LONG_RULE} not among ${result.Rules.map((r) => r.Name).join(', ')}`);
    assert.equal(rule.Score, -1.5);
    assert.equal(rule.Description, `BODY: ${LONG_DESCRIPTION}`);
  });

  test('a large message under the cap is checked whole', async () => {
    const message = largeMessage(450_000);
    assert.ok(message.length < SPAMD_DEFAULT_MAX_SIZE);
    const result = await checker.check(message, {});
    assert.equal(result.IsSpam, false);
    const names = result.Rules.map((r) => r.Name);
    assert.ok(names.includes('MAILROOM_HEAD'), names.join(', '));
    assert.ok(names.includes('MAILROOM_TAIL'), `the end of the message reached spamd: ${names.join(', ')}`);
  });

  test('a message over the cap is checked on its first part only', async () => {
    const message = largeMessage(700_000);
    const result = await checker.check(message, {});
    assert.equal(result.Error, '');
    const names = result.Rules.map((r) => r.Name);
    assert.ok(names.includes('MAILROOM_HEAD'), names.join(', '));
    assert.ok(!names.includes('MAILROOM_TAIL'), `the end of the message was cut off: ${names.join(', ')}`);

    // With a larger cap the same message is sent whole.
    const roomy = new SpamAssassinChecker({
      host: spamd.host,
      port: spamd.port,
      timeoutMs: 20_000,
      maxSize: 1e6,
    });
    const whole = await roomy.check(message, {});
    assert.ok(whole.Rules.some((r) => r.Name === 'MAILROOM_TAIL'));
  });

  test('concurrent checks each get their own answer', async () => {
    const [spam, ham] = await Promise.all([
      checker.check(gtubeMessage(), {}),
      checker.check(hamMessage(), {}),
    ]);
    assert.equal(spam.IsSpam, true);
    assert.equal(ham.IsSpam, false);
  });
});

describe('SpamAssassin client failures', () => {
  test('connection refused is a clean "unavailable" error', async () => {
    const port = await freePort();
    const checker = new SpamAssassinChecker({ host: '127.0.0.1', port, timeoutMs: 5000 });
    const err = await checkError(checker.check(hamMessage(), {}));
    assert.equal(err.kind, 'unavailable');
    assert.equal(err.message, `cannot connect to spamd at 127.0.0.1:${port}: connection refused`);
  });

  test('a spamd that accepts but never answers hits the deadline', async () => {
    const server = await startStallingServer();
    try {
      const checker = new SpamAssassinChecker({ host: '127.0.0.1', port: server.port, timeoutMs: 300 });
      const started = Date.now();
      const err = await checkError(checker.check(hamMessage(), {}));
      const elapsed = Date.now() - started;
      assert.equal(err.kind, 'timeout');
      assert.equal(err.message, `spamd at 127.0.0.1:${server.port} did not answer within 300 ms`);
      // Not before the deadline (no upper bound: tests never assert on how long things take).
      assert.ok(elapsed >= 250, `took ${elapsed} ms`);
      assert.equal(server.connections, 1);
    } finally {
      await server.close();
    }
  });

  test("the caller's signal aborts a check", async () => {
    const server = await startStallingServer();
    try {
      const checker = new SpamAssassinChecker({ host: '127.0.0.1', port: server.port, timeoutMs: 10_000 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const err = await checkError(checker.check(hamMessage(), {}, controller.signal));
      assert.equal(err.kind, 'aborted');
      // The 10 s deadline did not fire first: the error is the abort's.
      const pre = await checkError(checker.check(hamMessage(), {}, AbortSignal.abort()));
      assert.equal(pre.kind, 'aborted');
    } finally {
      await server.close();
    }
  });

  test('the request is SPAMC/1.5 REPORT with a Content-length, capped at a line end', async () => {
    const answer = 'SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: False ; 1.5 / 5.0\r\n\r\n';
    const server = await startScriptedTcpServer(() => answer);
    try {
      const checker = new SpamAssassinChecker({ host: '127.0.0.1', port: server.port, timeoutMs: 5000 });
      const small = hamMessage();
      const result = await checker.check(small, {});
      assert.deepEqual(result, { IsSpam: false, Error: '', Score: 1.5, Rules: [], Engine: 'spamassassin' });
      assert.deepEqual(
        server.requests[0]!.bytes,
        Buffer.concat([Buffer.from(`REPORT SPAMC/1.5\r\nContent-length: ${small.length}\r\n\r\n`), small]),
      );

      const big = largeMessage(700_000);
      await checker.check(big, {});
      const sent = server.requests[1]!.bytes;
      const head = /^REPORT SPAMC\/1\.5\r\nContent-length: (\d+)\r\n\r\n/.exec(sent.toString('latin1'));
      assert.ok(head, 'request head');
      const body = sent.subarray(head[0].length);
      assert.equal(body.length, Number(head[1]));
      assert.ok(body.length <= SPAMD_DEFAULT_MAX_SIZE && body.length > SPAMD_DEFAULT_MAX_SIZE - 100);
      assert.equal(body.at(-1), 0x0a, 'cut after a complete line');
      assert.deepEqual(body, big.subarray(0, body.length));
    } finally {
      await server.close();
    }
  });

  test('a complete answer is used without waiting for spamd to hang up', async () => {
    const answer = 'SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: True ; 7.0 / 5.0\r\n\r\n';
    const server = await startScriptedTcpServer(() => answer, { keepOpen: true });
    try {
      const checker = new SpamAssassinChecker({ host: '127.0.0.1', port: server.port, timeoutMs: 3000 });
      const result = await checker.check(hamMessage(), {});
      assert.equal(result.IsSpam, true);
      assert.equal(result.Score, 7);
    } finally {
      await server.close();
    }
  });

  const garbage: [string, string, RegExp][] = [
    ['not spamd at all', 'HTTP/1.1 400 Bad Request\r\n\r\n', /not a spamd answer/],
    [
      'a spamd error status',
      'SPAMD/1.0 76 Bad header line: (EOF)\r\n',
      /error 76 \(Bad header line: \(EOF\)\)/,
    ],
    [
      'a body shorter than its Content-length',
      'SPAMD/1.1 0 EX_OK\r\nContent-length: 500\r\nSpam: True ; 6.0 / 5.0\r\n\r\nshort',
      /ended early: 5 of 500/,
    ],
    ['no Spam header', 'SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n\r\n', /no Spam header/],
    ['a malformed Spam header', 'SPAMD/1.1 0 EX_OK\r\nSpam: maybe\r\n\r\n', /malformed spamd Spam header/],
    ['nothing at all', '', /closed the connection without answering/],
  ];
  for (const [name, answer, pattern] of garbage) {
    test(`${name} is a protocol error`, async () => {
      const server = await startScriptedTcpServer(() => answer);
      try {
        const checker = new SpamAssassinChecker({ host: '127.0.0.1', port: server.port, timeoutMs: 5000 });
        const err = await checkError(checker.check(hamMessage(), {}));
        assert.equal(err.kind, 'protocol');
        assert.match(err.message, pattern);
        assert.match(err.message, new RegExp(`spamd at 127\\.0\\.0\\.1:${server.port}`));
      } finally {
        await server.close();
      }
    });
  }
});
