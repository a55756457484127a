import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import PostalMime, { type Address, type Email } from 'postal-mime';
import {
  type ComposedMessage,
  type ComposeLimits,
  CompositionError,
  composeMessage,
} from '../../src/outbound/compose.ts';
import { type SendRequest, sendRequestSchema } from '../../src/outbound/send-schema.ts';
import { utf8InAddressHeaders } from '../../src/outbound/smtp-client.ts';

const NOW = new Date('2024-05-06T07:08:09Z');
// A 1x1 transparent PNG.
const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

function options(limits: Partial<ComposeLimits> = {}) {
  return {
    hostname: 'mx.mailroom.example',
    now: NOW,
    limits: { maxRecipients: 10, maxBytes: 1_000_000, ...limits },
  };
}

function request(over: Record<string, unknown> = {}): unknown {
  return {
    From: { Email: 'sender@example.com', Name: 'Sender' },
    To: [{ Email: 'to@example.com' }],
    ...over,
  };
}

/** Runs the body through the schema first, as the route will, so only valid shapes reach compose. */
async function compose(body: unknown, limits: Partial<ComposeLimits> = {}): Promise<ComposedMessage> {
  const parsed = sendRequestSchema.safeParse(body);
  assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
  return composeMessage(parsed.data, options(limits));
}

async function composeAndParse(body: unknown): Promise<{ message: ComposedMessage; email: Email }> {
  const message = await compose(body);
  return { message, email: await PostalMime.parse(message.raw) };
}

async function assertRefused(
  body: unknown,
  field: string,
  status = 400,
  limits: Partial<ComposeLimits> = {},
) {
  await assert.rejects(compose(body, limits), (err: unknown) => {
    assert.ok(err instanceof CompositionError, String(err));
    assert.equal(err.field, field, err.message);
    assert.equal(err.status, status);
    assert.ok(err.message.length > 0);
    return true;
  });
}

function header(email: Email, key: string): string[] {
  return email.headers.filter((h) => h.key === key).map((h) => h.value);
}

function mailboxes(list: Address[] | undefined): { name: string; address: string }[] {
  return (list ?? []).map((a) => ({ name: a.name, address: a.address ?? '' }));
}

function bytes(content: ArrayBuffer | Uint8Array | string): Buffer {
  return typeof content === 'string' ? Buffer.from(content) : Buffer.from(content as ArrayBuffer);
}

