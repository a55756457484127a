import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SearchDocument, SearchQuery, SearchTerm } from '../../src/search/ast.ts';
import { headerMatches, type MatchTarget, matchesSearch } from '../../src/search/match.ts';
import { parseSearch, stringifySearch } from '../../src/search/query.ts';
import { normalize, searchDocument } from '../../src/search/text.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 2, 10, 12); // 10 March 2024, 12:00 UTC

/** A small corpus: ids → messages, documents built the way the adapters build them. */
const corpus: Record<string, MatchTarget> = {
  order: {
    doc: searchDocument({
      from: { Name: 'Ann Smith', Address: 'ann@example.com' },
      to: [{ Name: 'Bob', Address: 'bob@shop.example' }],
      cc: [{ Name: 'Carol Çelik', Address: 'carol@example.org' }],
      bcc: [],
      replyTo: [{ Name: '', Address: 'orders@example.com' }],
      subject: 'Order #42 shipped',
      messageId: '<order-42@mail.example.com>',
      headers: [
        ['X-Campaign', 'Spring Sale 2024'],
        ['List-Id', '<news.example.com>'],
        ['X-Priority', ''],
      ],
      text: 'Your order 42 has shipped. Invoice attached. Thanks for shopping!',
      attachmentNames: ['invoice-42.pdf'],
    }),
    tags: ['Orders', 'Très Urgent'],
    read: false,
    attachments: 1,
    inline: 0,
    receivedAt: T0,
    size: 30_000,
  },
  cafe: {
    doc: searchDocument({
      from: { Name: 'Café Zürich', Address: 'hello@cafe.example' },
      to: [{ Name: 'ANN SMITH', Address: 'Ann@Example.com' }],
      cc: [],
      bcc: [{ Name: 'Secret', Address: 'audit@example.net' }],
      replyTo: [],
      subject: 'ÉCOLE de café: Straße İstanbul Οδυσσεύς',
      messageId: 'cafe-1@cafe.example',
      headers: [
        ['X-Campaign', 'autumn'],
        ['Content-Type', 'text/html; charset=UTF-8'],
      ],
      text: 'Bienvenue à l’école. 東京タワーへ行きました。 한국어 메일',
      attachmentNames: [],
    }),
    tags: [],
    read: true,
    attachments: 0,
    inline: 2,
    receivedAt: T0 - 3 * DAY,
    size: 2_000_000,
  },
  plain: {
    doc: searchDocument({
      from: null,
      to: [{ Name: '', Address: 'ops@example.com' }],
      cc: [],
      bcc: [],
      replyTo: [],
      subject: 'Disk almost full',
      messageId: '',
      headers: [],
      text: 'ordering new disks; shipment expected soon. order-tracking: abc123',
      attachmentNames: [],
    }),
    tags: ['ops'],
    read: true,
    attachments: 0,
    inline: 0,
    receivedAt: T0 + DAY,
    size: 512,
  },
  /** Built by hand, as an adapter would read it back from its columns. */
  handmade: {
    doc: {
      from: 'newsletter <news@example.com>',
      to: '<list@example.com>',
      cc: '',
      bcc: '',
      replyTo: '',
      subject: 'weekly digest',
      messageId: 'digest-7@example.com',
      headers: 'x-campaign: spring\nx-mailer: mailroom 1.0\nx-empty:',
      words: 'weekly digest newsletter news example com spring news spring break order',
    },
    tags: ['NEWS'],
    read: false,
    attachments: 0,
    inline: 1,
    receivedAt: T0 - DAY,
    size: 10_240,
  },
};

function hits(search: string, timeZone = 'UTC'): string[] {
  const q = parseSearch(search, { timeZone, now: T0 });
  return Object.entries(corpus)
    .filter(([, m]) => matchesSearch(q, m))
    .map(([id]) => id)
    .sort();
}

