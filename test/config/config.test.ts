import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, configMarkdown, helpText, loadConfig, parseFlags } from '../../src/config/load.ts';
import { envName, flagName, SETTINGS } from '../../src/config/schema.ts';

const load = (argv: string[] = [], env: Record<string, string> = {}) => loadConfig({ argv, env });

describe('config', () => {
  it('has the documented defaults', () => {
    const c = load();
    assert.equal(c.smtpListen, '127.0.0.1:1025');
    assert.equal(c.httpListen, '127.0.0.1:8025');
    assert.equal(c.dataDir, './data');
    assert.equal(c.databaseUrl, '');
    assert.equal(c.maxMessageSize, 25 * 1024 * 1024);
    assert.deepEqual(c.roles, ['smtp', 'api', 'worker']);
    assert.equal(c.sources.smtpListen, 'default');
    assert.ok(Object.isFrozen(c));
  });

  it('takes flags over env over file over defaults', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-config-'));
    const file = path.join(dir, 'mailroom.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ 'smtp-listen': '127.0.0.1:2001', maxRecipients: 7, httpListen: '127.0.0.1:9001' }),
    );
    const c = load(['--config', file, '--smtp-listen=127.0.0.1:2003'], {
      MAILROOM_SMTP_LISTEN: '127.0.0.1:2002',
      MAILROOM_HTTP_LISTEN: '127.0.0.1:9002',
    });
    assert.equal(c.smtpListen, '127.0.0.1:2003');
    assert.equal(c.sources.smtpListen, 'flag');
    assert.equal(c.httpListen, '127.0.0.1:9002');
    assert.equal(c.sources.httpListen, 'env');
    assert.equal(c.maxRecipients, 7);
    assert.equal(c.sources.maxRecipients, 'file');
    fs.rmSync(dir, { recursive: true });
  });

  it('parses units, booleans, lists', () => {
    const c = load(
      [
        '--max-message-size',
        '10MB',
        '--smtp-idle-timeout',
        '90s',
        '--smtp-auth-accept-any',
        '--roles',
        'smtp,worker',
      ],
      {
        MAILROOM_SMTP_AUTH_ALLOW_INSECURE: 'yes',
      },
    );
    assert.equal(c.maxMessageSize, 10 * 1024 * 1024);
    assert.equal(c.smtpIdleTimeout, 90_000);
    assert.equal(c.smtpAuthAcceptAny, true);
    assert.equal(c.smtpAuthAllowInsecure, true);
    assert.deepEqual(c.roles, ['smtp', 'worker']);
  });

  it('names the setting in every invalid-value error', () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--max-recipients', 'ten'], {}, /--max-recipients/],
      [['--max-recipients', '0'], {}, /--max-recipients.*minimum/],
      [[], { MAILROOM_SMTP_LISTEN: 'nonsense' }, /--smtp-listen \(MAILROOM_SMTP_LISTEN\)/],
      [['--smtp-listen', '127.0.0.1:70000'], {}, /--smtp-listen/],
      [['--max-message-size', '5 parsecs'], {}, /--max-message-size/],
      [['--log-level', 'loud'], {}, /--log-level/],
      [['--roles', 'smtp,mx'], {}, /--roles.*"mx"/],
      [['--database-url', 'mysql://x'], {}, /--database-url/],
      [['--tls-cert', 'a.pem'], {}, /--tls-cert and --tls-key/],
      [['--no-such-flag', '1'], {}, /unknown option --no-such-flag/],
      [['--smtp-listen'], {}, /--smtp-listen needs a value/],
    ];
    for (const [argv, env, re] of cases) {
      assert.throws(
        () => load(argv, env),
        (err: Error) => err instanceof ConfigError && re.test(err.message),
        `${argv} ${JSON.stringify(env)}`,
      );
    }
  });

  it('accepts IPv6 listen addresses and an empty value to disable', () => {
    assert.equal(load(['--smtp-listen', '[::1]:25']).smtpListen, '[::1]:25');
    assert.equal(load(['--submission-listen', '']).submissionListen, '');
  });

  it('documents every setting in help and docs/config.md', () => {
    const help = helpText();
    const md = configMarkdown();
    for (const s of SETTINGS) {
      assert.ok(help.includes(`--${flagName(s.key)}`), s.key);
      assert.ok(md.includes(`\`${envName(s.key)}\``), s.key);
    }
    const committed = fs.readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
    assert.equal(committed, md, 'docs/config.md is stale: run npm run docs:config');
  });

  it('splits flags and positional words', () => {
    const { flags, rest } = parseFlags(['start', '--data-dir', 'x', '--smtp-require-auth', 'false']);
    assert.deepEqual(rest, ['start']);
    assert.equal(flags.get('data-dir'), 'x');
    assert.equal(flags.get('smtp-require-auth'), 'false');
  });

  it('keeps every value of a list flag given several times, and the last of any other', () => {
    const { flags } = parseFlags(['--inbox', 'a?users=x', '--inbox=b', '--data-dir', 'x', '--data-dir', 'y']);
    assert.equal(flags.get('inbox'), 'a?users=x,b');
    assert.equal(flags.get('data-dir'), 'y');
  });
});
