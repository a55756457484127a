// Links and one-time codes from realistic messages, parsed the way stored mail is parsed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractCodes } from '../../src/checks/codes.ts';
import { type ExtractResult, extractFromMessage } from '../../src/checks/extract.ts';
import { unwrapTarget } from '../../src/checks/link-target.ts';
import { extractLinks } from '../../src/checks/links.ts';
import { parseMessage } from '../../src/mime/extract.ts';
import {
  CONFIRMATION_CODE,
  MAGIC_LINK,
  type MessageParts,
  NEWSLETTER,
  PASSWORD_RESET,
  rawMessage,
  SPACED_DIGITS,
  TWO_FACTOR_TABLE,
} from './fixtures.ts';

async function extract(parts: MessageParts): Promise<ExtractResult> {
  const m = await parseMessage(rawMessage(parts));
  return extractFromMessage({ subject: m.subject, text: m.text, html: m.html });
}

const codesOf = (text: string, subject = '') => extractCodes({ subject, text, html: '' }).map((c) => c.Code);

describe('extract: links', () => {
  it('a password reset: the button behind a tracking wrapper, its destination, and the text part link', async () => {
    const { Links, Codes } = await extract(PASSWORD_RESET);
    const button = Links.find((l) => l.Text === 'Choose a new password');
    assert.ok(button, 'the button is found by its text');
    assert.equal(button.Kind, 'link');
    assert.deepEqual(button.Sources, ['html']);
    assert.match(button.URL, /^https:\/\/links\.acme\.example\/ls\/click\?upn=/);
    assert.equal(button.Target, 'https://app.acme.example/reset?token=Zm9vYmFyLXJlc2V0&uid=42');
    assert.match(button.Context, /reset the password of your Acme account\. Choose a new password This link/);
    const text = Links.find((l) => l.Sources.includes('text'));
    assert.deepEqual(
      { URL: text?.URL, Text: text?.Text },
      { URL: 'https://app.acme.example/reset?token=Zm9vYmFyLXJlc2V0&uid=42', Text: 'Reset your password' },
    );
    const pixel = Links.find((l) => l.Kind === 'image');
    assert.equal(pixel?.URL, 'https://links.acme.example/o/open.gif?id=u001');
    assert.ok(Links.some((l) => l.URL === 'mailto:help@acme.example' && l.Scheme === 'mailto'));
    // Zip code, suite number, phone number and year: none of them is a code.
    assert.deepEqual(Codes, []);
  });

  it('a magic link: image-only anchor text from the alt, the safe-links wrapper unwrapped, <URL> over two lines', async () => {
    const { Links } = await extract(MAGIC_LINK);
    const magic =
      'https://app.acme.example/auth/magic?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl&redirect=%2Fdashboard';
    const wrapped = Links.find((l) => l.Kind === 'link' && l.Text === 'Sign in to Acme');
    assert.equal(wrapped?.Target, magic);
    const fromText = Links.find((l) => l.Sources.includes('text'));
    assert.equal(fromText?.URL, magic, 'the folded <URL> is joined without its line break');
    assert.match(fromText?.Text ?? '', /sign in to Acme/);
    assert.equal(Links.find((l) => l.URL === 'https://app.acme.example/login')?.Text, 'the sign-in page');
  });

  it('a newsletter: each link once, with where it was found, and three tracking wrappers', async () => {
    const { Links } = await extract(NEWSLETTER);
    const post = Links.filter((l) => l.URL === 'https://www.acme.example/blog/faster-search');
    assert.equal(post.length, 1, 'a link in both parts is listed once');
    assert.deepEqual(post[0]?.Sources, ['html', 'text']);
    assert.equal(post[0]?.Count, 2);
    assert.equal(post[0]?.Text, 'Read the post', "the HTML's anchor text wins over the text label");
    const targets = Links.map((l) => l.Target).filter(Boolean);
    assert.deepEqual(targets, [
      'https://www.acme.example/blog/faster-search',
      'https://www.acme.example/releases/2026-11',
    ]);
    const release = Links.find((l) => l.URL === 'https://www.acme.example/releases/2026-11');
    assert.equal(release?.Text, 'Release notes', 'parentheses and the full stop are not part of the URL');
  });

  it('leaves out what is not a link, and resolves relative links against <base>', () => {
    const links = extractLinks({
      text: 'Not links: javascript:alert(1) ftp is fine: ftp://files.example/x.zip',
      html: `<base href="https://shop.example/en/"><a href="javascript:alert(1)">x</a><a href="#top">top</a>
        <a href="data:text/html,hi">d</a><a href="cid:logo">c</a><a href="account/orders">Orders</a>
        <a href="tel:+14155550100">Call us</a><a>no href</a>`,
    });
    assert.deepEqual(
      links.map((l) => [l.URL, l.Scheme, l.Text]),
      [
        ['https://shop.example/en/account/orders', 'https', 'Orders'],
        ['tel:+14155550100', 'tel', 'Call us'],
        ['ftp://files.example/x.zip', 'ftp', 'Not links: javascript:alert(1) ftp is fine'],
      ],
    );
  });

  it('unwraps only destinations that are there', () => {
    assert.equal(unwrapTarget('https://example.us1.list-manage.com/track/click?u=abc123&id=def'), null);
    assert.equal(unwrapTarget('https://shop.example/search?q=shoes'), null);
    assert.equal(
      unwrapTarget(
        `https://a.example/r?url=${encodeURIComponent('https://b.example/r?u=https%3A%2F%2Fc.example%2Fend')}`,
      ),
      'https://c.example/end',
      'nested wrappers are followed to the end',
    );
  });

  it('keeps its output bounded on a hostile body', () => {
    const html = Array.from({ length: 3000 }, (_, i) => `<a href="https://x.example/${i}">${i}</a>`).join('');
    const links = extractLinks({
      text: '',
      html: `${html}<a href="https://x.example/${'a'.repeat(9000)}">long</a>`,
    });
    assert.equal(links.length, 500);
    assert.ok(links.every((l) => l.URL.length < 8192));
    const huge = extractFromMessage({ subject: '', text: '', html: `<p>${'x'.repeat(3 * 1024 * 1024)}</p>` });
    assert.equal(huge.Truncated, true, 'a part over 2 MiB is read in part, and says so');
    assert.equal(extractFromMessage({ subject: '', text: 'short', html: '' }).Truncated, false);
  });
});