describe('composeMessage output', () => {
  it('round-trips addresses, subject and bodies, non-ASCII text included', async () => {
    const { message, email } = await composeAndParse(
      request({
        From: { Email: 'sender@example.com', Name: 'Zoë Ünïcode' },
        To: [{ Email: 'ann@example.com', Name: 'Ann, "the" <boss>' }, { Email: 'bob@example.com' }],
        Cc: [{ Email: 'cat@example.com', Name: '猫' }],
        ReplyTo: [{ Email: 'replies@example.com', Name: 'Replies' }],
        Subject: 'Grüße — 你好' + ' word'.repeat(60),
        Text: 'Hello,\nplain text.',
        HTML: '<p>Hello, <b>HTML</b>.</p>',
      }),
    );
    assert.deepEqual(mailboxes(email.from ? [email.from] : []), [
      { name: 'Zoë Ünïcode', address: 'sender@example.com' },
    ]);
    assert.deepEqual(mailboxes(email.to), [
      { name: 'Ann, "the" <boss>', address: 'ann@example.com' },
      { name: '', address: 'bob@example.com' },
    ]);
    assert.deepEqual(mailboxes(email.cc), [{ name: '猫', address: 'cat@example.com' }]);
    assert.deepEqual(mailboxes(email.replyTo), [{ name: 'Replies', address: 'replies@example.com' }]);
    assert.equal(email.subject, 'Grüße — 你好' + ' word'.repeat(60));
    assert.equal(email.text?.trimEnd(), 'Hello,\nplain text.');
    assert.equal(email.html?.trimEnd(), '<p>Hello, <b>HTML</b>.</p>');
    assert.equal(email.date, NOW.toISOString());
    assert.equal(email.messageId, message.messageId);
    assert.match(message.messageId, /^<[0-9a-f-]{36}@mx\.mailroom\.example>$/);
    // Display names go out as encoded-words: nothing here needs SMTPUTF8 on the way out.
    assert.equal(utf8InAddressHeaders(message.raw), false);
  });

  it('keeps Bcc out of the headers but puts it in the envelope, deduplicated in order', async () => {
    const { message, email } = await composeAndParse(
      request({
        To: [{ Email: 'Ann@Example.com' }, { Email: 'bob@example.com' }],
        Cc: [{ Email: 'ann@example.com' }, { Email: 'cat@example.com' }],
        Bcc: ['hidden@example.com', 'BOB@example.com'],
      }),
    );
    assert.deepEqual(message.envelope, {
      from: 'sender@example.com',
      to: ['Ann@example.com', 'bob@example.com', 'cat@example.com', 'hidden@example.com'],
    });
    assert.equal(email.bcc, undefined);
    assert.deepEqual(header(email, 'bcc'), []);
    assert.ok(!message.raw.toString('latin1').includes('hidden@'));
  });

  it('converts an IDN domain to punycode in envelope and headers', async () => {
    const { message, email } = await composeAndParse(
      request({
        From: { Email: 'me@bücher.example' },
        To: [{ Email: 'ann@BÜCHER.example' }, { Email: 'bob@xn--bcher-kva.example' }],
      }),
    );
    assert.deepEqual(message.envelope, {
      from: 'me@xn--bcher-kva.example',
      to: ['ann@xn--bcher-kva.example', 'bob@xn--bcher-kva.example'],
    });
    assert.deepEqual(mailboxes(email.to), [
      { name: '', address: 'ann@xn--bcher-kva.example' },
      { name: '', address: 'bob@xn--bcher-kva.example' },
    ]);
    assert.equal(utf8InAddressHeaders(message.raw), false);
  });

  it('writes a UTF-8 local part as it is, which delivery then sends only with SMTPUTF8', async () => {
    const { message } = await composeAndParse(request({ To: [{ Email: 'søren@example.com' }] }));
    assert.deepEqual(message.envelope.to, ['søren@example.com']);
    assert.equal(utf8InAddressHeaders(message.raw), true);
  });

  it('attaches files and inline images with their exact bytes', async () => {
    const pdf = Buffer.from('%PDF-1.4\n\x00\xff binary\r\n', 'latin1');
    const { email } = await composeAndParse(
      request({
        HTML: '<p><img src="cid:logo@mailroom"></p>',
        Attachments: [
          { Content: pdf.toString('base64'), Filename: 'report.pdf', ContentType: 'application/pdf' },
          {
            Content: `data:image/png;base64,${PNG_BASE64}`,
            Filename: 'logo.png',
            ContentID: 'logo@mailroom',
          },
        ],
      }),
    );
    const file = email.attachments.find((a) => a.filename === 'report.pdf');
    const logo = email.attachments.find((a) => a.filename === 'logo.png');
    assert.ok(file && logo);
    assert.equal(file.mimeType, 'application/pdf');
    assert.equal(file.disposition, 'attachment');
    assert.deepEqual(bytes(file.content), pdf);
    assert.equal(logo.mimeType, 'image/png');
    assert.equal(logo.disposition, 'inline');
    assert.equal(logo.contentId, '<logo@mailroom>');
    assert.deepEqual(bytes(logo.content), Buffer.from(PNG_BASE64, 'base64'));
  });

  it('never labels a guessed type as composite', async () => {
    const { email } = await composeAndParse(
      request({ Attachments: [{ Content: 'aGk=', Filename: 'fwd.eml' }] }),
    );
    assert.equal(email.attachments[0]?.mimeType, 'application/octet-stream');
    assert.deepEqual(bytes(email.attachments[0]!.content), Buffer.from('hi'));
  });

  it('writes tags as one X-Tags header and keeps custom headers', async () => {
    const { email } = await composeAndParse(
      request({
        Tags: ['alpha', '  beta   two '],
        Headers: { 'X-Campaign': 'spring\tsale', 'List-Id': '<news.example.com>' },
      }),
    );
    assert.deepEqual(header(email, 'x-tags'), ['alpha, beta two']);
    assert.deepEqual(header(email, 'x-campaign'), ['spring\tsale']);
    assert.deepEqual(header(email, 'list-id'), ['<news.example.com>']);
  });

  it('ends every line in CRLF and keeps lines within 998 octets', async () => {
    const { message } = await composeAndParse(
      request({
        Subject: 'x'.repeat(980),
        Text: 'unix\nmac\rdos\r\n' + 'long '.repeat(400),
        HTML: '<p>\n</p>\r',
        Headers: { 'X-Long': 'y'.repeat(980) },
        Attachments: [{ Content: Buffer.alloc(5000, 7).toString('base64'), Filename: 'blob.bin' }],
      }),
    );
    const text = message.raw.toString('latin1');
    assert.ok(text.endsWith('\r\n'));
    assert.doesNotMatch(text, /\r(?!\n)|(?<!\r)\n/);
    for (const line of text.split('\r\n')) assert.ok(line.length <= 998, `line of ${line.length}`);
  });
});

