// Open and click tracking's rewriting and signatures (outbound/tracking.ts), and its settings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/load.ts';
import {
  addOpenPixel,
  clickUrl,
  MAX_TRACKED_LINKS,
  openUrl,
  trackHtml,
  trackingFromConfig,
  trackLinks,
  verifyClick,
  verifyOpen,
} from '../../src/outbound/tracking.ts';

const settings = { baseUrl: 'https://mail.shop.example', secret: 's'.repeat(40) };
const wrap = (url: string) => `T(${url})`;

describe('tracking: rewriting the HTML', () => {
  it('sends web links through the redirect, whatever the quoting, and leaves the rest as written', () => {
    const html = [
      '<p><a href="https://shop.example/a?x=1&amp;y=2" class="btn">Buy</a>',
      "<A HREF='http://shop.example/b'>b</A>",
      '<a title="x > y, href=https://evil.example/" href=https://shop.example/c>c</a>',
      '<a href="mailto:help@shop.example">mail</a> <a href="#top">top</a> <a href="tel:+100">call</a>',
      '<a name="anchor">no link</a> <abbr title="https://shop.example/d">abbr</abbr>',
      '<a data-mailroom-track="off" href="https://shop.example/unsubscribe">unsubscribe</a></p>',
    ].join('\n');
    const { html: out, links } = trackLinks(html, wrap);
    assert.equal(links, 3);
    assert.equal(
      out,
      [
        // The entity is read as `&`, and written back encoded.
        '<p><a href="T(https://shop.example/a?x=1&amp;y=2)" class="btn">Buy</a>',
        '<A HREF="T(http://shop.example/b)">b</A>',
        // An href inside another attribute's value is not one.
        '<a title="x > y, href=https://evil.example/" href="T(https://shop.example/c)">c</a>',
        '<a href="mailto:help@shop.example">mail</a> <a href="#top">top</a> <a href="tel:+100">call</a>',
        '<a name="anchor">no link</a> <abbr title="https://shop.example/d">abbr</abbr>',
        '<a data-mailroom-track="off" href="https://shop.example/unsubscribe">unsubscribe</a></p>',
      ].join('\n'),
    );
    // What the redirect gets is the URL as the reader's program would have followed it.
    const seen: string[] = [];
    trackLinks('<a href="https://shop.example/a?x=1&amp;y=2&#x26;z=3">a</a>', (u) => {
      seen.push(u);
      return u;
    });
    assert.deepEqual(seen, ['https://shop.example/a?x=1&y=2&z=3']);
  });

  it('stops at an unterminated tag and at the link limit, leaving the rest direct', () => {
    assert.equal(trackLinks('<a href="https://x.example/">ok</a><a href="https://y.example/', wrap).links, 1);
    const many = '<a href="https://x.example/">x</a>'.repeat(MAX_TRACKED_LINKS + 3);
    const { html, links } = trackLinks(many, wrap);
    assert.equal(links, MAX_TRACKED_LINKS);
    assert.equal(html.split('href="https://x.example/"').length - 1, 3);
  });

  it('puts the open pixel last in the body, or at the end of a fragment', () => {
    assert.match(
      addOpenPixel('<html><body><p>hi</p></BODY></html>', 'https://t.example/o.gif'),
      /<p>hi<\/p><img src="https:\/\/t\.example\/o\.gif" width="1" height="1" alt=""[^>]*\/><\/BODY><\/html>$/,
    );
    assert.match(addOpenPixel('<p>hi</p>', 'https://t.example/o.gif'), /^<p>hi<\/p><img /);
  });

  it('does only what the message asks', () => {
    const html = '<a href="https://shop.example/">x</a>';
    assert.equal(trackHtml(html, 'm1', settings, { opens: false, clicks: false }), html);
    const clicks = trackHtml(html, 'm1', settings, { opens: false, clicks: true });
    assert.ok(clicks.includes('https://mail.shop.example/t/c/m1/') && !clicks.includes('<img'));
    const opens = trackHtml(html, 'm1', settings, { opens: true, clicks: false });
    assert.ok(opens.startsWith(html) && opens.includes(openUrl(settings, 'm1')));
  });
});

describe('tracking: signatures', () => {
  it('verifies what it signed and nothing else', () => {
    const open = new URL(openUrl(settings, 'msg-1'));
    const [, , , id, file] = open.pathname.split('/');
    const sig = file!.replace(/\.gif$/, '');
    assert.equal(id, 'msg-1');
    assert.ok(verifyOpen(settings.secret, 'msg-1', sig));
    assert.ok(!verifyOpen(settings.secret, 'msg-2', sig));
    assert.ok(!verifyOpen('another secret of forty characters......', 'msg-1', sig));

    const click = new URL(clickUrl(settings, 'msg-1', 'https://shop.example/a?b=c'));
    const clickSig = click.pathname.split('/')[4]!;
    assert.equal(click.searchParams.get('u'), 'https://shop.example/a?b=c');
    assert.ok(verifyClick(settings.secret, 'msg-1', 'https://shop.example/a?b=c', clickSig));
    // The signature covers the target: the same link cannot send anyone elsewhere.
    assert.ok(!verifyClick(settings.secret, 'msg-1', 'https://evil.example/', clickSig));
    assert.ok(
      !verifyClick(settings.secret, 'msg-1', 'https://shop.example/a?b=c', `${clickSig.slice(0, -1)}A`),
    );
    assert.ok(!verifyClick(settings.secret, 'msg-1', 'https://shop.example/a?b=c', 'short'));
  });
});

describe('tracking: settings', () => {
  const base = { trackingUrl: '', trackingSecret: '', trackOpens: false, trackClicks: false };

  it('is off without a URL, and refuses defaults that would need one', () => {
    assert.equal(trackingFromConfig(base), null);
    assert.throws(() => trackingFromConfig({ ...base, trackOpens: true }), ConfigError);
  });

  it('needs a long key and a plain http(s) base URL', () => {
    const url = 'https://mail.shop.example/mailroom/';
    assert.throws(
      () => trackingFromConfig({ ...base, trackingUrl: url, trackingSecret: 'short' }),
      /at least 32/,
    );
    for (const bad of ['ftp://x.example', 'https://x.example/?a=1', 'https://u:p@x.example', 'not a url']) {
      assert.throws(
        () => trackingFromConfig({ ...base, trackingUrl: bad, trackingSecret: settings.secret }),
        ConfigError,
      );
    }
    assert.deepEqual(
      trackingFromConfig({ ...base, trackingUrl: url, trackingSecret: settings.secret, trackClicks: true }),
      {
        baseUrl: 'https://mail.shop.example/mailroom',
        secret: settings.secret,
        opens: false,
        clicks: true,
      },
    );
  });
});
