import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SearchClause, SearchTerm } from '../../src/search/ast.ts';
import { parseSearch, SearchSyntaxError, sizeToBytes, stringifySearch } from '../../src/search/query.ts';

/** The clauses of a search, for compact assertions. */
const clauses = (s: string, tz?: string): SearchClause[] => parseSearch(s, { timeZone: tz }).clauses;
const only = (s: string, tz?: string): SearchClause => {
  const c = clauses(s, tz);
  assert.equal(c.length, 1, `${s}: ${JSON.stringify(c)}`);
  return c[0]!;
};
const term = (s: string, tz?: string): SearchTerm => only(s, tz).term;
const at = (s: string, tz?: string, now?: number): number => {
  const t = parseSearch(s, { timeZone: tz, now }).clauses[0]?.term;
  assert.equal(t?.kind, 'date', s);
  return (t as { at: number }).at;
};
const iso = (ms: number) => new Date(ms).toISOString();

function throwsSyntax(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SearchSyntaxError, String(e));
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'SearchSyntaxError');
    assert.match(e.message, message);
    return true;
  });
}

describe('parseSearch: words and quotes', () => {
  it('returns no clauses for an empty or blank search', () => {
    assert.deepEqual(parseSearch(''), { clauses: [] });
    assert.deepEqual(parseSearch('  \t \n '), { clauses: [] });
  });

  it('makes one plain word a prefix search', () => {
    assert.deepEqual(only('Invoice'), {
      negate: false,
      term: { kind: 'text', words: ['invoice'], phrase: false },
    });
    assert.deepEqual(term('Crème'), { kind: 'text', words: ['creme'], phrase: false });
  });

  it('makes a word with several tokens a phrase', () => {
    assert.deepEqual(term('foo-bar'), { kind: 'text', words: ['foo', 'bar'], phrase: true });
    assert.deepEqual(term('ann@example.com'), {
      kind: 'text',
      words: ['ann', 'example', 'com'],
      phrase: true,
    });
    assert.deepEqual(term('東京'), { kind: 'text', words: ['東', '京'], phrase: true });
  });

  it('makes quoted text a phrase, even a single word', () => {
    assert.deepEqual(term('"order 42"'), { kind: 'text', words: ['order', '42'], phrase: true });
    assert.deepEqual(term('"order"'), { kind: 'text', words: ['order'], phrase: true });
    assert.deepEqual(term('"  spaced   out  "'), { kind: 'text', words: ['spaced', 'out'], phrase: true });
  });

  it('splits on white space outside quotes only', () => {
    assert.deepEqual(
      clauses('a "b c"\td\n"e"').map((c) => c.term),
      [
        { kind: 'text', words: ['a'], phrase: false },
        { kind: 'text', words: ['b', 'c'], phrase: true },
        { kind: 'text', words: ['d'], phrase: false },
        { kind: 'text', words: ['e'], phrase: true },
      ],
    );
  });

  it('runs an unterminated quote to the end', () => {
    assert.deepEqual(
      clauses('x "open quote runs on').map((c) => c.term),
      [
        { kind: 'text', words: ['x'], phrase: false },
        { kind: 'text', words: ['open', 'quote', 'runs', 'on'], phrase: true },
      ],
    );
    assert.deepEqual(term('subject:"order 42'), { kind: 'field', field: 'subject', value: 'order 42' });
  });

  it('drops words without letters or digits', () => {
    assert.deepEqual(clauses('... "" - ! -- @#$ "!?"'), []);
  });

  it('treats a word that starts with a quote as text, never as a prefix', () => {
    assert.deepEqual(term('"from:ann"'), { kind: 'text', words: ['from', 'ann'], phrase: true });
    assert.deepEqual(term('"is:read"'), { kind: 'text', words: ['is', 'read'], phrase: true });
  });

  it('treats unknown prefixes as text', () => {
    assert.deepEqual(term('https://example.com/x'), {
      kind: 'text',
      words: ['https', 'example', 'com', 'x'],
      phrase: true,
    });
    assert.deepEqual(term('note:'), { kind: 'text', words: ['note'], phrase: false });
    assert.deepEqual(term('constructor:x'), { kind: 'text', words: ['constructor', 'x'], phrase: true });
    assert.deepEqual(term('__proto__:x'), { kind: 'text', words: ['proto', 'x'], phrase: true });
  });
});