describe('extract: one-time codes', () => {
  it('a 2FA code in table cells ranks first, numbers that are something else are left out', async () => {
    const { Codes } = await extract(TWO_FACTOR_TABLE);
    assert.equal(Codes[0]?.Code, '482913');
    assert.equal(Codes[0]?.Kind, 'numeric');
    assert.ok((Codes[0]?.Score ?? 0) >= 80, `score ${Codes[0]?.Score}`);
    assert.match(Codes[0]?.Reasons[0] ?? '', /verification/);
    assert.match(Codes[0]?.Context ?? '', /Your verification code 482 913/);
    // The order number, the price, the toll-free number, the date and time, the zip code.
    for (const other of ['558812', '1299', '8005550199', '2026', '1405', '94105'])
      assert.ok(!Codes.some((c) => c.Code === other), `${other} is not a code`);
  });

  it('an "ABC-123" code beside a booking reference, which is labelled as something else', async () => {
    const { Codes } = await extract(CONFIRMATION_CODE);
    assert.deepEqual(
      Codes.map((c) => c.Code),
      ['ABC-123'],
    );
    assert.equal(Codes[0]?.Kind, 'alphanumeric');
  });

  it('digits in cells of their own are one code', async () => {
    const { Codes } = await extract(SPACED_DIGITS);
    assert.equal(Codes[0]?.Code, '704219');
    assert.ok(!Codes.some((c) => c.Code.startsWith('2026')), 'the date is not a code');
  });

  it('ranks by the words around: code, OTP, PIN, verification beat a bare number', () => {
    const codes = extractCodes({
      subject: 'Your sign-in details',
      text: 'Your account has 1042 points.\nYour one-time password (OTP) is 552201.\nReference 77812.',
      html: '',
    });
    assert.equal(codes[0]?.Code, '552201');
    assert.ok(!codes.some((c) => c.Code === '1042'), 'a number without a code word is not reported');
  });

  it('finds codes written many ways', () => {
    assert.deepEqual(codesOf('Your code: 123456'), ['123456']);
    assert.deepEqual(codesOf('123 456 is your Acme login code'), ['123456']);
    assert.deepEqual(
      codesOf('Your PIN is 1987'),
      ['1987'],
      'a PIN that looks like a year, labelled as a PIN',
    );
    assert.deepEqual(codesOf('Verification code:\n\n  K7Q2ZP\n'), ['K7Q2ZP']);
    assert.deepEqual(codesOf('Ihr Bestätigungscode lautet 918273.'), ['918273']);
    assert.deepEqual(codesOf('Use 604311 to verify your email'), ['604311']);
  });

  it('skips dates, years, prices, amounts, phone numbers and labelled identifiers', () => {
    const text = [
      'Your code will arrive soon.',
      'Order #558812 ships on 2026-05-18; invoice no. 449102.',
      'Total: $1,299.00 or 1299 EUR, 45.5% off.',
      'Call +44 20 7946 0958 or (415) 555-0100.',
      'Meeting at 10:30, May 2026. © 2025 Acme.',
      'Tracking number: 9400111899',
      'Use promo code SAVE2026 at checkout.',
      'Colour #FF0000.',
    ].join('\n');
    assert.deepEqual(codesOf(text, 'Your code'), []);
  });
});
