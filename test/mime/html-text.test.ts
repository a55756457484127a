import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { htmlToText, snippet } from '../../src/mime/html-text.ts';
import { parseListUnsubscribe } from '../../src/mime/list-unsubscribe.ts';

describe('htmlToText', () => {
  it('drops markup, hidden elements and comments; blocks become lines; entities are decoded', () => {
    const html =
      '<html><head><title>T</title><style>p{color:red}</style></head><body><!-- hidden -->' +
      '<p>Hello &amp; <b>wörld</b>&#x1F600;</p>\n\n\n<div>  two   words </div>' +
      '<table><tr><td>a</td><td>b</td></tr></table><script>if (a<b) x()</script>end &bogus; &lt;&#65;</body></html>';
    assert.equal(htmlToText(html), 'Hello & wörld😀\n\ntwo words\n\na b\n\nend &bogus; <A');
  });

  it('an unterminated tag, comment or script ends the text instead of scanning again', () => {
    assert.equal(htmlToText('kept<script>lost'), 'kept');
    assert.equal(htmlToText('kept <!-- lost'), 'kept');
    assert.equal(htmlToText('kept <a href="lost'), 'kept');
  });

  it('collapses whitespace across internal chunk seams as if there were none', () => {
    const words = 'word  \n\n\n\n  '.repeat(50_000);
    const text = htmlToText(words);
    assert.equal(text, Array.from({ length: 50_000 }, () => 'word').join('\n\n'));
  });

  it('keeps linear time on pathological input (many unclosed tags, huge runs)', () => {
    const started = performance.now();
    htmlToText('<script'.repeat(200_000));
    htmlToText(`${'<p'.repeat(100_000)}>`);
    htmlToText(' '.repeat(5_000_000));
    assert.ok(performance.now() - started < 5000);
  });
});

describe('snippet', () => {
  it('prefers the text body and collapses whitespace', () => {
    assert.equal(snippet('  Hello\n\n  world\t!  ', '<p>ignored</p>'), 'Hello world !');
  });

  it('falls back to HTML reduced to text', () => {
    assert.equal(snippet('   ', '<p>From <i>HTML</i></p>'), 'From HTML');
  });

  it('cuts at 250 characters (code points, not UTF-16 units) with an ellipsis', () => {
    const s = snippet('😀'.repeat(300), '');
    assert.equal(Array.from(s).length, 253);
    assert.ok(s.startsWith('😀'.repeat(250)));
    assert.ok(s.endsWith('...'));
  });
});

describe('parseListUnsubscribe', () => {
  it('accepts mailto and https links with a one-click POST', () => {
    assert.deepEqual(
      parseListUnsubscribe(
        '<mailto:u@example.test>, <https://example.test/u?x=1>',
        'List-Unsubscribe=One-Click',
      ),
      {
        header: '<mailto:u@example.test>, <https://example.test/u?x=1>',
        links: ['mailto:u@example.test', 'https://example.test/u?x=1'],
        post: 'List-Unsubscribe=One-Click',
        errors: '',
      },
    );
  });

  it('reports a bad POST value and an unterminated bracket', () => {
    const r = parseListUnsubscribe('<https://example.test/u>, <mailto:x', 'unsubscribe=yes');
    assert.deepEqual(r.links, ['https://example.test/u']);
    assert.equal(r.errors, 'unterminated <; List-Unsubscribe-Post must be "List-Unsubscribe=One-Click"');
  });

  it('is empty when the headers are absent', () => {
    assert.deepEqual(parseListUnsubscribe(undefined, undefined), {
      header: '',
      links: [],
      post: '',
      errors: '',
    });
  });
});