describe('sendRequestSchema', () => {
  it('accepts a full Mailpit body', () => {
    const body = request({
      Cc: [{ Email: 'c@example.com' }],
      Bcc: ['b@example.com'],
      ReplyTo: [{ Email: 'r@example.com' }],
      Subject: 's',
      Text: 't',
      HTML: 'h',
      Attachments: [{ Content: 'aGk=', Filename: 'a.txt', ContentType: 'text/plain', ContentID: 'a' }],
      Tags: ['t'],
      Headers: { 'X-A': 'b' },
    });
    assert.equal(sendRequestSchema.safeParse(body).success, true);
  });

  it('refuses unknown keys, so nodemailer never sees path or href', () => {
    const attachmentWith = (extra: Record<string, string>) =>
      request({ Attachments: [{ Content: '', Filename: 'a.txt', ...extra }] });
    for (const body of [
      attachmentWith({ path: 'secret.txt' }),
      attachmentWith({ href: 'https://internal.invalid/' }),
      request({ From: { Email: 'a@example.com', Address: 'b@example.com' } }),
      request({ Raw: 'From: x' }),
    ]) {
      const result = sendRequestSchema.safeParse(body);
      assert.equal(result.success, false);
      assert.ok(result.error?.issues.some((i) => i.code === 'unrecognized_keys'));
    }
  });
});

