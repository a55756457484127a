// Pure parsing: spamd responses and report tables, Rspamd replies, the spamd size cap and the
// error result. No daemons here; the daemon suites check the same code against real output.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseRspamdReply, rspamdHeaders } from '../../src/spam/rspamd.ts';
import { truncateForSpamd } from '../../src/spam/spamassassin.ts';
import {
  isCompleteResponse,
  parseReportRules,
  parseSpamdResponse,
  parseSpamHeader,
  SpamdProtocolError,
} from '../../src/spam/spamd-report.ts';
import { SpamCheckError, spamErrorResult } from '../../src/spam/types.ts';

const REPORT = [
  'Spam detection software has identified this incoming email as possible spam.',
  '',
  'Content analysis details:   (1004.0 points, 5.0 required)',
  '',
  ' pts rule name              description',
  '---- ---------------------- --------------------------------------------------',
  ' 2.7 MISSING_DATE           Missing Date: header',
  '-0.0 NO_RECEIVED            Informational: message has no Received headers',
  '1000 GTUBE                  BODY: Generic Test for Unsolicited Bulk Email',
  '-1.5 A_RULE_NAME_THAT_IS_WIDER_THAN_ITS_COLUMN BODY: first part of a',
  '                            description continued here',
  '                            and here',
  ' 2.8 NO_DESCRIPTION_RULE',
  '',
  'Text after the table is not a rule: 1.0 FAKE',
  '',
].join('\n');

describe('spamd report table', () => {
  test('rows, wide scores, wide names and wrapped descriptions', () => {
    assert.deepEqual(parseReportRules(REPORT), [
      { Score: 2.7, Name: 'MISSING_DATE', Description: 'Missing Date: header' },
      { Score: 0, Name: 'NO_RECEIVED', Description: 'Informational: message has no Received headers' },
      { Score: 1000, Name: 'GTUBE', Description: 'BODY: Generic Test for Unsolicited Bulk Email' },
      {
        Score: -1.5,
        Name: 'A_RULE_NAME_THAT_IS_WIDER_THAN_ITS_COLUMN',
        Description: 'BODY: first part of a description continued here and here',
      },
      { Score: 2.8, Name: 'NO_DESCRIPTION_RULE', Description: '' },
    ]);
  });

  test('-0.0 becomes 0, not -0', () => {
    const [rule] = parseReportRules(REPORT.replace(' 2.7 MISSING_DATE', '-0.0 MISSING_DATE'));
    assert.ok(rule && Object.is(rule.Score, 0));
  });

  test('CRLF line ends and a translated caption still parse', () => {
    const crlf = REPORT.replace('Content analysis details', 'Inhaltsanalyse').replace(/\n/g, '\r\n');
    assert.equal(parseReportRules(crlf).length, 5);
  });

  test('no table, no rules', () => {
    assert.deepEqual(parseReportRules('Spam detection software\n\n 2.7 MISSING_DATE Missing Date\n'), []);
    assert.deepEqual(parseReportRules(''), []);
  });
});

describe('spamd response', () => {
  const ok = (body: string): Buffer =>
    Buffer.from(
      `SPAMD/1.1 0 EX_OK\r\nContent-length: ${Buffer.byteLength(body)}\r\nSpam: True ; 15.2 / 5.0\r\n\r\n${body}`,
    );

  test('status, headers and body', () => {
    const r = parseSpamdResponse(ok('report ✓'));
    assert.equal(r.version, '1.1');
    assert.equal(r.code, 0);
    assert.equal(r.message, 'EX_OK');
    assert.equal(r.headers.get('spam'), 'True ; 15.2 / 5.0');
    assert.equal(r.body, 'report ✓');
  });

  test('an error status without headers', () => {
    const r = parseSpamdResponse(Buffer.from('SPAMD/1.0 76 Bad header line: (EOF)\r\n'));
    assert.equal(r.code, 76);
    assert.equal(r.message, 'Bad header line: (EOF)');
  });

  test('completeness follows Content-length in bytes', () => {
    const full = ok('ünïcode body');
    assert.equal(isCompleteResponse(full), true);
    assert.equal(isCompleteResponse(full.subarray(0, full.length - 1)), false);
    assert.equal(isCompleteResponse(Buffer.from('SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n')), false);
    // Without Content-length only the end of the stream completes it.
    assert.equal(isCompleteResponse(Buffer.from('SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / 5\r\n\r\n')), false);
  });

  test('malformed answers throw SpamdProtocolError', () => {
    for (const bad of ['', 'HELLO\r\n\r\n', 'SPAMD/1.1 0 EX_OK\r\nno colon here\r\n\r\n']) {
      assert.throws(() => parseSpamdResponse(Buffer.from(bad)), SpamdProtocolError, JSON.stringify(bad));
    }
    assert.throws(() => parseSpamdResponse(ok('body').subarray(0, -2)), /ended early/);
  });

  test('the Spam header', () => {
    assert.deepEqual(parseSpamHeader('True ; 15.2 / 5.0'), { isSpam: true, score: 15.2, threshold: 5 });
    assert.deepEqual(parseSpamHeader('False ; -0.3 / 5.0'), { isSpam: false, score: -0.3, threshold: 5 });
    assert.deepEqual(parseSpamHeader('Yes ; 6 / 5'), { isSpam: true, score: 6, threshold: 5 });
    assert.deepEqual(parseSpamHeader('no;1.0/5.0'), { isSpam: false, score: 1, threshold: 5 });
    for (const bad of ['', 'True', 'True ; x / 5.0', 'Maybe ; 1.0 / 5.0']) {
      assert.throws(() => parseSpamHeader(bad), SpamdProtocolError, bad);
    }
  });
});

