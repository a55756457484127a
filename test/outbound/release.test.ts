// Release's pieces on their own: recipient patterns and screening, the two header edits (and
// nothing else touched, body included), the settings' checks, and the event each attempt leaves,
// also when there was no conversation at all. test/e2e/release.test.ts drives the whole path.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import {
  parsePattern,
  prepareForRelease,
  Releaser,
  type ReleaseSettings,
  releaseFromConfig,
  screenRecipients,
} from '../../src/outbound/release.ts';
import { SmtpAttemptError } from '../../src/outbound/smtp-client.ts';
import type { InboundEventInput } from '../../src/storage/inbound-ports.ts';

const config = (argv: string[]) =>
  loadConfig({ argv: ['--release-host', '127.0.0.1:2525', ...argv], env: {} });

describe('release: recipients', () => {
  test('globs match the whole address ignoring case; /regex/ is searched, with its flags', () => {
    const glob = parsePattern('*@example.test');
    assert.ok(glob.test('Ann@EXAMPLE.test'));
    assert.ok(!glob.test('ann@example.test.evil'));
    assert.ok(parsePattern('qa-?@x.test').test('qa-1@x.test'));
    assert.ok(!parsePattern('qa-?@x.test').test('qa-12@x.test'));
    const re = parsePattern('/^qa-[0-9]+@/i');
    assert.ok(re.test('QA-12@x.test'));
    assert.ok(!re.test('xqa-12@x.test'));
    assert.ok(parsePattern('/example/').test('ann@example.test'));
    assert.throws(() => parsePattern('/a/g'), /g and y flags/);
    assert.throws(() => parsePattern('/(/'), /not a valid regular expression/);
  });

  test('screening: display names, duplicates once, the block list wins over the allow list', () => {
    const lists = {
      allow: [parsePattern('*@example.test')],
      block: [parsePattern('bob@example.test')],
    };
    const s = screenRecipients(lists, [
      'Ann <ann@example.test>',
      'ANN@example.test',
      '<carol@example.test>',
      'bob@example.test',
      'dan@other.test',
      'a b@example.test',
    ]);
    assert.deepEqual(s.accepted, ['ann@example.test', 'carol@example.test']);
    assert.deepEqual(
      s.refused.map((r) => [r.address, r.reason]),
      [
        ['bob@example.test', 'matches the block list (bob@example.test)'],
        ['dan@other.test', 'matches nothing in the allow list'],
        ['a b@example.test', 'is not a plain address: it contains white space'],
      ],
    );
    assert.deepEqual(screenRecipients({ allow: [], block: [] }, ['x@y.test']).accepted, ['x@y.test']);
  });
});

describe('release: the bytes sent', () => {
  const head = [
    'Received: from a by b',
    'From: Shop <shop@example.test>',
    'bcc: one@example.test,',
    '\ttwo@example.test',
    'Subject: hi',
    'From: second@example.test',
    'BCC: three@example.test',
    'X-Other: kept',
  ].join('\r\n');
  const body = '\r\n\r\nFrom: not a header\r\nBcc: nor this\r\n';

  test('Bcc fields (folded, any case) go; the body is untouched', () => {
    const out = prepareForRelease(Buffer.from(head + body), null).toString('latin1');
    assert.equal(
      out,
      `Received: from a by b\r\nFrom: Shop <shop@example.test>\r\nSubject: hi\r\nFrom: second@example.test\r\nX-Other: kept${body}`,
    );
  });

  test('--release-from: every From field becomes one, in place of the first; added when none', () => {
    const out = prepareForRelease(Buffer.from(head + body), 'rel@example.test').toString('latin1');
    assert.equal(
      out,
      `Received: from a by b\r\nFrom: rel@example.test\r\nSubject: hi\r\nX-Other: kept${body}`,
    );
    assert.equal(
      prepareForRelease(Buffer.from('Subject: x\r\n\r\nbody'), 'rel@example.test').toString(),
      'From: rel@example.test\r\nSubject: x\r\n\r\nbody',
    );
  });

  test('8-bit bytes pass unchanged', () => {
    const raw = Buffer.concat([
      Buffer.from('Subject: \xe9\r\n\r\n', 'latin1'),
      Buffer.from([0xc3, 0xa9, 0xff]),
    ]);
    assert.deepEqual(prepareForRelease(raw, null), raw);
  });
});