describe('parseSearch: negation', () => {
  it('negates with a leading - or !', () => {
    assert.deepEqual(only('-spam'), { negate: true, term: { kind: 'text', words: ['spam'], phrase: false } });
    assert.deepEqual(only('!spam'), { negate: true, term: { kind: 'text', words: ['spam'], phrase: false } });
    assert.deepEqual(only('-"two words"'), {
      negate: true,
      term: { kind: 'text', words: ['two', 'words'], phrase: true },
    });
    assert.deepEqual(only('-from:ann'), {
      negate: true,
      term: { kind: 'field', field: 'from', value: 'ann' },
    });
    assert.deepEqual(only('!is:read'), { negate: true, term: { kind: 'is', state: 'read' } });
    assert.deepEqual(only('-tag:x'), { negate: true, term: { kind: 'tag', name: 'x' } });
  });

  it('negates only once and only when something follows', () => {
    assert.deepEqual(only('--foo'), { negate: true, term: { kind: 'text', words: ['foo'], phrase: false } });
    assert.deepEqual(only('!-foo'), { negate: true, term: { kind: 'text', words: ['foo'], phrase: false } });
    assert.deepEqual(clauses('-'), []);
    assert.deepEqual(clauses('!'), []);
  });

  it('does not negate a dash inside a word', () => {
    assert.deepEqual(only('re-send'), {
      negate: false,
      term: { kind: 'text', words: ['re', 'send'], phrase: true },
    });
  });
});

describe('parseSearch: field prefixes', () => {
  const fields = ['to', 'from', 'cc', 'bcc', 'reply-to', 'addressed', 'subject', 'message-id'] as const;

  it('recognises every field prefix, in any case, with a normalised value', () => {
    for (const field of fields) {
      assert.deepEqual(term(`${field}:Ann@Example.COM`), { kind: 'field', field, value: 'ann@example.com' });
      assert.deepEqual(term(`${field.toUpperCase()}:ÉCOLE`), { kind: 'field', field, value: 'ecole' });
    }
  });

  it('strips quotes from values and keeps spaces in quoted values', () => {
    assert.deepEqual(term('subject:"Order  42"'), { kind: 'field', field: 'subject', value: 'order 42' });
    assert.deepEqual(term('reply-to:"reply-to-1@example.com"'), {
      kind: 'field',
      field: 'reply-to',
      value: 'reply-to-1@example.com',
    });
    assert.deepEqual(term('to:"Ann Smith <ann@x.io>"'), {
      kind: 'field',
      field: 'to',
      value: 'ann smith <ann@x.io>',
    });
  });

  it('takes message ids without their angle brackets', () => {
    assert.deepEqual(term('message-id:<ABC@mail.example>'), {
      kind: 'field',
      field: 'message-id',
      value: 'abc@mail.example',
    });
  });

  it('drops a prefix with an empty value', () => {
    for (const field of fields) {
      assert.deepEqual(clauses(`${field}:`), [], field);
      assert.deepEqual(clauses(`${field}:""`), [], field);
      assert.deepEqual(clauses(`-${field}:" "`), [], field);
    }
    assert.deepEqual(clauses('message-id:<>'), []);
  });
});

