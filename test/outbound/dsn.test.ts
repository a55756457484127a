import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import PostalMime from 'postal-mime';
import { composeDsn, type DsnInput, shouldSendDsn } from '../../src/outbound/dsn.ts';

const ARRIVAL = new Date('2026-11-24T08:00:00Z');
const NOW = new Date('2026-11-24T09:30:00Z');
const LAST = new Date('2026-11-24T09:29:00Z');
const HEADERS =
  'From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: Quarterly numbers\r\n' +
  'Message-ID: <orig-1@example.com>\r\n';

function input(over: Partial<DsnInput> = {}): DsnInput {
  return {
    reportingMta: 'mx.mailroom.example',
    originalMailFrom: 'alice@example.com',
    arrivalDate: ARRIVAL,
    now: NOW,
    recipients: [
      {
        address: 'bob@example.org',
        action: 'failed',
        status: '5.1.1',
        remoteMta: 'mx.example.org',
        diagnostic: '550-5.1.1 The account does not exist.\r\n550 5.1.1 Check the address.',
        lastAttempt: LAST,
      },
    ],
    originalHeaders: HEADERS,
    messageIdHost: 'mailroom.example',
    ...over,
  };
}

/** CRLF everywhere, no bare CR or LF, 7-bit, no line over 998 octets (RFC 5322 §2.1.1). */
function assertWireFormat(raw: Buffer): string[] {
  assert.ok(
    raw.every((b) => b < 128),
    'the DSN is 7-bit',
  );
  const text = raw.toString('latin1');
  assert.ok(text.endsWith('\r\n'));
  assert.doesNotMatch(text, /\r(?!\n)|(?<!\r)\n/);
  const lines = text.slice(0, -2).split('\r\n');
  for (const line of lines) assert.ok(line.length <= 998, `line of ${line.length} octets`);
  return lines;
}

/** The field blocks of a message/delivery-status part: unfolded, names lowercased. */
function statusBlocks(text: string): Record<string, string>[] {
  return text
    .replace(/\r\n(?=[ \t])/g, '')
    .trim()
    .split(/\r\n\r\n/)
    .map((block) => {
      const fields: Record<string, string> = {};
      for (const line of block.split('\r\n')) {
        const m = /^([A-Za-z-]+): (.*)$/.exec(line);
        assert.ok(m, `not a field: ${JSON.stringify(line)}`);
        const [, name = '', value = ''] = m;
        assert.equal(fields[name.toLowerCase()], undefined, `repeated ${name}`);
        fields[name.toLowerCase()] = value;
      }
      return fields;
    });
}

async function parse(raw: Buffer) {
  const email = await PostalMime.parse(raw, { attachmentEncoding: 'utf8' });
  const part = (type: string) => {
    const found = email.attachments.find((a) => a.mimeType === type);
    assert.ok(found, `no ${type} part`);
    // postal-mime hands text parts back with LF line ends and keeps the break before the
    // boundary; the wire format itself is checked by assertWireFormat.
    return `${String(found.content)
      .replace(/\r?\n/g, '\r\n')
      .replace(/(\r\n)+$/, '')}\r\n`;
  };
  return {
    email,
    status: () => statusBlocks(part('message/delivery-status')),
    headers: () => part('text/rfc822-headers'),
  };
}

