import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Address } from '../../src/domain/message.ts';
import {
  MAX_CLAUSES,
  MAX_HEADERS_BYTES,
  MAX_QUERY_LENGTH,
  MAX_TOKEN_LENGTH,
  MAX_WORDS_BYTES,
  normalize,
  normalizeMessageId,
  normalizeUnicode,
  type SearchInput,
  searchDocument,
  tokenize,
} from '../../src/search/text.ts';

function input(over: Partial<SearchInput> = {}): SearchInput {
  return {
    from: null,
    to: [],
    cc: [],
    bcc: [],
    replyTo: [],
    subject: '',
    messageId: '',
    headers: [],
    text: '',
    attachmentNames: [],
    ...over,
  };
}

const addr = (Name: string, Address: string): Address => ({ Name, Address });

describe('normalize', () => {
  it('lower-cases and removes accents', () => {
    assert.equal(normalize('ÉCOLE Élève Crème BRÛLÉE'), 'ecole eleve creme brulee');
    assert.equal(normalize('Ångström Zürich Ñandú'), 'angstrom zurich nandu');
  });

  it('folds German sharp s, both cases', () => {
    assert.equal(normalize('Straße'), 'strasse');
    assert.equal(normalize('STRASSE'), 'strasse');
    assert.equal(normalize('GROẞ'), 'gross');
  });

  it('makes the Turkish dotted and dotless i equal to i', () => {
    for (const s of ['İstanbul', 'ISTANBUL', 'istanbul', 'ıstanbul', 'İSTANBUL']) {
      assert.equal(normalize(s), 'istanbul', s);
    }
    assert.equal(normalize('DİYARBAKIR'), 'diyarbakir');
  });

  it('folds Greek case, accents and final sigma', () => {
    assert.equal(normalize('ΟΔΥΣΣΕΥΣ'), normalize('Οδυσσεύς'));
    assert.equal(normalize('Οδυσσεύς'), 'οδυσσευσ');
    assert.equal(normalize('ΆΘΗΝΑ'), 'αθηνα');
  });

  it('applies compatibility forms: ligatures, full-width, long s, letters with a stroke', () => {
    assert.equal(normalize('ﬁnance ﬂow'), 'finance flow');
    assert.equal(normalize('ＡＢＣ１２３'), 'abc123');
    assert.equal(normalize('Maſs'), 'mass');
    assert.equal(normalize('Łódź Søren Đorđe Æsir Œuvre'), 'lodz soren dorde aesir oeuvre');
  });

  it('collapses white space and removes invisible characters', () => {
    assert.equal(normalize('  a\t\tb \r\n c\u00a0d  '), 'a b c d');
    assert.equal(normalize('in\u00advisible\u200b\ufeff'), 'invisible');
  });

  it('takes a shortcut for ASCII text that gives what the general path gives', () => {
    // Every ASCII character, controls and punctuation included, in random strings: the fast
    // path (ASCII) and the general one (NFKD, marks, folding, NFC) must agree, for normalising
    // and for the tokens (for ASCII text TOKEN is runs of Unicode letters and digits).
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let n = 0; n < 2000; n++) {
      const length = next() % 40;
      let s = '';
      for (let i = 0; i < length; i++) s += String.fromCharCode(next() % 128);
      assert.equal(normalize(s), normalizeUnicode(s), JSON.stringify(s));
      const reference = [...normalizeUnicode(s).matchAll(/[\p{L}\p{N}]+/gu)].map((m) => m[0]);
      assert.deepEqual(tokenize(s), reference, JSON.stringify(s));
      // The words of a document take the same shortcut; tokens over the length cap are cut.
      const long = `${'y'.repeat(MAX_TOKEN_LENGTH + (next() % 3))} ${s}${'x'.repeat(next() % 2 ? MAX_TOKEN_LENGTH + 5 : 3)} z`;
      assert.equal(
        searchDocument(input({ text: long })).words,
        tokenize(long).join(' '),
        JSON.stringify(long),
      );
    }
    assert.equal(normalize(' Hello\tWORLD\x00\x7f  x '), 'hello world x');
    assert.deepEqual(tokenize('Re: Invoice #42-B, <ops@example.test>'), [
      're',
      'invoice',
      '42',
      'b',
      'ops',
      'example',
      'test',
    ]);
  });

  it('keeps Hangul syllables whole (NFC after NFKD)', () => {
    assert.equal(normalize('한국어'), '한국어');
    assert.equal([...normalize('한국어')].length, 3);
  });

  it('is idempotent', () => {
    const samples = [
      'ÉCOLE Straße',
      'İstanbul ı',
      'ΣΟΦΟΣ σοφός',
      '東京タワー へ 行きました',
      '한국어 텍스트',
      'ﬁ ＡＢＣ ſ ẞ Ǆ ǅ ǆ',
      'Łódź Søren Æ Œ',
      'हिन्दी العربية ไทย',
      'a\u0301\u0302b',
      'x<y> "q" %_\\ *',
    ];
    for (const s of samples) assert.equal(normalize(normalize(s)), normalize(s), s);
  });
});