describe('parseSearch: tags and flags', () => {
  it('returns tag names normalised', () => {
    assert.deepEqual(term('tag:Urgent'), { kind: 'tag', name: 'urgent' });
    assert.deepEqual(term('TAG:"Très  Urgent"'), { kind: 'tag', name: 'tres urgent' });
    assert.deepEqual(clauses('tag:'), []);
    assert.deepEqual(clauses('tag:""'), []);
  });

  it('reads is: and has:', () => {
    assert.deepEqual(term('is:read'), { kind: 'is', state: 'read' });
    assert.deepEqual(term('IS:UNREAD'), { kind: 'is', state: 'unread' });
    assert.deepEqual(term('is:"tagged"'), { kind: 'is', state: 'tagged' });
    assert.deepEqual(term('has:attachment'), { kind: 'has', what: 'attachment' });
    assert.deepEqual(term('has:Attachments'), { kind: 'has', what: 'attachment' });
    assert.deepEqual(term('has:inline'), { kind: 'has', what: 'inline' });
    assert.deepEqual(term('has:inlines'), { kind: 'has', what: 'inline' });
  });

  it('leaves unknown is:/has: values as text (as Mailpit does) and drops empty ones', () => {
    assert.deepEqual(term('is:starred'), { kind: 'text', words: ['is', 'starred'], phrase: true });
    assert.deepEqual(term('has:pdf'), { kind: 'text', words: ['has', 'pdf'], phrase: true });
    assert.deepEqual(clauses('is:'), []);
    assert.deepEqual(clauses('has:'), []);
  });
});

describe('parseSearch: header:', () => {
  it('reads name and value', () => {
    assert.deepEqual(term('header:X-Campaign:spring'), {
      kind: 'header',
      name: 'x-campaign',
      value: 'spring',
    });
    assert.deepEqual(term('header:"X-Campaign:Spring  Sale"'), {
      kind: 'header',
      name: 'x-campaign',
      value: 'spring sale',
    });
    assert.deepEqual(term('header:X-Campaign:"spring sale"'), {
      kind: 'header',
      name: 'x-campaign',
      value: 'spring sale',
    });
    assert.deepEqual(term('HEADER:List-Id:<news.example.com>'), {
      kind: 'header',
      name: 'list-id',
      value: '<news.example.com>',
    });
    assert.deepEqual(term('header:X-Url:https://a.example/b'), {
      kind: 'header',
      name: 'x-url',
      value: 'https://a.example/b',
    });
  });

  it('means presence without a value', () => {
    assert.deepEqual(term('header:X-Priority'), { kind: 'header', name: 'x-priority', value: '' });
    assert.deepEqual(term('header:X-Priority:'), { kind: 'header', name: 'x-priority', value: '' });
    assert.deepEqual(only('-header:List-Unsubscribe'), {
      negate: true,
      term: { kind: 'header', name: 'list-unsubscribe', value: '' },
    });
  });

  it('drops a header term without a name', () => {
    assert.deepEqual(clauses('header:'), []);
    assert.deepEqual(clauses('header::value'), []);
  });
});

describe('parseSearch: sizes', () => {
  it("converts sizes like Mailpit's sizeToBytes, plus g/gb", () => {
    const table: [string, number][] = [
      ['1m', 1048576],
      ['1mb', 1048576],
      ['1 M', 1048576],
      ['1 MB', 1048576],
      ['1k', 1024],
      ['1kb', 1024],
      ['1 K', 1024],
      ['1 kB', 1024],
      ['2kb', 2048],
      ['1.5M', 1572864],
      ['300', 300],
      ['1234567890', 1234567890],
      ['1g', 1073741824],
      ['2 GB', 2147483648],
      ['0.5k', 512],
      ['1.9', 1],
      ['invalid', 0],
      ['1.2.3', 0],
      ['1.2.3M', 0],
      ['1tb', 0],
      ['1b', 0],
      ['-5', 0],
      ['', 0],
    ];
    for (const [text, bytes] of table) assert.equal(sizeToBytes(text), bytes, text);
  });

  it('makes larger: and smaller: terms', () => {
    assert.deepEqual(term('larger:2kb'), { kind: 'size', op: 'larger', bytes: 2048 });
    assert.deepEqual(term('smaller:1.5m'), { kind: 'size', op: 'smaller', bytes: 1572864 });
    assert.deepEqual(term('LARGER:"1 MB"'), { kind: 'size', op: 'larger', bytes: 1048576 });
    assert.deepEqual(only('-smaller:300'), {
      negate: true,
      term: { kind: 'size', op: 'smaller', bytes: 300 },
    });
  });

  it('leaves an unreadable or zero size as plain text', () => {
    assert.deepEqual(term('larger:huge'), { kind: 'text', words: ['larger', 'huge'], phrase: true });
    assert.deepEqual(term('smaller:0'), { kind: 'text', words: ['smaller', '0'], phrase: true });
    assert.deepEqual(only('-larger:1.2.3'), {
      negate: true,
      term: { kind: 'text', words: ['larger', '1', '2', '3'], phrase: true },
    });
    assert.deepEqual(clauses('larger:'), []);
  });
});

