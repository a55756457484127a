import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BounceCategory,
  classifyReply,
  loadDefaultRules,
  normalizeReply,
  parseRules,
  replyCode,
} from '../../src/outbound/bounce-rules.ts';

type Sample = [reply: string, action: 'defer' | 'bounce', category: BounceCategory];

// One or more realistic replies per default rule (hosts and addresses are documentation ones).
const SAMPLES: Sample[] = [
  ['queryMx ENOTFOUND mail.example.invalid', 'defer', 'dns'],
  ['no MX records for example.net', 'defer', 'dns'],
  ['connecting to mx.example.net:25: unable to verify the first certificate', 'defer', 'tls'],
  ['connecting to mx.example.net:25: connect ECONNREFUSED 192.0.2.1:25', 'defer', 'network'],
  ['connecting to mx.example.net:25 timed out', 'defer', 'network'],
  ['450 4.1.8 <news@example.com>: Sender address rejected: Domain not found', 'defer', 'policy'],
  ['553 5.1.8 <news@example.com>: Sender address rejected: Domain not found', 'bounce', 'policy'],
  ['550 5.1.7 Invalid address syntax in MAIL FROM', 'bounce', 'policy'],
  [
    '550-5.7.26 This mail has been blocked because the sender is unauthenticated.\r\n' +
      '550 5.7.26 All senders must pass SPF or DKIM.',
    'bounce',
    'policy',
  ],
  ['552 5.3.4 Message size exceeds fixed limit', 'bounce', 'message-too-large'],
  ['554 Message size exceeds the maximum allowed', 'bounce', 'message-too-large'],
  ['552 Message is too large for this server', 'bounce', 'message-too-large'],
  ['552 5.5.3 Too many recipients', 'defer', 'rate-limit'],
  ['452 4.5.3 Recipient limit reached', 'defer', 'rate-limit'],
  ['550 5.4.5 Daily user sending quota exceeded.', 'defer', 'rate-limit'],
  ['421 4.7.0 [TS04] Messages from 192.0.2.1 deferred due to unexpected volume', 'defer', 'rate-limit'],
  ['451 4.7.500 Server busy. Please try again later from [192.0.2.1]', 'defer', 'rate-limit'],
  ['421 4.7.28 Traffic from your IP has increased sharply', 'defer', 'rate-limit'],
  [
    '450 4.2.0 <bob@example.org>: Recipient address rejected: Greylisted for 300 seconds',
    'defer',
    'greylist',
  ],
  ['530 5.7.0 Must issue a STARTTLS command first', 'defer', 'tls'],
  ['550 5.7.10 Encryption needed', 'defer', 'tls'],
  ['554 5.7.0 TLS required for this domain', 'defer', 'tls'],
  ['535 5.7.8 Authentication credentials invalid', 'defer', 'auth'],
  ['550 5.7.57 Client not authenticated to send mail', 'defer', 'auth'],
  ['554 5.7.1 Client must authenticate first', 'defer', 'auth'],
  ['552 5.2.2 Mailbox full', 'defer', 'mailbox-full'],
  ['452-4.2.2 The recipient inbox is out of storage space.\r\n452 4.2.2 Try later.', 'defer', 'mailbox-full'],
  ['450 bob@example.org: user is over quota', 'defer', 'mailbox-full'],
  ['552 Requested mail action aborted: exceeded storage allocation', 'defer', 'mailbox-full'],
  ['550 5.1.2 Bad destination system address', 'bounce', 'domain-unknown'],
  ['550 Host unknown', 'bounce', 'domain-unknown'],
  ['550 unrouteable address', 'bounce', 'domain-unknown'],
  ['450 4.1.2 <bob@typo.example>: Recipient address rejected: Domain not found', 'defer', 'domain-unknown'],
  [
    '550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n' +
      '550-5.1.1 double-checking the address for typos.\r\n550 5.1.1 https://help.example/nosuchuser',
    'bounce',
    'mailbox-unknown',
  ],
  ['550 5.1.10 Recipient not found by SMTP address lookup', 'bounce', 'mailbox-unknown'],
  ['550 5.2.1 The email account that you tried to reach is disabled.', 'bounce', 'mailbox-unknown'],
  ['550 5.4.1 Recipient address rejected: Access denied.', 'bounce', 'mailbox-unknown'],
  ['550 No such user here', 'bounce', 'mailbox-unknown'],
  ['550 Requested action not taken: mailbox does not exist', 'bounce', 'mailbox-unknown'],
  ['550 5.5.0 Requested action not taken: mailbox unavailable', 'bounce', 'mailbox-unknown'],
  ["554 delivery error: dd This user doesn't have a example.com account", 'bounce', 'mailbox-unknown'],
  [
    '450 4.1.1 <bob@example.org>: Recipient address rejected: User unknown in local recipient table',
    'defer',
    'mailbox-unknown',
  ],
  ['554 5.7.0 Message rejected: virus found (Eicar-Test-Signature)', 'bounce', 'content'],
  ['550 5.7.1 Executable attachments are not allowed', 'bounce', 'content'],
  ['554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org', 'bounce', 'spam'],
  ['550 5.7.1 Mail from [192.0.2.1] refused: part of your network is on our block list', 'bounce', 'spam'],
  ['554 Your IP 192.0.2.1 is listed at dnsbl.example.net', 'bounce', 'spam'],
  [
    '550-5.7.1 Our system has detected that this message is\r\n550 5.7.1 likely unsolicited mail.',
    'bounce',
    'spam',
  ],
  ['550 5.7.1 Poor IP reputation', 'bounce', 'spam'],
  ['550 5.7.606 Access denied, banned sending IP [192.0.2.1]', 'bounce', 'spam'],
  ['421-4.7.0 This message is suspicious due to the very low reputation of the sending IP', 'defer', 'spam'],
  ['554 5.6.0 Invalid message content', 'bounce', 'content'],
  ['554 Transaction failed: message content rejected', 'bounce', 'content'],
  [
    "550 5.7.1 Unauthenticated email is not accepted due to the sender domain's DMARC policy",
    'bounce',
    'policy',
  ],
  ['554 5.7.1 <bob@example.org>: Relay access denied', 'bounce', 'policy'],
  ["550 5.7.1 Message blocked by the recipient's organization", 'bounce', 'policy'],
  ['550 5.7.0 Local policy violation', 'bounce', 'policy'],
  ['451 4.3.0 Please try again later', 'defer', 'greylist'],
  ['421 4.3.2 Service not available, closing transmission channel', 'defer', 'other'],
  ['421 4.4.2 mx.example.net Error: timeout exceeded', 'defer', 'network'],
];