describe('matchesSearch on a small corpus', () => {
  it('matches everything for an empty search', () => {
    assert.deepEqual(hits(''), ['cafe', 'handmade', 'order', 'plain']);
  });

  it('matches plain words as prefixes of tokens', () => {
    assert.deepEqual(hits('order'), ['handmade', 'order', 'plain']); // "ordering" starts with "order"
    assert.deepEqual(hits('ship'), ['order', 'plain']); // shipped, shipment
    assert.deepEqual(hits('shipped'), ['order']);
    assert.deepEqual(hits('invoice 42'), ['order']);
    assert.deepEqual(hits('zzz'), []);
    assert.deepEqual(hits('abc'), ['plain']);
  });

  it('matches quoted or multi-token text as a phrase of whole tokens', () => {
    assert.deepEqual(hits('"order 42"'), ['order']);
    assert.deepEqual(hits('orderi'), ['plain']); // prefix of "ordering"
    assert.deepEqual(hits('"orderi"'), []); // a phrase word is a whole token
    assert.deepEqual(hits('"ordering"'), ['plain']);
    assert.deepEqual(hits('"42 shipped"'), ['order']);
    assert.deepEqual(hits('"shipped 42"'), []); // order matters
    assert.deepEqual(hits('"order 4"'), []); // the last word is whole too
    assert.deepEqual(hits('order-tracking'), ['plain']);
    assert.deepEqual(hits('ann@example.com'), ['cafe', 'order']);
    assert.deepEqual(hits('invoice-42.pdf'), ['order']);
  });

  it('is case- and accent-insensitive in every script', () => {
    assert.deepEqual(hits('ecole'), ['cafe']);
    assert.deepEqual(hits('ÉCOLE'), ['cafe']);
    assert.deepEqual(hits('STRASSE'), ['cafe']);
    assert.deepEqual(hits('straße'), ['cafe']);
    assert.deepEqual(hits('ISTANBUL'), ['cafe']);
    assert.deepEqual(hits('ıstanbul'), ['cafe']);
    assert.deepEqual(hits('ΟΔΥΣΣΕΥΣ'), ['cafe']);
    assert.deepEqual(hits('οδυσσευς'), ['cafe']);
    assert.deepEqual(hits('zurich'), ['cafe']);
  });

  it('finds CJK words as phrases of single characters', () => {
    assert.deepEqual(hits('東京'), ['cafe']);
    assert.deepEqual(hits('タワー'), ['cafe']);
    assert.deepEqual(hits('京東'), []);
    assert.deepEqual(hits('한국어'), ['cafe']);
    assert.deepEqual(hits('메일'), ['cafe']);
  });

  it('matches fields as normalised substrings', () => {
    assert.deepEqual(hits('from:ann'), ['order']);
    assert.deepEqual(hits('from:"cafe zur"'), ['cafe']);
    assert.deepEqual(hits('to:ann@example.com'), ['cafe']);
    assert.deepEqual(hits('to:<ops@example.com>'), ['plain']);
    assert.deepEqual(hits('cc:celik'), ['order']);
    assert.deepEqual(hits('bcc:audit'), ['cafe']);
    assert.deepEqual(hits('reply-to:orders@'), ['order']);
    assert.deepEqual(hits('addressed:ann@example.com'), ['cafe', 'order']);
    assert.deepEqual(hits('addressed:example.net'), ['cafe']);
    assert.deepEqual(hits('subject:"order #42"'), ['order']);
    assert.deepEqual(hits('subject:dig'), ['handmade']); // substring, not token
    assert.deepEqual(hits('subject:ecole'), ['cafe']);
    assert.deepEqual(hits('message-id:<order-42@mail.example.com>'), ['order']);
    assert.deepEqual(hits('message-id:cafe-1'), ['cafe']);
    assert.deepEqual(hits('from:example.com'), ['handmade', 'order']); // plain has no From
  });

  it('matches headers by name and value substring, or presence', () => {
    assert.deepEqual(hits('header:X-Campaign:spring'), ['handmade', 'order']);
    assert.deepEqual(hits('header:"X-Campaign:spring sale"'), ['order']);
    assert.deepEqual(hits('header:x-campaign:AUTUMN'), ['cafe']);
    assert.deepEqual(hits('header:X-Campaign'), ['cafe', 'handmade', 'order']);
    assert.deepEqual(hits('header:X-Priority'), ['order']); // present with an empty value
    assert.deepEqual(hits('header:X-Priority:1'), []);
    assert.deepEqual(hits('header:List-Id:<news.example.com>'), ['order']);
    assert.deepEqual(hits('header:X-Mailer:"mailroom 1"'), ['handmade']);
    assert.deepEqual(hits('header:X-Camp'), []); // names are whole
    assert.deepEqual(hits('header:Content-Type:utf-8'), ['cafe']);
    // A value on another header's line does not count.
    assert.deepEqual(hits('header:X-Campaign:mailroom'), []);
    assert.deepEqual(hits('-header:X-Campaign'), ['plain']);
  });

  it('compares tags case- and accent-insensitively', () => {
    assert.deepEqual(hits('tag:orders'), ['order']);
    assert.deepEqual(hits('tag:"tres urgent"'), ['order']);
    assert.deepEqual(hits('tag:"TRÈS URGENT"'), ['order']);
    assert.deepEqual(hits('tag:news'), ['handmade']);
    assert.deepEqual(hits('tag:urgent'), []); // equality, not substring
    assert.deepEqual(hits('is:tagged'), ['handmade', 'order', 'plain']);
    assert.deepEqual(hits('-is:tagged'), ['cafe']);
    // Raw tag names passed straight to the term compare the same way.
    const q: SearchQuery = { clauses: [{ negate: false, term: { kind: 'tag', name: 'ORDERS' } }] };
    assert.equal(matchesSearch(q, corpus.order!), true);
  });

  it('matches read state, attachments and inline parts', () => {
    assert.deepEqual(hits('is:read'), ['cafe', 'plain']);
    assert.deepEqual(hits('is:unread'), ['handmade', 'order']);
    assert.deepEqual(hits('!is:read'), ['handmade', 'order']);
    assert.deepEqual(hits('has:attachment'), ['order']);
    assert.deepEqual(hits('has:inline'), ['cafe', 'handmade']);
    assert.deepEqual(hits('-has:attachments -has:inlines'), ['plain']);
  });

  it('compares dates inclusively', () => {
    assert.deepEqual(hits('after:2024-03-10'), ['order', 'plain']);
    assert.deepEqual(hits('before:2024-03-10'), ['cafe', 'handmade']);
    assert.deepEqual(hits('after:2024-03-10T12:00Z'), ['order', 'plain']); // at exactly T0
    assert.deepEqual(hits('before:2024-03-10T12:00Z'), ['cafe', 'handmade', 'order']);
    assert.deepEqual(hits('-after:2024-03-10T12:00Z'), ['cafe', 'handmade']);
    assert.deepEqual(hits('after:yesterday before:today'), ['handmade']);
    assert.deepEqual(hits('after:2024-03-08 before:2024-03-11'), ['handmade', 'order']);
  });

  it('reads dates in the time zone, which moves the boundary', () => {
    // handmade was received 9 March 12:00 UTC = 9 March 07:00 in New York; 10 March 00:00 at UTC+14.
    assert.deepEqual(hits('after:2024-03-09', 'UTC'), ['handmade', 'order', 'plain']);
    assert.deepEqual(hits('after:2024-03-10', 'Pacific/Kiritimati'), ['handmade', 'order', 'plain']);
    assert.deepEqual(hits('after:2024-03-10', 'UTC'), ['order', 'plain']);
    assert.deepEqual(hits('before:"2024-03-09 08:00"', 'America/New_York'), ['cafe', 'handmade']);
    assert.deepEqual(hits('before:"2024-03-09 08:00"', 'UTC'), ['cafe']);
  });

  it('compares sizes strictly', () => {
    assert.deepEqual(hits('larger:10kb'), ['cafe', 'order']); // handmade is exactly 10 KiB
    assert.deepEqual(hits('smaller:10kb'), ['plain']);
    assert.deepEqual(hits('larger:1.5m'), ['cafe']);
    assert.deepEqual(hits('-larger:1m'), ['handmade', 'order', 'plain']);
    assert.deepEqual(hits('smaller:512'), []);
    assert.deepEqual(hits('larger:huge'), []); // plain text "larger huge"
  });

  it('inverts negated clauses and ANDs them all', () => {
    assert.deepEqual(hits('-order'), ['cafe']);
    assert.deepEqual(hits('!"order 42"'), ['cafe', 'handmade', 'plain']);
    assert.deepEqual(hits('-from:ann'), ['cafe', 'handmade', 'plain']);
    assert.deepEqual(hits('example -is:read has:attachment'), ['order']);
    assert.deepEqual(hits('from:ann tag:ops'), []);
    assert.deepEqual(hits('spring -header:X-Campaign:sale'), ['handmade']);
  });

  it('gives the same answers after a stringify round trip', () => {
    const searches = [
      'order -is:read',
      '"order 42" has:attachment',
      'addressed:ann@example.com -tag:orders',
      'header:X-Campaign:spring larger:1k after:2024-03-01',
      '東京 -ecole',
    ];
    for (const s of searches) {
      const q = parseSearch(s, { timeZone: 'UTC', now: T0 });
      const again = parseSearch(stringifySearch(q), { timeZone: 'UTC', now: T0 });
      for (const [id, m] of Object.entries(corpus))
        assert.equal(matchesSearch(again, m), matchesSearch(q, m), `${s} ${id}`);
    }
  });
});

