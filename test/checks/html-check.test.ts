// The HTML check against caniemail's tables: what is detected, how it is scored, and the shape
// Mailpit's clients read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareVersions, FEATURES, plainText } from '../../src/checks/caniemail-data.ts';
import { checkHtml } from '../../src/checks/html-check.ts';
import { detectFeatures } from '../../src/checks/html-features.ts';
import { htmlCheckResult } from '../../src/http/routes/message/checks-schema.ts';

const MODERN = `<!DOCTYPE html><html lang="en"><head>
<meta name="color-scheme" content="light dark">
<style>
  /* layout */
  .row { display: flex; gap: 12px; border-radius: 8px }
  .row > .cell:hover { background: linear-gradient(#fff, #eee) }
  @media (prefers-color-scheme: dark) { .row { color: #fff } }
  @font-face { font-family: Brand; src: url(brand.woff2) }
</style></head>
<body>
<div class="row" style="margin: 0 auto; width: calc(100% - 2rem); --accent: #3e63dd">
  <div class="cell"><svg width="10" height="10"></svg></div>
  <div class="cell"><img src="https://cdn.example/hero.webp" alt=""></div>
</div>
<!-- tracking: v2 -->
<script>track()</script>
</body></html>`;

const count = (html: string, slug: string) => detectFeatures(html).counts.get(slug) ?? 0;

describe('html check: detection', () => {
  it('finds elements, attributes, CSS in <style> and style="", at-rules, selectors and images', () => {
    const { counts, nodes } = detectFeatures(MODERN);
    for (const slug of [
      'html-doctype',
      'html-lang',
      'html-meta-color-scheme',
      'html-style',
      'html-svg',
      'html-comments',
      'html-script',
      'css-display-flex',
      'css-gap',
      'css-border-radius',
      'css-selector-child',
      'css-selector-class',
      'css-pseudo-class-hover',
      'css-linear-gradient',
      'css-at-media',
      'css-at-media-prefers-color-scheme',
      'css-at-font-face',
      'css-comments',
      'css-margin',
      'css-width',
      'css-unit-calc',
      'css-unit-rem',
      'css-unit-percent',
      'css-variables',
      'image-webp',
    ])
      assert.ok(counts.has(slug), `${slug} is detected`);
    assert.equal(counts.get('html-div'), 3, 'each use is counted');
    assert.ok(!counts.has('css-display-grid') && !counts.has('html-video'), 'nothing unused is reported');
    // body, three divs, svg and img are laid out; html, head, meta, style and script are not.
    assert.equal(nodes, 6);
  });

  it('tells apart what looks alike', () => {
    assert.equal(count('<div style="display:inline-flex">x</div>', 'css-display-flex'), 1);
    assert.equal(count('<div style="display:block">x</div>', 'css-display-flex'), 0);
    assert.equal(count('<div style="width: minmax(1px, 2px)">x</div>', 'css-function-min'), 0);
    assert.equal(count('<div style="width: min(1px, 2px)">x</div>', 'css-function-min'), 1);
    assert.equal(count('<div style="background:url(a-10px.png)">x</div>', 'css-unit-px'), 0);
    assert.equal(count('<a href="#top">t</a><a href="mailto:a@b.example">m</a>', 'html-anchor-links'), 1);
    assert.equal(count('<a href="mailto:a@b.example">m</a>', 'html-mailto-links'), 1);
    assert.equal(count('<input name="q"><input type="checkbox">', 'html-input-text'), 1);
    assert.equal(count('<img src="data:image/png;base64,iVBORw0KGgo=">', 'image-base64'), 1);
    assert.equal(count('<img src="data:image/png;base64,iVBORw0KGgo=">', 'image-png'), 1);
    assert.equal(count('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN">', 'html-doctype'), 0);
    assert.equal(count('<script type="application/ld+json">{}</script>', 'html-script'), 0);
    assert.equal(count('<style>.a { & .b { color: red } }</style>', 'css-nesting'), 1);
    assert.equal(count('<style>a.b, #c[d] ~ p::before {}</style>', 'css-selector-chaining'), 2);
    assert.equal(count('<style>.a .b, p {}</style>', 'css-selector-chaining'), 0);
    assert.equal(count('<style>.a { .b { color: red } }</style>', 'css-nesting'), 1);
    assert.equal(count('<style>a.b, #c[d] ~ p::before {}</style>', 'css-pseudo-element-before'), 1);
  });

  it('survives CSS and HTML that do not parse', () => {
    const { counts } = detectFeatures(
      '<div style="color:: ;; {{ }"><style>@media {{{ .x { color: red </style><p',
    );
    assert.ok(counts.has('html-div'));
  });
});