describe('DSN', () => {
  it('is a multipart/report with explanation, delivery status and headers, from MAILER-DAEMON', async () => {
    const dsn = composeDsn(input());
    assertWireFormat(dsn.raw);
    assert.equal(dsn.mailFrom, '');
    assert.deepEqual(dsn.rcptTo, ['alice@example.com']);
    assert.match(dsn.messageId, /^<[0-9a-f-]{36}@mailroom\.example>$/);

    const { email, headers } = await parse(dsn.raw);
    assert.equal(email.from?.name, 'Mail Delivery System');
    assert.equal(email.from?.address, 'MAILER-DAEMON@mx.mailroom.example');
    assert.deepEqual(
      email.to?.map((a) => a.address),
      ['alice@example.com'],
    );
    assert.equal(email.subject, 'Undelivered Mail Returned to Sender');
    assert.equal(email.messageId, dsn.messageId);
    assert.equal(Date.parse(email.date ?? ''), NOW.getTime());
    const header = (key: string) => email.headers.find((h) => h.key === key)?.value;
    assert.equal(header('auto-submitted'), 'auto-replied');
    assert.equal(header('mime-version'), '1.0');
    assert.match(header('content-type') ?? '', /^multipart\/report; report-type=delivery-status; boundary="/);
    assert.deepEqual(
      email.attachments.map((a) => a.mimeType),
      ['message/delivery-status', 'text/rfc822-headers'],
    );
    assert.match(email.text ?? '', /<bob@example\.org> \(status 5\.1\.1\)/);
    assert.ok(email.text?.includes('550-5.1.1 The account does not exist. 550 5.1.1 Check the address.'));
    assert.ok(email.text?.includes('could not be delivered'));
    assert.equal(headers(), HEADERS);
  });

  it('reports per-message and per-recipient fields (RFC 3464)', async () => {
    const recipients: DsnInput['recipients'] = [
      ...input().recipients,
      { address: 'carol@example.net', action: 'delayed', status: '4.4.1' },
    ];
    const { status } = await parse(composeDsn(input({ recipients })).raw);
    const [message, bob, carol, ...rest] = status();
    assert.deepEqual(rest, []);
    assert.deepEqual(message, {
      'reporting-mta': 'dns; mx.mailroom.example',
      'arrival-date': 'Tue, 24 Nov 2026 08:00:00 +0000',
    });
    assert.deepEqual(bob, {
      'final-recipient': 'rfc822; bob@example.org',
      action: 'failed',
      status: '5.1.1',
      'remote-mta': 'dns; mx.example.org',
      'diagnostic-code': 'smtp; 550-5.1.1 The account does not exist. 550 5.1.1 Check the address.',
      'last-attempt-date': 'Tue, 24 Nov 2026 09:29:00 +0000',
    });
    assert.deepEqual(carol, {
      'final-recipient': 'rfc822; carol@example.net',
      action: 'delayed',
      status: '4.4.1',
    });
  });

  it('says Delay when every recipient is only delayed', async () => {
    const recipients: DsnInput['recipients'] = [
      {
        address: 'bob@example.org',
        action: 'delayed',
        status: '4.4.1',
        diagnostic: 'connect ECONNREFUSED 192.0.2.1:25',
      },
    ];
    const { email, status } = await parse(composeDsn(input({ recipients })).raw);
    assert.equal(email.subject, 'Delivery Status Notification (Delay)');
    assert.ok(email.text?.includes('not yet been delivered'));
    assert.ok(!email.text?.includes('could not be delivered'));
    // Not an SMTP reply, so not typed "smtp" (RFC 3464 §2.3.6).
    assert.equal(status()[1]?.['diagnostic-code'], 'X-Mailroom; connect ECONNREFUSED 192.0.2.1:25');
  });

  it('never goes to a null sender or a MAILER-DAEMON', () => {
    for (const from of [
      '',
      '<>',
      '  ',
      'MAILER-DAEMON@mx.example.net',
      '<mailer-daemon@example.net>',
      'Mailer-Daemon',
    ]) {
      assert.equal(shouldSendDsn(from), false, from);
      assert.throws(() => composeDsn(input({ originalMailFrom: from })), TypeError, from);
    }
    for (const from of ['alice@example.com', '<alice@example.com>', 'mailer-daemon-fan@example.com']) {
      assert.equal(shouldSendDsn(from), true, from);
    }
    assert.deepEqual(composeDsn(input({ originalMailFrom: '<alice@example.com>' })).rcptTo, [
      'alice@example.com',
    ]);
  });

  it('keeps a hostile diagnostic from creating header lines', async () => {
    const recipients: DsnInput['recipients'] = [
      {
        address: 'bob@example.org',
        action: 'failed',
        status: '5.0.0',
        remoteMta: 'mx.example.org\r\nX-Injected: 1',
        diagnostic: '550 no\r\nBcc: victim@x.example\n\nSubject: hijacked\rX-Also: 1',
      },
    ];
    const dsn = composeDsn(input({ recipients }));
    const lines = assertWireFormat(dsn.raw);
    for (const line of lines) assert.doesNotMatch(line, /^(bcc|x-injected|x-also|subject: hijacked)/i);
    // In the delivery-status part every line is a known field or a folded continuation.
    const known = /^(Reporting-MTA|Arrival-Date|Final-Recipient|Action|Status|Remote-MTA|Diagnostic-Code): /;
    const start = lines.indexOf('Content-Type: message/delivery-status');
    const end = lines.findIndex((l, i) => i > start && l.startsWith('--=_dsn_'));
    assert.ok(start > 0 && end > start + 3);
    for (const line of lines.slice(start + 3, end)) {
      if (line !== '') assert.match(line, new RegExp(`${known.source}|^ \\S`), line);
    }
    const { email, status } = await parse(dsn.raw);
    assert.equal(email.bcc, undefined);
    assert.ok(!email.headers.some((h) => ['bcc', 'x-injected', 'x-also'].includes(h.key)));
    assert.equal(email.subject, 'Undelivered Mail Returned to Sender');
    assert.equal(
      status()[1]?.['diagnostic-code'],
      'smtp; 550 no Bcc: victim@x.example Subject: hijacked X-Also: 1',
    );
    assert.equal(status()[1]?.['remote-mta'], 'dns; mx.example.org X-Injected: 1');
  });

  it('folds long diagnostics within line limits without losing text', async () => {
    const diagnostic = `550 5.7.1 ${'blocked '.repeat(300)}${'x'.repeat(2500)} end`;
    const recipients: DsnInput['recipients'] = [
      { address: 'bob@example.org', action: 'failed', status: '5.7.1', diagnostic },
    ];
    const dsn = composeDsn(input({ recipients }));
    const lines = assertWireFormat(dsn.raw);
    const folded = lines.filter((l) => l.startsWith(' blocked'));
    assert.ok(folded.length > 10 && folded.every((l) => l.length <= 78));
    const { status } = await parse(dsn.raw);
    const unfolded = status()[1]?.['diagnostic-code'] ?? '';
    assert.equal(unfolded.replace(/\s/g, ''), `smtp;${diagnostic.replace(/\s/g, '')}`);
  });

  it('keeps non-ASCII as UTF-8 in the explanation and as ? in the report', async () => {
    const diagnostic = '550 5.1.1 Empfänger unbekannt: müller@example.de ✉';
    const recipients: DsnInput['recipients'] = [
      { address: 'bob@example.org', action: 'failed', status: '5.1.1', diagnostic },
    ];
    const dsn = composeDsn(input({ recipients }));
    assertWireFormat(dsn.raw);
    const { email, status } = await parse(dsn.raw);
    assert.ok(email.text?.includes(diagnostic));
    assert.equal(
      status()[1]?.['diagnostic-code'],
      'smtp; 550 5.1.1 Empf?nger unbekannt: m?ller@example.de ?',
    );
  });

  it('returns only the original header section, 7-bit with CRLF and bounded lines', async () => {
    const original = `From: a@example.com\nSubject: Grüße\nX-Long: ${'y'.repeat(2000)}\n\nSecret body text\n`;
    const dsn = composeDsn(input({ originalHeaders: original }));
    assertWireFormat(dsn.raw);
    const { headers } = await parse(dsn.raw);
    const got = headers();
    assert.ok(!got.includes('Secret body'));
    assert.ok(got.startsWith('From: a@example.com\r\nSubject: Gr??e\r\nX-Long: yyy'));
    assert.equal(
      got.replace(/\r\n /g, ''),
      `From: a@example.com\r\nSubject: Gr??e\r\nX-Long: ${'y'.repeat(2000)}\r\n`,
    );
  });

  it('adds Original-Envelope-Id in xtext when there is one', async () => {
    const { status } = await parse(composeDsn(input({ originalEnvelopeId: 'id+1=2 x' })).raw);
    assert.equal(status()[0]?.['original-envelope-id'], 'id+2B1+3D2+20x');
  });

  it('lists failed and delayed recipients apart in a mixed report', async () => {
    const recipients: DsnInput['recipients'] = [
      {
        address: 'carol@example.net',
        action: 'delayed',
        status: '4.2.2',
        diagnostic: '452 4.2.2 Mailbox full',
      },
      ...input().recipients,
    ];
    const { email } = await parse(composeDsn(input({ recipients })).raw);
    assert.equal(email.subject, 'Undelivered Mail Returned to Sender');
    const text = email.text ?? '';
    assert.ok(text.indexOf('could not be delivered') < text.indexOf('<bob@example.org>'));
    assert.ok(text.indexOf('<bob@example.org>') < text.indexOf('not yet been delivered'));
    assert.ok(text.indexOf('not yet been delivered') < text.indexOf('<carol@example.net>'));
  });

  it('rejects input it cannot report on', () => {
    const one = input().recipients[0]!;
    assert.throws(() => composeDsn(input({ recipients: [] })), /at least one recipient/);
    assert.throws(() => composeDsn(input({ recipients: [{ ...one, status: '5.1' }] })), /invalid status/);
    assert.throws(() => composeDsn(input({ reportingMta: 'mx example' })), /invalid host name/);
    assert.throws(() => composeDsn(input({ messageIdHost: 'a\r\nb' })), /invalid host name/);
    assert.throws(
      () => composeDsn(input({ originalMailFrom: 'a@x.example\r\nBcc: y@x.example' })),
      /invalid sender/,
    );
    assert.throws(() => composeDsn(input({ now: new Date(Number.NaN) })), /invalid date/);
  });
});