describe('tokenize', () => {
  it('splits on anything that is not a letter or digit', () => {
    assert.deepEqual(tokenize('Foo-bar, ÉTÉ 2024! ann@example.com'), [
      'foo',
      'bar',
      'ete',
      '2024',
      'ann',
      'example',
      'com',
    ]);
    assert.deepEqual(tokenize('  ...  '), []);
    assert.deepEqual(tokenize(''), []);
  });

  it('makes every Han, kana and Hangul letter its own token', () => {
    assert.deepEqual(tokenize('東京タワー'), ['東', '京', 'タ', 'ワ', 'ー']);
    // Removing marks also removes the voicing mark: が is searched as か (documented in text.ts).
    assert.deepEqual(tokenize('ひらがなabc漢字'), ['ひ', 'ら', 'か', 'な', 'abc', '漢', '字']);
    assert.deepEqual(tokenize('한국어 텍스트'), ['한', '국', '어', '텍', '스', '트']);
    // Full-width forms inside CJK text become ASCII tokens.
    assert.deepEqual(tokenize('価格ＵＳＤ１００'), ['価', '格', 'usd100']);
  });

  it('keeps other scripts as runs of letters', () => {
    assert.deepEqual(tokenize('Привет, МИР'), ['привет', 'мир']);
    assert.deepEqual(tokenize('Οδυσσεύς'), ['οδυσσευσ']);
    assert.deepEqual(tokenize('مرحبا بالعالم'), ['مرحبا', 'بالعالم']);
  });

  it('cuts long tokens to 64 code points', () => {
    const long = 'a'.repeat(100);
    assert.deepEqual(tokenize(long), ['a'.repeat(MAX_TOKEN_LENGTH)]);
    const astral = '𝒜'.repeat(70); // mathematical script A: NFKD → "a"
    assert.deepEqual(tokenize(astral), ['a'.repeat(MAX_TOKEN_LENGTH)]);
    const gothic = '𐌰'.repeat(70); // a letter outside the BMP without a decomposition
    const [t] = tokenize(gothic);
    assert.equal([...t!].length, MAX_TOKEN_LENGTH);
    assert.equal(t, '𐌰'.repeat(MAX_TOKEN_LENGTH));
  });

  it('never yields FTS5 or tsquery syntax characters', () => {
    const nasty = 'a"b*c^d:e(f)g&h|i!j<k>l-m+n NEAR/2 x\'y\\z {col}: %_ 東"京 ';
    for (const t of tokenize(nasty)) assert.match(t, /^[\p{L}\p{N}]+$/u, t);
    assert.deepEqual(tokenize('"order 42"*'), ['order', '42']);
  });
});