describe('html check: result', () => {
  it("has Mailpit's shape and Mailroom's additions", () => {
    const result = checkHtml(MODERN);
    htmlCheckResult.parse(result);
    assert.equal(result.Truncated, false);
    assert.ok(result.Platforms.windows?.includes('Outlook'));
    const sum = result.Total.Supported + result.Total.Partial + result.Total.Unsupported;
    assert.ok(Math.abs(sum - 100) < 0.05, `percentages add up (${sum})`);
  });

  it('lists only features some client lacks, worst first, with every client and the caniemail page', () => {
    const result = checkHtml(MODERN);
    const slugs = result.Warnings.map((w) => w.Slug);
    assert.equal(slugs[0], 'html-script', 'nothing runs scripts');
    const flex = result.Warnings.find((w) => w.Slug === 'css-display-flex');
    assert.ok(flex);
    assert.equal(flex.URL, FEATURES.get('css-display-flex')?.url);
    assert.equal(flex.Score.Found, 1);
    const outlook = flex.Results.find((r) => r.Family === 'outlook' && r.Platform === 'windows');
    assert.equal(outlook?.Support, 'no', 'Outlook for Windows has no flexbox');
    const impacts = result.Warnings.map((w) => w.Score.Unsupported + w.Score.Partial / 2);
    assert.deepEqual(
      impacts,
      [...impacts].sort((a, b) => b - a),
    );
    // A feature every client supports is not a warning.
    const everywhere = [...FEATURES.values()].filter(
      (f) => f.clients.length > 10 && f.clients.every((c) => c.support === 'yes'),
    );
    assert.ok(everywhere.length > 0);
    for (const f of everywhere) assert.ok(!slugs.includes(f.slug), `${f.slug} is supported everywhere`);
  });

  it('scores families: Apple Mail renders this better than Outlook, and unknown families are left out', () => {
    const { Families } = checkHtml(MODERN);
    const apple = Families.find((f) => f.Family === 'apple-mail');
    const outlook = Families.find((f) => f.Family === 'outlook');
    assert.ok(apple && outlook);
    assert.ok(apple.Score > outlook.Score, `${apple.Score} > ${outlook.Score}`);
    assert.ok(outlook.UnsupportedFeatures > 0);
    assert.deepEqual(outlook.Clients.sort(), [
      'Android',
      'Outlook.com',
      'Windows',
      'Windows Mail',
      'iOS',
      'macOS',
    ]);
    assert.ok(Families.every((f) => f.Coverage >= 50));
    assert.ok(!Families.some((f) => f.Family === 'rainloop'), 'caniemail tested RainLoop for one feature');
  });

  it('a plain table layout scores near 100 in the clients most people use', () => {
    const { Families, Warnings } = checkHtml(
      '<table width="600" cellpadding="0"><tr><td style="color:#333333;font-family:Arial">Hello</td></tr></table>',
    );
    const major = Families.filter((f) => ['gmail', 'apple-mail', 'outlook', 'yahoo'].includes(f.Family));
    assert.equal(major.length, 4);
    assert.ok(
      major.every((f) => f.Score >= 90),
      JSON.stringify(major.map((f) => [f.Name, f.Score])),
    );
    assert.ok(!Warnings.some((w) => w.Slug === 'html-script'));
  });

  it('checks the first part of an enormous body and says so', () => {
    const html = `<div style="display:flex">${'<p>x</p>'.repeat(300_000)}</div>`;
    const result = checkHtml(html);
    assert.equal(result.Truncated, true);
    assert.ok(result.Warnings.some((w) => w.Slug === 'css-display-flex'));
  });
});

describe('html check: caniemail data', () => {
  it('reads support at the latest version tested', () => {
    assert.ok(compareVersions('2019', '2007') > 0);
    assert.ok(compareVersions('10.0', '9.1') > 0);
    assert.ok(compareVersions('2024-05', '2024') > 0);
    assert.ok(compareVersions('2026-03', '2020-11') > 0);
    const flex = FEATURES.get('css-display-flex');
    const gmailIos = flex?.clients.find((c) => c.family === 'gmail' && c.platform === 'ios');
    assert.ok(gmailIos && !['2019-02'].includes(gmailIos.version), `latest: ${gmailIos?.version}`);
  });

  it('turns Markdown into plain text', () => {
    assert.equal(
      plainText('See [buttons.cm](https://buttons.cm/) and `RoundRect`.'),
      'See buttons.cm and RoundRect.',
    );
    for (const f of FEATURES.values()) {
      for (const note of Object.values(f.notesByNumber))
        assert.ok(!/\]\(|`/.test(note), `${f.slug}: ${note}`);
    }
  });
});
