// createSpamChecker: which checker the settings give, and clear errors for settings that cannot
// work. No daemons are contacted.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createSpamChecker,
  parseRspamdUrl,
  parseSpamdAddress,
  RspamdChecker,
  SpamAssassinChecker,
} from '../../src/spam/index.ts';

const settings = (spamassassin: string, rspamd: string, spamTimeout = 10_000) => ({
  spamassassin,
  rspamd,
  spamTimeout,
});

describe('createSpamChecker', () => {
  test('nothing configured gives no checker', () => {
    assert.equal(createSpamChecker(settings('', '')), null);
    assert.equal(createSpamChecker(settings('  ', '')), null);
  });

  test('spamassassin gives a spamd client with the timeout', () => {
    const checker = createSpamChecker(settings('127.0.0.1:783', '', 2500));
    assert.ok(checker instanceof SpamAssassinChecker);
    assert.equal(checker.engine, 'spamassassin');
    assert.equal(checker.host, '127.0.0.1');
    assert.equal(checker.port, 783);
    assert.equal(checker.timeoutMs, 2500);
    assert.equal(checker.address, '127.0.0.1:783');
  });

  test('rspamd gives an HTTP client for checkv2 under the base URL', () => {
    const checker = createSpamChecker(settings('', 'http://127.0.0.1:11333', 1500));
    assert.ok(checker instanceof RspamdChecker);
    assert.equal(checker.engine, 'rspamd');
    assert.equal(checker.endpoint.href, 'http://127.0.0.1:11333/checkv2');
    assert.equal(checker.timeoutMs, 1500);
    const proxied = createSpamChecker(settings('', 'https://spam.example.com/rspamd')) as RspamdChecker;
    assert.equal(proxied.endpoint.href, 'https://spam.example.com/rspamd/checkv2');
  });

  test('both configured is an error naming both settings', () => {
    assert.throws(
      () => createSpamChecker(settings('127.0.0.1:783', 'http://127.0.0.1:11333')),
      /spamassassin and rspamd are both set/,
    );
  });

  test('a malformed spamassassin value is an error', () => {
    for (const bad of [
      '127.0.0.1',
      'spamd',
      ':783',
      'host:0',
      'host:70000',
      'host:port',
      '::1:783',
      '[nope]:783',
    ]) {
      assert.throws(
        () => createSpamChecker(settings(bad, '')),
        /^Error: spamassassin must be host:port/,
        bad,
      );
    }
    assert.throws(() => createSpamChecker(settings('http://127.0.0.1:783', '')), /a URL is not accepted/);
  });

  test('a malformed rspamd value is an error', () => {
    assert.throws(() => createSpamChecker(settings('', '127.0.0.1:11333')), /rspamd must be an http/);
    assert.throws(() => createSpamChecker(settings('', 'not a url')), /rspamd must be an http\(s\) URL/);
    assert.throws(() => createSpamChecker(settings('', 'ftp://127.0.0.1/')), /not ftp:/);
    assert.throws(() => createSpamChecker(settings('', 'http://127.0.0.1:11333/?x=1')), /query or fragment/);
    const withPassword = () => createSpamChecker(settings('', 'http://user:secret@127.0.0.1:11334'));
    assert.throws(withPassword, /must not hold credentials/);
    assert.throws(
      withPassword,
      (err: Error) => !err.message.includes('secret'),
      'the password is not echoed',
    );
  });
});

describe('parseSpamdAddress', () => {
  test('host names, IPv4 and bracketed IPv6', () => {
    assert.deepEqual(parseSpamdAddress('localhost:783'), { host: 'localhost', port: 783 });
    assert.deepEqual(parseSpamdAddress('spamd.internal:10783'), { host: 'spamd.internal', port: 10783 });
    assert.deepEqual(parseSpamdAddress('[::1]:783'), { host: '::1', port: 783 });
    const v6 = new SpamAssassinChecker({ host: '::1', port: 783, timeoutMs: 1000 });
    assert.equal(v6.address, '[::1]:783');
  });
});

describe('parseRspamdUrl', () => {
  test('normalises the URL', () => {
    assert.equal(parseRspamdUrl('HTTP://127.0.0.1:11333'), 'http://127.0.0.1:11333/');
  });
});