describe('searchDocument', () => {
  it('formats and normalises address fields, one line per address', () => {
    const doc = searchDocument(
      input({
        from: addr('Ann Ö. Smith', 'Ann@Example.COM'),
        to: [addr('', 'bob@example.com'), addr('Carol', 'carol@example.org')],
        cc: [addr('Dave', '')],
        bcc: [addr('', '')],
        replyTo: [addr('Help Desk', 'help@example.com')],
      }),
    );
    assert.equal(doc.from, 'ann o. smith <ann@example.com>');
    assert.equal(doc.to, '<bob@example.com>\ncarol <carol@example.org>');
    assert.equal(doc.cc, 'dave');
    assert.equal(doc.bcc, '');
    assert.equal(doc.replyTo, 'help desk <help@example.com>');
    assert.equal(searchDocument(input()).from, '');
  });

  it('normalises subject and message id (without angle brackets)', () => {
    const doc = searchDocument(
      input({ subject: '  Ünïcode   SUBJECT ', messageId: '<ABC.123@Mail.Example>' }),
    );
    assert.equal(doc.subject, 'unicode subject');
    assert.equal(doc.messageId, 'abc.123@mail.example');
    assert.equal(normalizeMessageId('< <x@y> >'), 'x@y');
    assert.equal(normalizeMessageId(normalizeMessageId('<<a>>')), 'a');
  });

  it('writes header lines with lower-case names and unfolded, normalised values', () => {
    const doc = searchDocument(
      input({
        headers: [
          ['X-Campaign', 'Spring SALE'],
          ['Subject', 'A long\r\n\tfolded  subject'],
          ['X-Empty', ''],
          ['  ', 'nameless'],
          ['X-Accent', 'Crème'],
        ],
      }),
    );
    assert.equal(
      doc.headers,
      'x-campaign: spring sale\nsubject: a long folded subject\nx-empty:\nx-accent: creme',
    );
  });

  it('caps the headers at 64 KiB, leaving out what does not fit', () => {
    const big = 'v'.repeat(4000);
    const headers: [string, string][] = [];
    for (let i = 0; i < 40; i++) headers.push([`X-H${i}`, big]);
    headers.push(['X-Last', 'small']);
    const doc = searchDocument(input({ headers }));
    assert.ok(Buffer.byteLength(doc.headers) <= MAX_HEADERS_BYTES);
    const lines = doc.headers.split('\n');
    assert.ok(lines.length > 10 && lines.length < 41, String(lines.length));
    assert.equal(lines.at(-1), 'x-last: small');
    for (const l of lines.slice(0, -1)) assert.match(l, /^x-h\d+: v+$/);
  });

  it('cuts one huge header value instead of dropping the header', () => {
    const doc = searchDocument(input({ headers: [['DKIM-Signature', 'x'.repeat(100_000)]] }));
    assert.ok(doc.headers.startsWith('dkim-signature: xxx'));
    assert.ok(doc.headers.length < 10_000);
  });

  it('collects words from subject, addresses, attachment names and text, in that order', () => {
    const doc = searchDocument(
      input({
        subject: 'Order #42 shipped',
        from: addr('Ann Smith', 'ann@example.com'),
        to: [addr('Bob', 'bob@example.org')],
        cc: [addr('', 'cc@x.io')],
        bcc: [addr('Secret', 'hidden@x.io')],
        replyTo: [addr('', 'reply@x.io')],
        attachmentNames: ['Invoice-2024.PDF'],
        text: 'Thank you — your parcel is on its way.',
        headers: [['X-Campaign', 'spring']],
        messageId: '<id-only@x>',
      }),
    );
    assert.equal(
      doc.words,
      'order 42 shipped ann smith ann example com bob bob example org cc x io secret hidden x io reply x io ' +
        'invoice 2024 pdf thank you your parcel is on its way',
    );
    // Header values and the message id are not free text.
    assert.ok(!doc.words.includes('spring'));
    assert.ok(!doc.words.includes('only'));
  });

  it('caps the words at 256 KiB, on a token boundary', () => {
    const text = 'wörd '.repeat(200_000); // ≈1 MB of text, tokens "word"
    const started = performance.now();
    const doc = searchDocument(input({ subject: 'first', text }));
    const elapsed = performance.now() - started;
    assert.ok(Buffer.byteLength(doc.words) <= MAX_WORDS_BYTES);
    assert.ok(Buffer.byteLength(doc.words) > MAX_WORDS_BYTES - 10);
    assert.ok(doc.words.startsWith('first word word'));
    assert.ok(doc.words.endsWith(' word'));
    for (const t of doc.words.split(' ').slice(1)) assert.equal(t, 'word');
    // Huge bodies stop being tokenised once the cap is reached (generous bound for slow CI).
    assert.ok(elapsed < 2000, `${elapsed} ms`);
  });

  it('tokenises text without spaces (CJK) across slice boundaries without losing letters', () => {
    const text = '漢'.repeat(50_000);
    const doc = searchDocument(input({ text }));
    const tokens = doc.words.split(' ');
    assert.equal(tokens.length, 50_000);
    assert.ok(tokens.every((t) => t === '漢'));
  });

  it('does not split a word at a slice boundary when there is white space nearby', () => {
    const filler = 'ab '.repeat(11_000); // 33,000 characters: a slice ends inside it
    const doc = searchDocument(input({ text: `${filler}needle` }));
    const tokens = doc.words.split(' ');
    assert.equal(tokens.length, 11_001);
    assert.ok(tokens.slice(0, -1).every((t) => t === 'ab'));
    assert.equal(tokens.at(-1), 'needle');
  });
});

describe('limits', () => {
  it('exports the query limits', () => {
    assert.equal(MAX_QUERY_LENGTH, 2000);
    assert.equal(MAX_CLAUSES, 32);
  });
});

describe('searchDocument byte caps', () => {
  it('counts UTF-8 bytes, astral characters included', () => {
    // 4-byte letters: 𐌰 (Gothic). 256 KiB / (4 × 10 + 1) tokens of ten letters fit.
    const token = '𐌰'.repeat(10);
    const doc = searchDocument(input({ text: `${token} `.repeat(10_000) }));
    const bytes = Buffer.byteLength(doc.words);
    assert.ok(bytes <= MAX_WORDS_BYTES && bytes > MAX_WORDS_BYTES - 41, String(bytes));
    assert.equal(doc.words.split(' ').length, Math.floor((MAX_WORDS_BYTES + 1) / 41));
  });
});