describe('release: settings', () => {
  test('off without --release-host; credentials, sender and patterns are checked at start', () => {
    assert.equal(releaseFromConfig(loadConfig({ argv: [], env: {} })), null);
    const bad: [string[], RegExp][] = [
      [['--release-user', 'u'], /--release-user needs/],
      [['--release-password', 'p'], /needs --release-user/],
      [['--release-password', 'p', '--release-password-file', 'f'], /not both/],
      [['--release-from', 'not an address'], /--release-from contains white space/],
      [['--release-allow', '/(/'], /--release-allow: \/\(\/ is not a valid regular expression/],
      [['--release-block', '/x/g'], /--release-block/],
    ];
    for (const [argv, message] of bad) {
      assert.throws(
        () => releaseFromConfig(config(argv), () => 'p'),
        (err: Error) => {
          assert.ok(err instanceof ConfigError, String(err));
          assert.match(err.message, message);
          return true;
        },
      );
    }
    const missing = () => {
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    };
    assert.throws(
      () => releaseFromConfig(config(['--release-user', 'u', '--release-password-file', 'f']), missing),
      /--release-password-file: ENOENT$/,
    );
    const s = releaseFromConfig(
      config(['--release-user', 'u', '--release-password-file', 'f', '--release-tls', 'implicit']),
      () => 'first line\nsecond line\n',
    );
    assert.deepEqual(s?.target.auth, { user: 'u', pass: 'first line' });
    assert.equal(s?.target.tls, 'implicit');
    assert.equal(s?.target.port, 2525);
  });
});

describe('release: the event of each attempt', () => {
  const settings = releaseFromConfig(config(['--release-from', 'rel@example.test'])) as ReleaseSettings;
  const message = {
    id: 'M'.repeat(22),
    mailFrom: 'orig@example.test',
    raw: Buffer.from('From: a@b.test\r\n\r\nx'),
  };

  test('what the server said for each recipient; the rewritten message and sender were sent', async () => {
    const recorded: InboundEventInput[] = [];
    let sent: { mailFrom: string; recipients: string[]; raw: string } | null = null;
    const releaser = new Releaser({
      settings,
      events: { addInboundEvents: async (events) => void recorded.push(...events) },
      now: () => 0,
      send: async (_target, m) => {
        sent = { mailFrom: m.mailFrom, recipients: m.recipients, raw: Buffer.from(m.raw).toString() };
        return {
          reply: '250 ok',
          results: [
            { address: 'a@x.test', outcome: 'delivered', reply: '250 ok' },
            { address: 'b@x.test', outcome: 'bounced', reply: '550 no' },
          ],
        };
      },
    });
    const outcome = await releaser.release(message, ['a@x.test', 'b@x.test']);
    assert.equal(outcome.ok, false);
    assert.deepEqual(sent, {
      mailFrom: 'rel@example.test',
      recipients: ['a@x.test', 'b@x.test'],
      raw: 'From: rel@example.test\r\n\r\nx',
    });
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0]!.type, 'release:failed');
    assert.equal(recorded[0]!.messageId, message.id);
    assert.equal(recorded[0]!.routeId, null);
    assert.deepEqual(recorded[0]!.data, {
      Server: '127.0.0.1:2525',
      MailFrom: 'rel@example.test',
      FromRewritten: true,
      Reply: '250 ok',
      Recipients: [
        { Address: 'a@x.test', Outcome: 'delivered', Reply: '250 ok' },
        { Address: 'b@x.test', Outcome: 'bounced', Reply: '550 no' },
      ],
    });
  });

  test('no conversation at all (refused connection): every recipient failed, and it is recorded', async () => {
    const recorded: InboundEventInput[] = [];
    const releaser = new Releaser({
      settings,
      events: { addInboundEvents: async (events) => void recorded.push(...events) },
      now: () => 0,
      send: async () => {
        throw new SmtpAttemptError('connecting to 127.0.0.1:2525: connect ECONNREFUSED');
      },
    });
    const outcome = await releaser.release(message, ['a@x.test']);
    assert.equal(outcome.ok, false);
    assert.match(outcome.reply, /ECONNREFUSED/);
    assert.equal(recorded[0]!.type, 'release:failed');
    // Two releases of the same message are two events.
    await releaser.release(message, ['a@x.test']);
    assert.notEqual(recorded[0]!.id, recorded[1]!.id);
  });

  test('a store that fails to record does not turn a sent message into a failure', async () => {
    const releaser = new Releaser({
      settings,
      events: {
        addInboundEvents: async () => {
          throw new Error('database is locked');
        },
      },
      now: () => 0,
      send: async () => ({
        reply: '250 ok',
        results: [{ address: 'a@x.test', outcome: 'delivered', reply: '250 ok' }],
      }),
    });
    const outcome = await releaser.release(message, ['a@x.test']);
    assert.equal(outcome.ok, true);
    assert.equal(outcome.recordError, 'database is locked');
  });
});