describe('matchesSearch agrees with a naive reading of the SQL semantics', () => {
  /** Reference: straight from the definitions, no indexes (what FTS5/tsquery and LIKE do). */
  function reference(term: SearchTerm, m: MatchTarget): boolean {
    const tokens = m.doc.words.split(' ').filter(Boolean);
    switch (term.kind) {
      case 'text':
        if (term.phrase) return ` ${tokens.join(' ')} `.includes(` ${term.words.join(' ')} `);
        return term.words.every((w) => tokens.some((t) => t.startsWith(w)));
      case 'field': {
        const d = m.doc;
        const cols =
          term.field === 'addressed'
            ? [d.from, d.to, d.cc, d.bcc, d.replyTo]
            : [
                {
                  from: d.from,
                  to: d.to,
                  cc: d.cc,
                  bcc: d.bcc,
                  'reply-to': d.replyTo,
                  subject: d.subject,
                  'message-id': d.messageId,
                }[term.field],
              ];
        return cols.some((c) => c.includes(term.value));
      }
      case 'header':
        return m.doc.headers
          .split('\n')
          .some((l) => l.startsWith(`${term.name}:`) && l.slice(term.name.length + 1).includes(term.value));
      case 'tag':
        return m.tags.some((t) => normalize(t) === normalize(term.name));
      case 'inbox':
        return (m.inbox ?? 'default') === term.name;
      case 'is':
        return term.state === 'tagged' ? m.tags.length > 0 : m.read === (term.state === 'read');
      case 'has':
        return (term.what === 'attachment' ? m.attachments : m.inline) > 0;
      case 'date':
        return term.op === 'after' ? m.receivedAt >= term.at : m.receivedAt <= term.at;
      case 'size':
        return term.op === 'larger' ? m.size > term.bytes : m.size < term.bytes;
    }
  }

  it('on every combination of a word list against the corpus', () => {
    const words = [
      'order',
      '"order"',
      'ord',
      'example',
      '"example com"',
      'com',
      'spring',
      '"spring break"',
      'news',
      'ann',
      '42',
      '東',
      'ecole',
      'from:ann',
      'to:example',
      'subject:di',
      'addressed:news',
      'message-id:example',
      'header:x-campaign:spr',
      'header:x-empty',
      'header:x-mailer:1.0',
      'tag:news',
      'tag:ops',
      'is:read',
      'is:tagged',
      'has:inline',
      'has:attachment',
      'after:2024-03-09',
      'before:2024-03-10T12:00Z',
      'larger:1k',
      'smaller:20k',
    ];
    let checked = 0;
    for (const a of words) {
      for (const b of words) {
        for (const neg of ['', '-']) {
          const q = parseSearch(`${a} ${neg}${b}`, { timeZone: 'UTC', now: T0 });
          for (const [id, m] of Object.entries(corpus)) {
            const expected = q.clauses.every((c) => reference(c.term, m) !== c.negate);
            assert.equal(matchesSearch(q, m), expected, `${a} ${neg}${b} on ${id}`);
            checked++;
          }
        }
      }
    }
    assert.equal(checked, words.length * words.length * 2 * 4);
  });
});