describe('composeMessage refusals', () => {
  const injections: [string, unknown, string][] = [
    [
      'CR LF in an Email',
      request({ To: [{ Email: 'a@example.com\r\nBcc: x@evil.example' }] }),
      'To[0].Email',
    ],
    ['LF in From', request({ From: { Email: 'a@example.com\nX: y' } }), 'From.Email'],
    ['NUL in Bcc', request({ Bcc: ['a\u0000@example.com'] }), 'Bcc[0]'],
    [
      'CR LF in a Name',
      request({ To: [{ Email: 'a@example.com', Name: 'A\r\nBcc: x@evil.example' }] }),
      'To[0].Name',
    ],
    ['CR LF in the Subject', request({ Subject: 'Hi\r\nBcc: x@evil.example' }), 'Subject'],
    ['TAB in the Subject', request({ Subject: 'Hi\tthere' }), 'Subject'],
    [
      'CR LF in a header name',
      request({ Headers: { 'X-A\r\nBcc': 'x@evil.example' } }),
      'Headers["X-A\\r\\nBcc"]',
    ],
    [
      'CR LF in a header value',
      request({ Headers: { 'X-A': 'b\r\nBcc: x@evil.example' } }),
      'Headers["X-A"]',
    ],
    ['a colon in a header name', request({ Headers: { 'X-A:': 'b' } }), 'Headers["X-A:"]'],
    ['group syntax', request({ To: [{ Email: 'undisclosed-recipients: a@b.example;' }] }), 'To[0].Email'],
    ['group syntax without spaces', request({ Cc: [{ Email: 'team:a@b.example;' }] }), 'Cc[0].Email'],
    ['a comma list', request({ To: [{ Email: 'a@b.example,c@d.example' }] }), 'To[0].Email'],
    ['a display name in Email', request({ To: [{ Email: 'Ann<a@b.example>' }] }), 'To[0].Email'],
    ['two @', request({ To: [{ Email: 'a@b@c.example' }] }), 'To[0].Email'],
    ['no @', request({ To: [{ Email: 'a.example' }] }), 'To[0].Email'],
    ['a quoted local part', request({ To: [{ Email: '"a b"@c.example' }] }), 'To[0].Email'],
    [
      'a quoted local part without space',
      request({ ReplyTo: [{ Email: '"ab"@c.example' }] }),
      'ReplyTo[0].Email',
    ],
    ['an IP literal', request({ To: [{ Email: 'a@[127.0.0.1]' }] }), 'To[0].Email'],
    ['a source route', request({ To: [{ Email: '@relay.example:a@b.example' }] }), 'To[0].Email'],
    ['the percent hack', request({ To: [{ Email: 'a%b.example@c.example' }] }), 'To[0].Email'],
    ['a bang path', request({ To: [{ Email: 'b.example!a@c.example' }] }), 'To[0].Email'],
    ['an encoded-word address', request({ To: [{ Email: '=?utf-8?q?x?=@b.example' }] }), 'To[0].Email'],
    [
      'an encoded-word name',
      request({ From: { Email: 'a@b.example', Name: '=?utf-8?b?QWRtaW4=?=' } }),
      'From.Name',
    ],
    ['a C1 control in a name', request({ To: [{ Email: 'a@b.example', Name: 'A\u0085B' }] }), 'To[0].Name'],
    ['restricted header Bcc', request({ Headers: { Bcc: 'x@evil.example' } }), 'Headers["Bcc"]'],
    ['restricted header bcc', request({ Headers: { bcc: 'x@evil.example' } }), 'Headers["bcc"]'],
    ['a duplicate header', request({ Headers: { 'X-A': '1', 'x-a': '2' } }), 'Headers["x-a"]'],
    ['X-Tags beside Tags', request({ Tags: ['a'], Headers: { 'X-Tags': 'b' } }), 'Headers["X-Tags"]'],
    ['an invalid tag', request({ Tags: ['ok', 'a,b'] }), 'Tags[1]'],
    ['a header word too long to fold', request({ Headers: { 'X-A': 'b'.repeat(995) } }), 'Headers["X-A"]'],
  ];
  for (const [label, body, field] of injections) {
    it(`refuses ${label}`, () => assertRefused(body, field));
  }

  const badAddresses = [
    'a@localhost',
    'a@example.com.',
    'a@-bad.example',
    'a@bad-.example',
    'a@under_score.example',
    'a@0x7f.1',
    'a@1.2.3.4',
    'a@b%2eexample.com',
    'a@xn--a.example',
    'a@ab--cd.example',
    `a@${'l'.repeat(64)}.example`,
    `${'l'.repeat(65)}@example.com`,
    'a..b@example.com',
    '.a@example.com',
    'a.@example.com',
    'a\u200b@example.com',
    'a b@example.com',
    '',
  ];
  for (const email of badAddresses) {
    it(`refuses the address ${JSON.stringify(email)}`, () =>
      assertRefused(request({ Bcc: [email] }), 'Bcc[0]'));
  }

  const attachment = (a: Record<string, string>) =>
    request({ Attachments: [{ Content: 'aGk=', Filename: 'a.bin', ...a }] });
  const badAttachments: [string, unknown, string][] = [
    ['bad base64', attachment({ Content: 'not base64!' }), 'Attachments[0].Content'],
    ['base64 without padding', attachment({ Content: 'aGk' }), 'Attachments[0].Content'],
    ['base64 with line breaks', attachment({ Content: 'aGVs\r\nbG8=' }), 'Attachments[0].Content'],
    ['non-canonical base64', attachment({ Content: 'aGl=' }), 'Attachments[0].Content'],
    ['a malformed data URL', attachment({ Content: 'data:image/png,aGk=' }), 'Attachments[0].Content'],
    [
      'a data URL with parameters',
      attachment({ Content: 'data:text/plain;charset=x;base64,aGk=' }),
      'Attachments[0].Content',
    ],
    ['a control in Filename', attachment({ Filename: 'a\r\nb.txt' }), 'Attachments[0].Filename'],
    ['a ContentType without subtype', attachment({ ContentType: 'image' }), 'Attachments[0].ContentType'],
    [
      'a ContentType with parameters',
      attachment({ ContentType: 'text/html; charset=x' }),
      'Attachments[0].ContentType',
    ],
    ['a multipart ContentType', attachment({ ContentType: 'multipart/mixed' }), 'Attachments[0].ContentType'],
    ['a message ContentType', attachment({ ContentType: 'message/rfc822' }), 'Attachments[0].ContentType'],
    ['angle brackets in ContentID', attachment({ ContentID: '<a@b>' }), 'Attachments[0].ContentID'],
    ['a space in ContentID', attachment({ ContentID: 'a b' }), 'Attachments[0].ContentID'],
    ['an empty ContentID', attachment({ ContentID: '' }), 'Attachments[0].ContentID'],
  ];
  for (const [label, body, field] of badAttachments) {
    it(`refuses an attachment with ${label}`, () => assertRefused(body, field));
  }

  for (const name of [
    'From',
    'to',
    'Reply-To',
    'DATE',
    'Message-ID',
    'Content-Type',
    'Received',
    'DKIM-Signature',
  ]) {
    it(`refuses the composer-owned header ${name}`, () =>
      assertRefused(request({ Headers: { [name]: 'x' } }), `Headers[${JSON.stringify(name)}]`));
  }

  it('allows X-Tags as a plain header when no Tags are given', async () => {
    const { email } = await composeAndParse(request({ Headers: { 'X-Tags': 'mine' } }));
    assert.deepEqual(header(email, 'x-tags'), ['mine']);
  });

  it('refuses more tags than a message may carry', async () => {
    const req: SendRequest = { From: { Email: 'a@example.com' }, To: [{ Email: 'b@example.com' }], Tags: [] };
    for (let i = 0; i < 51; i++) req.Tags!.push(`t${i}`);
    await assert.rejects(composeMessage(req, options()), (err: unknown) => {
      assert.ok(err instanceof CompositionError);
      assert.equal(err.field, 'Tags');
      return true;
    });
  });

  it('refuses a message without recipients', async () => {
    await assertRefused(request({ To: [] }), 'To');
    await assertRefused({ From: { Email: 'a@example.com' } }, 'To');
  });

  it('refuses more recipients than the limit, counting To, Cc and Bcc after dedupe', async () => {
    const three = request({
      To: [{ Email: 'a@example.com' }],
      Cc: [{ Email: 'b@example.com' }],
      Bcc: ['c@example.com'],
    });
    await assertRefused(three, 'To', 400, { maxRecipients: 2 });
    const dupes = request({ To: [{ Email: 'a@example.com' }], Bcc: ['A@example.com', 'b@example.com'] });
    assert.deepEqual((await compose(dupes, { maxRecipients: 2 })).envelope.to, [
      'a@example.com',
      'b@example.com',
    ]);
  });

  it('refuses an oversized message with 413, before and after building', async () => {
    await assertRefused(request({ Text: 'x'.repeat(5000) }), '', 413, { maxBytes: 4000 });
    // The bodies alone fit, the headers and MIME structure push the message over the limit.
    await assertRefused(request({ Text: 'x'.repeat(100) }), '', 413, { maxBytes: 200 });
    const fits = await compose(request({ Text: 'x'.repeat(100) }), { maxBytes: 2000 });
    assert.ok(fits.raw.length <= 2000);
  });
});
