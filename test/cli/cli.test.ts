// The `mailroom` executable as an operator meets it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { BIN } from '../helpers/process.ts';

function mailroom(args: string[], input?: string) {
  return spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    input,
    env: { ...process.env, MAILROOM_SMTP_LISTEN: undefined },
  });
}

describe('mailroom CLI', () => {
  it('lists every option in start --help', () => {
    const r = mailroom(['start', '--help']);
    assert.equal(r.status, 0, r.stderr);
    for (const flag of [
      '--smtp-listen',
      '--http-listen',
      '--data-dir',
      '--database-url',
      '--submission-listen',
      '--smtps-listen',
      '--tls-cert',
      '--tls-key',
      '--smtp-auth-file',
      '--max-message-size',
      '--max-recipients',
    ]) {
      assert.match(r.stdout, new RegExp(`${flag} `));
    }
  });

  it('stops on an invalid value with a message naming the setting', () => {
    const r = mailroom(['start', '--max-recipients', 'lots']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--max-recipients \(MAILROOM_MAX_RECIPIENTS\): "lots" is not a whole number/);
    const e = spawnSync(process.execPath, [BIN, 'start'], {
      encoding: 'utf8',
      env: { ...process.env, MAILROOM_HTTP_LISTEN: 'localhost' },
    });
    assert.equal(e.status, 2);
    assert.match(e.stderr, /--http-listen \(MAILROOM_HTTP_LISTEN\)/);
  });

  it('prints its version and refuses unknown commands', () => {
    assert.match(mailroom(['--version']).stdout, /^\d+\.\d+\.\d+\n$/);
    const r = mailroom(['frobnicate']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command "frobnicate"/);
  });

  it('hashes a password from stdin for the auth file', () => {
    const r = mailroom(['hash-password'], 's3cret-pass\n');
    assert.equal(r.status, 0, r.stderr);
    const hash = r.stdout.trim();
    assert.ok(hash.length > 20);
    assert.ok(!hash.includes('s3cret-pass'));
  });
});