describe('parseSearch: dates', () => {
  it('reads a bare date as midnight UTC by default', () => {
    assert.equal(iso(at('after:2024-03-10')), '2024-03-10T00:00:00.000Z');
    assert.deepEqual(term('before:2024-03-10'), { kind: 'date', op: 'before', at: Date.UTC(2024, 2, 10) });
    assert.equal(iso(at('after:2024-03-10', '')), '2024-03-10T00:00:00.000Z');
  });

  it('reads dates in the given time zone', () => {
    // 10 March 2024 is the day New York moves to daylight time; midnight is still EST (UTC-5).
    assert.equal(iso(at('after:2024-03-10', 'America/New_York')), '2024-03-10T05:00:00.000Z');
    assert.equal(iso(at('after:2024-03-11', 'America/New_York')), '2024-03-11T04:00:00.000Z');
    assert.equal(iso(at('after:2024-03-10', 'UTC')), '2024-03-10T00:00:00.000Z');
    assert.equal(iso(at('after:2024-03-10', 'Asia/Kolkata')), '2024-03-09T18:30:00.000Z');
    assert.equal(iso(at('after:2024-07-01', 'Europe/Berlin')), '2024-06-30T22:00:00.000Z');
    assert.equal(iso(at('after:2024-01-01', 'Pacific/Chatham')), '2023-12-31T10:15:00.000Z');
  });

  it('reads times with a space or a T, with or without seconds and fractions', () => {
    const ny = 'America/New_York';
    assert.equal(iso(at('after:"2024-03-10 14:30"', ny)), '2024-03-10T18:30:00.000Z');
    assert.equal(iso(at('after:"2024-03-10 14:30:15"', ny)), '2024-03-10T18:30:15.000Z');
    assert.equal(iso(at('after:2024-03-10T14:30', ny)), '2024-03-10T18:30:00.000Z');
    assert.equal(iso(at('after:2024-03-10T14:30:15.250', ny)), '2024-03-10T18:30:15.250Z');
    assert.equal(iso(at('after:2024/3/5', ny)), '2024-03-05T05:00:00.000Z');
  });

  it('uses an explicit offset over the time zone', () => {
    const ny = 'America/New_York';
    assert.equal(iso(at('after:2024-03-10T14:30Z', ny)), '2024-03-10T14:30:00.000Z');
    assert.equal(iso(at('after:2024-03-10t14:30:00z', ny)), '2024-03-10T14:30:00.000Z');
    assert.equal(iso(at('after:2024-03-10T14:30+02:00', ny)), '2024-03-10T12:30:00.000Z');
    assert.equal(iso(at('after:2024-03-10T14:30-0530', ny)), '2024-03-10T20:00:00.000Z');
    assert.equal(iso(at('after:"2024-03-10 14:30 +01"', ny)), '2024-03-10T13:30:00.000Z');
  });

  it('resolves skipped and repeated wall times like Temporal "compatible"', () => {
    const ny = 'America/New_York';
    // 02:30 does not exist on 10 March 2024 in New York: read with the offset before (EST) → 03:30 EDT.
    assert.equal(iso(at('after:"2024-03-10 02:30"', ny)), '2024-03-10T07:30:00.000Z');
    // 01:30 happens twice on 3 November 2024: the earlier one (EDT).
    assert.equal(iso(at('after:"2024-11-03 01:30"', ny)), '2024-11-03T05:30:00.000Z');
  });

  it('reads RFC 2822 and month-name dates', () => {
    const ny = 'America/New_York';
    assert.equal(iso(at('after:"Sun, 10 Mar 2024 14:00:00 +0100"', ny)), '2024-03-10T13:00:00.000Z');
    assert.equal(iso(at('after:"Sun, 10 Mar 2024 14:00:00 GMT"', ny)), '2024-03-10T14:00:00.000Z');
    assert.equal(iso(at('after:"10 Mar 2024 09:00 EST"', ny)), '2024-03-10T14:00:00.000Z');
    assert.equal(iso(at('after:"Mon, 11 Mar 2024 09:00:00 -0700 (PDT)"', ny)), '2024-03-11T16:00:00.000Z');
    assert.equal(iso(at('after:"10 March 2024"', ny)), '2024-03-10T05:00:00.000Z');
    assert.equal(iso(at('after:"March 10, 2024"', ny)), '2024-03-10T05:00:00.000Z');
    assert.equal(iso(at('after:"Sept 1st 2024 10:00"', 'UTC')), '2024-09-01T10:00:00.000Z');
  });

  it('reads today and yesterday as midnight in the zone', () => {
    // 03:00 UTC on 10 March is still 9 March in New York.
    const now = Date.UTC(2024, 2, 10, 3, 0);
    assert.equal(iso(at('after:today', 'UTC', now)), '2024-03-10T00:00:00.000Z');
    assert.equal(iso(at('after:TODAY', 'America/New_York', now)), '2024-03-09T05:00:00.000Z');
    assert.equal(iso(at('before:yesterday', 'America/New_York', now)), '2024-03-08T05:00:00.000Z');
    assert.equal(iso(at('after:yesterday', 'UTC', Date.UTC(2024, 2, 1, 12))), '2024-02-29T00:00:00.000Z');
    // Without `now`, today is the current day.
    const today = at('after:today', 'UTC');
    assert.ok(Date.now() - today >= 0 && Date.now() - today < 86_400_000);
  });

  it('accepts leap days and leap seconds', () => {
    assert.equal(iso(at('after:2024-02-29')), '2024-02-29T00:00:00.000Z');
    assert.equal(iso(at('after:2016-12-31T23:59:60Z')), '2016-12-31T23:59:59.000Z');
  });

  it('rejects unreadable dates, naming them', () => {
    for (const bad of [
      'yesterdayish',
      '2023-02-29',
      '2024-13-01',
      '2024-00-10',
      '2024-03-10T25:00',
      '10/03/2024',
    ]) {
      throwsSyntax(() => parseSearch(`after:${bad}`), new RegExp(`"${bad.replace(/[/]/g, '\\/')}".*after:`));
    }
    throwsSyntax(() => parseSearch('before:"10 Foo 2024"'), /"10 Foo 2024" in before:/);
    throwsSyntax(() => parseSearch('after:2024-03-10T10:00+25:00'), /Cannot read the date/);
    throwsSyntax(() => parseSearch('-before:soon'), /"soon"/);
  });

  it('drops an empty date', () => {
    assert.deepEqual(clauses('after: before:""'), []);
  });

  it('rejects an unknown time zone when a date needs it', () => {
    throwsSyntax(
      () => parseSearch('after:2024-03-10', { timeZone: 'Mars/Olympus_Mons' }),
      /time zone "Mars\/Olympus_Mons"/,
    );
    throwsSyntax(() => parseSearch('x before:today', { timeZone: 'not a zone' }), /Unknown time zone/);
    // Without a date the zone is not needed, so a bad one does no harm (Mailpit ignores it too).
    assert.equal(parseSearch('hello', { timeZone: 'Mars/Olympus_Mons' }).clauses.length, 1);
  });
});