describe('bounce rules', () => {
  it('classifies realistic provider replies, each by a rule', () => {
    for (const [reply, action, category] of SAMPLES) {
      const got = classifyReply(reply);
      assert.deepEqual({ action: got.action, category: got.category }, { action, category }, reply);
      assert.notEqual(got.rule, null, reply);
    }
  });

  it('ships 40-60 rules, none shadowed: every rule wins for some sample', () => {
    const rules = loadDefaultRules();
    assert.ok(rules.length >= 40 && rules.length <= 60, `${rules.length} rules`);
    const winners = new Set(SAMPLES.map(([reply]) => classifyReply(reply).rule));
    const unused = rules.filter((r) => !winners.has(r.source)).map((r) => `${r.line}: ${r.source}`);
    assert.deepEqual(unused, []);
  });

  it('treats 5.2.2 mailbox full as a defer but 552 5.3.4 as a bounce', () => {
    assert.equal(classifyReply('552 5.2.2 <bob@example.org>: mailbox full').action, 'defer');
    assert.equal(classifyReply('552 5.3.4 Message too big for system').action, 'bounce');
    // The same words under a 4xx never bounce.
    assert.deepEqual(classifyReply('450 4.7.1 Client host blocked using zen.spamhaus.org'), {
      action: 'defer',
      category: 'spam',
      rule: loadDefaultRules().find((r) => r.source.startsWith('defer   spam'))?.source,
    });
  });

  it('falls back on the enhanced code, then the reply code, then network', () => {
    assert.deepEqual(classifyReply('554 5.9.9 something odd', []), {
      action: 'bounce',
      category: 'other',
      rule: null,
    });
    assert.deepEqual(classifyReply('450 4.9.9 something odd', []), {
      action: 'defer',
      category: 'other',
      rule: null,
    });
    assert.deepEqual(classifyReply('554 something odd', []), {
      action: 'bounce',
      category: 'other',
      rule: null,
    });
    assert.deepEqual(classifyReply('451 something odd', []), {
      action: 'defer',
      category: 'other',
      rule: null,
    });
    // A mismatched enhanced class is ignored; the reply code decides.
    assert.deepEqual(classifyReply('550 4.1.1 mixed up', []), {
      action: 'bounce',
      category: 'other',
      rule: null,
    });
    assert.deepEqual(classifyReply('ECONNREFUSED', []), { action: 'defer', category: 'network', rule: null });
    assert.deepEqual(classifyReply('', []), { action: 'defer', category: 'network', rule: null });
    // With the default rules, codes no rule knows still fall through to the same answers.
    assert.deepEqual(classifyReply('554 5.9.9 something odd'), {
      action: 'bounce',
      category: 'other',
      rule: null,
    });
    assert.deepEqual(classifyReply('socket closed by peer'), {
      action: 'defer',
      category: 'network',
      rule: null,
    });
  });

  it('tries rules in order, first match wins, whatever flags a caller used', () => {
    const rules = parseRules('bounce spam blocked\ndefer policy blocked\n');
    assert.equal(classifyReply('550 blocked', rules).category, 'spam');
    assert.equal(classifyReply('550 blocked', rules.slice(1)).category, 'policy');
    const sticky = [{ ...rules[0]!, pattern: /blocked/gi }];
    assert.equal(classifyReply('550 blocked', sticky).rule, 'bounce spam blocked');
    assert.equal(classifyReply('550 blocked', sticky).rule, 'bounce spam blocked');
  });

  it('parses codes from single and multi-line replies', () => {
    assert.deepEqual(replyCode('550 5.1.1 no such user'), { code: 550, enhanced: '5.1.1' });
    assert.deepEqual(replyCode('550-5.1.1 first\r\n550 5.1.1 last'), { code: 550, enhanced: '5.1.1' });
    assert.deepEqual(replyCode('  421 4.7.0\r\n'), { code: 421, enhanced: '4.7.0' });
    assert.deepEqual(replyCode('451 Temporary local problem'), { code: 451, enhanced: null });
    assert.deepEqual(replyCode('550 4.1.1 mismatched class'), { code: 550, enhanced: null });
    assert.deepEqual(replyCode('550 5.1.1x not a code'), { code: 550, enhanced: null });
    assert.deepEqual(replyCode('5500 too long'), { code: null, enhanced: null });
    assert.deepEqual(replyCode('650 out of range'), { code: null, enhanced: null });
    assert.deepEqual(replyCode('connect ETIMEDOUT 192.0.2.1:25'), { code: null, enhanced: null });
  });

  it('joins multi-line replies so wrapped phrases still match', () => {
    const reply = '450-4.2.0 Greylisted, please try\r\n450-4.2.0 again\n450 4.2.0 later';
    assert.equal(normalizeReply(reply), '450 4.2.0 Greylisted, please try again later');
    assert.equal(normalizeReply('connect   ECONNRESET\r\n  now'), 'connect ECONNRESET now');
    const rules = parseRules('defer greylist try again later');
    assert.equal(classifyReply(reply, rules).category, 'greylist');
  });

  it('parses rules with comments, blank lines and # inside patterns', () => {
    const rules = parseRules('# heading\n\n  bounce   other   ^5\\d\\d #7 \r\n\tdefer greylist  a b \n');
    assert.equal(rules.length, 2);
    assert.deepEqual(
      rules.map((r) => [r.line, r.action, r.category, r.pattern.source, r.pattern.flags, r.source]),
      [
        [3, 'bounce', 'other', '^5\\d\\d #7', 'i', 'bounce   other   ^5\\d\\d #7'],
        [4, 'defer', 'greylist', 'a b', 'i', 'defer greylist  a b'],
      ],
    );
  });

  it('rejects a bad rule, naming its line', () => {
    assert.throws(() => parseRules('# ok\ndefer greylist\n'), /line 2: expected/);
    assert.throws(() => parseRules('\n\nretry greylist x'), /line 3: unknown action "retry"/);
    assert.throws(() => parseRules('defer weather x'), /line 1: unknown category "weather"/);
    assert.throws(() => parseRules('defer other ok\nbounce spam (unclosed'), /line 2: invalid pattern/);
  });

  it('loads the shipped rules once and hands out copies', () => {
    const a = loadDefaultRules();
    a.length = 0;
    const b = loadDefaultRules();
    assert.ok(b.length > 0);
    assert.equal(b[0], loadDefaultRules()[0]);
    assert.ok(b.every((r) => r.line > 0 && r.source.startsWith(r.action)));
  });
});