describe('matchesSearch details', () => {
  it('re-indexes a document whose words changed in place', () => {
    const doc: SearchDocument = { ...corpus.handmade!.doc };
    const m: MatchTarget = { ...corpus.handmade!, doc };
    const q = parseSearch('zebra');
    assert.equal(matchesSearch(q, m), false);
    doc.words = 'zebra crossing';
    assert.equal(matchesSearch(q, m), true);
    doc.headers = 'x-new: value';
    assert.equal(matchesSearch(parseSearch('header:x-new:val'), m), true);
  });

  it('handles an empty document', () => {
    const doc = searchDocument({
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
    });
    const m: MatchTarget = { doc, tags: [], read: false, attachments: 0, inline: 0, receivedAt: 0, size: 0 };
    assert.equal(matchesSearch(parseSearch('a'), m), false);
    assert.equal(matchesSearch(parseSearch('"a b"'), m), false);
    assert.equal(matchesSearch(parseSearch('header:x'), m), false);
    assert.equal(matchesSearch(parseSearch('-a -header:x -from:x'), m), true);
  });

  it('exports the header test for use as an SQL function', () => {
    const headers = 'x-campaign: spring sale\nx-flag:\nsubject: hello';
    assert.equal(headerMatches(headers, 'x-campaign', 'sale'), true);
    assert.equal(headerMatches(headers, 'x-flag', ''), true);
    assert.equal(headerMatches(headers, 'x-flag', 'x'), false);
    assert.equal(headerMatches(headers, 'subject', 'sale'), false);
    assert.equal(headerMatches('', 'x', ''), false);
  });

  it('evaluates many rules against one large message quickly', () => {
    const text = Array.from({ length: 30_000 }, (_, i) => `word${i % 5000} filler${i % 97}`).join(' ');
    const doc = searchDocument({
      from: { Name: 'A', Address: 'a@x.io' },
      to: [],
      cc: [],
      bcc: [],
      replyTo: [],
      subject: 's',
      messageId: '',
      headers: [['X-A', '1']],
      text,
      attachmentNames: [],
    });
    const m: MatchTarget = {
      doc,
      tags: ['t'],
      read: false,
      attachments: 0,
      inline: 0,
      receivedAt: 0,
      size: 1,
    };
    const rules = Array.from({ length: 200 }, (_, i) =>
      parseSearch(`word${i * 7} "filler${i % 97} word${i + 1}" -nomatch${i}`),
    );
    const started = performance.now();
    let matched = 0;
    for (const q of rules) if (matchesSearch(q, m)) matched++;
    const elapsed = performance.now() - started;
    assert.equal(matched, 200);
    assert.equal(matchesSearch(parseSearch('"filler1 word3"'), m), false);
    // Index built once, then each rule is a few binary searches (generous bound for slow CI).
    assert.ok(elapsed < 1000, `${elapsed} ms`);
  });
});