describe('parseSearch: limits', () => {
  it(`accepts ${2000} characters and rejects more`, () => {
    const ok = 'a'.repeat(2000);
    assert.equal(parseSearch(ok).clauses.length, 1);
    throwsSyntax(() => parseSearch(`${ok}b`), /2001 characters.*2000/);
  });

  it('accepts 32 clauses and rejects 33', () => {
    const words = Array.from({ length: 32 }, (_, i) => `w${i}`);
    assert.equal(parseSearch(words.join(' ')).clauses.length, 32);
    throwsSyntax(() => parseSearch([...words, 'one-more'].join(' ')), /more than 32/);
  });

  it('does not count dropped words', () => {
    const words = Array.from({ length: 32 }, (_, i) => `w${i}`);
    assert.equal(parseSearch([...words, '-', 'from:', '""', '...'].join(' ')).clauses.length, 32);
  });
});

describe('parseSearch: Mailpit test-suite searches', () => {
  it('parses the searches Mailpit expects to find one message each', () => {
    const i = 7;
    assert.deepEqual(term(`from-${i}@example.com`), {
      kind: 'text',
      words: ['from', '7', 'example', 'com'],
      phrase: true,
    });
    assert.deepEqual(term(`from:from-${i}@example.com`), {
      kind: 'field',
      field: 'from',
      value: 'from-7@example.com',
    });
    assert.deepEqual(term(`cc:cc2-${i}@example.com`), {
      kind: 'field',
      field: 'cc',
      value: 'cc2-7@example.com',
    });
    assert.deepEqual(term(`"Subject line ${i} end"`), {
      kind: 'text',
      words: ['subject', 'line', '7', 'end'],
      phrase: true,
    });
    assert.deepEqual(term(`"the email body ${i} jdsauk dwqmdqw"`), {
      kind: 'text',
      words: ['the', 'email', 'body', '7', 'jdsauk', 'dwqmdqw'],
      phrase: true,
    });
  });
});

