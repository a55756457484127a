// --poll URLs: schemes, TLS defaults, after-import choices and the errors a bad URL gets (which
// never show its password).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PollUrlError, parsePollUrl, redactPollUrl } from '../../src/sources/poll-url.ts';

const D = { maxMessageBytes: 1000 };

describe('poll URLs', () => {
  it('reads an IMAP account with its mailbox and after-import move', () => {
    const a = parsePollUrl(
      'imaps://ann%40x.example:p%2Cw@imap.example.com/Support%20Queue?after=move&move-to=Done',
      D,
    );
    assert.equal(a.protocol, 'imap');
    assert.equal(a.port, 993);
    assert.equal(a.tls, 'implicit');
    assert.equal(a.tlsVerify, true);
    assert.equal(a.user, 'ann@x.example');
    assert.equal(a.password, 'p,w');
    assert.equal(a.mailbox, 'Support Queue');
    assert.equal(a.afterImport, 'move');
    assert.equal(a.moveTo, 'Done');
    assert.equal(a.pollIntervalMs, 60_000);
    assert.equal(a.maxMessageBytes, 1000);
    assert.equal(a.name, 'ann@x.example@imap.example.com/Support Queue');
  });

  it('makes plain imap:// and pop3:// upgrade with STARTTLS unless tls=none', () => {
    assert.equal(parsePollUrl('imap://u:p@h', D).tls, 'starttls');
    assert.equal(parsePollUrl('imap://u:p@h', D).mailbox, 'INBOX');
    const pop = parsePollUrl('pop3://u:p@h:1100?tls=none&interval=5m&name=legacy&verify=false', D);
    assert.deepEqual(
      [pop.protocol, pop.port, pop.tls, pop.pollIntervalMs, pop.name, pop.tlsVerify],
      ['pop3', 1100, 'none', 300_000, 'legacy', false],
    );
    assert.equal(pop.mailbox, undefined);
  });

  it('refuses what cannot work, without showing the password', () => {
    const bad = [
      ['http://u:secret@h', /scheme/],
      ['imaps://h', /user name and a password/],
      ['pop3s://u:secret@h?after=move&move-to=x', /after must be one of leave, delete/],
      ['imaps://u:secret@h?after=move', /needs move-to/],
      ['imaps://u:secret@h?colour=red', /unknown parameter "colour"/],
      ['imaps://u:secret@h?interval=soon', /duration/],
      ['imaps://u:secret@h?tls=maybe', /tls must be/],
    ] as const;
    for (const [url, why] of bad) {
      assert.throws(
        () => parsePollUrl(url, D),
        (err: unknown) =>
          err instanceof PollUrlError && why.test(err.message) && !err.message.includes('secret'),
        url,
      );
    }
    assert.equal(redactPollUrl('imaps://u:secret@h/INBOX'), 'imaps://u:redacted@h/INBOX');
  });
});