describe('spamd size cap', () => {
  test('small messages are sent as they are', () => {
    const raw = Buffer.from('Subject: x\r\n\r\nbody\r\n');
    assert.equal(truncateForSpamd(raw, 100), raw);
  });

  test('large messages are cut after the last whole line within the cap', () => {
    const raw = Buffer.from('line one\r\nline two\r\nline three\r\n');
    assert.equal(truncateForSpamd(raw, 25).toString(), 'line one\r\nline two\r\n');
    assert.equal(truncateForSpamd(raw, 20).toString(), 'line one\r\nline two\r\n');
    assert.equal(truncateForSpamd(raw, 19).toString(), 'line one\r\n');
  });

  test('a cap inside the first line cuts at the cap', () => {
    assert.equal(truncateForSpamd(Buffer.from('x'.repeat(50)), 10).length, 10);
  });
});

describe('Rspamd reply', () => {
  const reply = (action: string, symbols: object = {}) => ({
    score: 3.5,
    required_score: 15,
    action,
    symbols,
  });

  test('actions map to IsSpam', () => {
    const spam = ['reject', 'add header', 'rewrite subject', 'discard', 'quarantine'];
    const ham = ['no action', 'greylist', 'soft reject', 'something new'];
    for (const a of spam) assert.equal(parseRspamdReply(reply(a)).IsSpam, true, a);
    for (const a of ham) assert.equal(parseRspamdReply(reply(a)).IsSpam, false, a);
  });

  test('symbols become rules, highest score first, then by name', () => {
    const result = parseRspamdReply(
      reply('no action', {
        B_ZERO: { name: 'B_ZERO', score: 0, description: 'zero b' },
        NEG: { name: 'NEG', score: -1.2, description: 'negative' },
        A_ZERO: { name: 'A_ZERO', score: 0 },
        TOP: { name: 'TOP', score: 2.5, description: 'top', options: ['one', 'two'] },
        OPTS_ONLY: { score: 1, options: ['x'] },
      }),
    );
    assert.deepEqual(result, {
      IsSpam: false,
      Error: '',
      Score: 3.5,
      Rules: [
        { Score: 2.5, Name: 'TOP', Description: 'top [one, two]' },
        { Score: 1, Name: 'OPTS_ONLY', Description: '[x]' },
        { Score: 0, Name: 'A_ZERO', Description: '' },
        { Score: 0, Name: 'B_ZERO', Description: 'zero b' },
        { Score: -1.2, Name: 'NEG', Description: 'negative' },
      ],
      Engine: 'rspamd',
    });
  });

  test('long option lists are cut', () => {
    const options = Array.from({ length: 100 }, (_, i) => `https://example.com/${i}`);
    const [rule] = parseRspamdReply(
      reply('no action', { U: { score: 1, description: 'urls', options } }),
    ).Rules;
    assert.ok(rule && rule.Description.length < 230 && rule.Description.endsWith('...]'));
  });

  test('a reply without symbols has no rules', () => {
    assert.deepEqual(parseRspamdReply({ score: 0, action: 'no action' }).Rules, []);
  });

  test('wrong shapes throw', () => {
    for (const bad of [
      null,
      'x',
      [],
      { action: 'no action' },
      { score: 'high', action: 'reject' },
      { score: 1 },
    ]) {
      assert.throws(() => parseRspamdReply(bad), Error, JSON.stringify(bad));
    }
    assert.throws(() => parseRspamdReply({ error: 'bad message' }), /rspamd error: bad message/);
  });

  test('request headers from the SMTP context', () => {
    const h = rspamdHeaders({
      clientIp: '2001:db8::1',
      helo: ' mx.example.com ',
      mailFrom: 'ann@example.com',
      rcptTo: ['bob@example.org'],
      authUser: null,
    });
    assert.equal(h.get('ip'), '2001:db8::1');
    assert.equal(h.get('helo'), 'mx.example.com');
    assert.equal(h.get('from'), 'ann@example.com');
    assert.equal(h.get('rcpt'), 'bob@example.org');
    assert.equal(h.get('deliver-to'), 'bob@example.org');
    assert.equal(h.get('user'), null);
    assert.equal(h.get('content-type'), 'message/rfc822');
    const empty = rspamdHeaders({});
    assert.deepEqual([...empty.keys()], ['content-type']);
  });
});

describe('error result', () => {
  test('Mailpit’s failed-check body', () => {
    const err = new SpamCheckError(
      'rspamd',
      'timeout',
      'rspamd at http://127.0.0.1:1 did not answer within 5 ms',
    );
    const result = spamErrorResult('rspamd', err);
    assert.deepEqual(Object.keys(result), ['IsSpam', 'Error', 'Score', 'Rules', 'Engine']);
    assert.deepEqual(result, {
      IsSpam: false,
      Error: 'rspamd at http://127.0.0.1:1 did not answer within 5 ms',
      Score: 0,
      Rules: [],
      Engine: 'rspamd',
    });
    assert.equal(spamErrorResult('spamassassin', 'plain text').Error, 'plain text');
  });
});