describe('stringifySearch', () => {
  it('writes the canonical form', () => {
    const q = parseSearch(
      'FROM:Ann "order 42" -is:read !has:attachments larger:1.5m after:2024-03-10 header:"X-Campaign:Spring Sale" ' +
        'tag:Urgent foo -bar-baz header:X-Flag',
      { timeZone: 'America/New_York' },
    );
    assert.equal(
      stringifySearch(q),
      'from:"ann" "order 42" -is:read -has:attachment larger:1572864 after:2024-03-10T05:00:00.000Z ' +
        'header:"x-campaign:spring sale" tag:"urgent" foo -"bar baz" header:"x-flag"',
    );
    assert.equal(stringifySearch({ clauses: [] }), '');
  });

  it('round-trips through parseSearch', () => {
    const searches = [
      '',
      'invoice',
      '"exact phrase here" -spam !"no way"',
      'to:ann cc:"Bob B" bcc:x@y reply-to:r addressed:"a b" subject:"Order #42: shipped" message-id:<ID@host>',
      'tag:"Très Urgent" -tag:x is:read is:unread -is:tagged has:attachment -has:inline',
      'after:today before:"Sun, 10 Mar 2024 14:00:00 +0100" -after:2024-01-01T00:00:00.123Z',
      'larger:1g smaller:300 -larger:1.5k larger:nonsense',
      'header:X-Campaign:spring "header:not a header" header:"list-id:<a.b>" -header:X-Spam',
      '東京タワー 한국어 İstanbul Straße Οδυσσεύς foo-bar ann@example.com',
      'https://example.com/a?b=c "unterminated quote',
    ];
    for (const s of searches) {
      const q = parseSearch(s, { timeZone: 'Europe/Berlin', now: Date.UTC(2024, 5, 1, 12) });
      const text = stringifySearch(q);
      // The canonical form holds no zone-dependent dates, so any zone reads it back the same.
      assert.deepEqual(parseSearch(text, { timeZone: 'Asia/Tokyo' }), q, `${s} → ${text}`);
      assert.equal(stringifySearch(parseSearch(text)), text, text);
    }
  });

  it('writes hand-built non-phrase multi-word terms as separate words', () => {
    const text = stringifySearch({
      clauses: [{ negate: false, term: { kind: 'text', words: ['alpha', 'beta'], phrase: false } }],
    });
    assert.equal(text, 'alpha beta');
  });
});
