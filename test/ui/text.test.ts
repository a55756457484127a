// The web UI's pure text helpers: the HTML-source tokenizer (linear, lossless, never markup) and
// the display formatting that makes hostile names safe to show.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addressLabel,
  downloadName,
  formatSize,
  hasHazard,
  initials,
  safeSegments,
  safeText,
} from '../../ui/src/format.ts';
import { tokenizeHtml } from '../../ui/src/highlight.ts';

const join = (html: string) =>
  tokenizeHtml(html)
    .map((t) => t.v)
    .join('');

describe('tokenizeHtml', () => {
  it('classifies tags, attributes, values, comments, doctypes and entities', () => {
    const toks = tokenizeHtml('<!doctype html><a href="x" data-y=1 checked>Hi &amp; <!-- c --></a>');
    const kinds = toks.map((t) => `${t.k}:${t.v}`);
    assert.deepEqual(kinds, [
      'doc:<!doctype html>',
      'punct:<',
      'tag:a',
      'text: ',
      'attr:href',
      'punct:=',
      'val:"x"',
      'text: ',
      'attr:data-y',
      'punct:=',
      'val:1',
      'text: ',
      'attr:checked',
      'punct:>',
      'text:Hi ',
      'ent:&amp;',
      'text: ',
      'cmt:<!-- c -->',
      'punct:</',
      'tag:a',
      'punct:>',
    ]);
  });

  it('keeps script and style bodies as text up to their end tag', () => {
    const toks = tokenizeHtml('<script>if (a<b) x="</div>"</script><p>');
    assert.deepEqual(toks[3], { k: 'text', v: 'if (a<b) x="</div>"' });
    assert.equal(toks[5]?.v, 'script');
  });

  it('loses nothing, whatever the input', () => {
    const samples = [
      '<<<>>>',
      '<a href="unterminated',
      '<!-- never closed',
      '<div a=\'1\' b = "2" / >text',
      '< notatag> & &#x41; &bogus',
      '<scr<script>ipt>',
      '\u202e<b\u0000>',
      '',
    ];
    for (const s of samples) assert.equal(join(s), s, JSON.stringify(s));
  });

  it('is linear on a huge single line', () => {
    const big = '<td style="color:red">x</td>'.repeat(40_000) + '<'.repeat(100_000);
    // A quadratic tokenizer would run into the test's timeout here.
    assert.equal(join(big), big);
  });
});

describe('display formatting', () => {
  it('shows control and bidi characters as code points', () => {
    const segs = safeSegments('evil\u202Egnp.exe\u0000../../x');
    assert.deepEqual(segs, [
      { text: 'evil' },
      { code: 'U+202E' },
      { text: 'gnp.exe' },
      { code: 'U+0000' },
      { text: '../../x' },
    ]);
    assert.equal(safeText('a\u2066b'), 'a[U+2066]b');
    assert.equal(hasHazard('plain.pdf'), false);
    assert.equal(hasHazard('x\u200Fy'), true);
    assert.equal(safeText('a\nb\tc'), 'a b c');
    assert.equal(safeText('x'.repeat(10), 4), 'xxxx…');
  });

  it('makes download names harmless', () => {
    assert.equal(downloadName('../../etc/passwd', 'f'), 'passwd');
    assert.equal(downloadName('..\\..\\win.ini', 'f'), 'win.ini');
    assert.equal(downloadName('evil\u202Egnp.exe', 'f'), 'evilgnp.exe');
    assert.equal(downloadName('\u0000', 'part-1.2'), 'part-1.2');
    assert.equal(downloadName('.htaccess', 'f'), 'htaccess');
    assert.equal(downloadName('a<b>:c?.txt', 'f'), 'a_b__c_.txt');
  });

  it('formats sizes and people', () => {
    assert.equal(formatSize(532), '532 B');
    assert.equal(formatSize(12_400), '12.4 kB');
    assert.equal(formatSize(10_485_760), '10.5 MB');
    assert.equal(addressLabel({ Name: ' ', Address: 'a@b.c' }), 'a@b.c');
    assert.equal(addressLabel(null), '');
    assert.equal(initials({ Name: 'Ann Smith', Address: 'ann@x' }), 'AS');
    assert.equal(initials({ Name: '', Address: 'bob@example.com' }), 'BE');
    assert.equal(initials(null), '?');
  });
});
