// The message view's preparation: what CSP cannot stop is removed in the UI's embed mode, cid:
// images are inlined, remote resources are counted, and the CSP matches the reader's choice.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentSecurityPolicy, renderView } from '../../src/http/routes/view/render.ts';

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
const HTML = [
  '<html><head><meta http-equiv="Refresh" content="0; url=http://127.0.0.1:9/canary">',
  '<base href="http://127.0.0.1:9/">',
  '<link rel="prefetch" href="http://127.0.0.1:9/prefetch">',
  '<link rel=stylesheet href="https://fonts.example/css">',
  '</head><body><img src="cid:logo@x"><img src="https://tracker.example/p.gif">',
  '<div style="background:url(\'//cdn.example/bg.png\')">x</div>',
  '<a href="https://example.com/">a link is not a resource</a></body></html>',
].join('');

describe('message view rendering', () => {
  it('embeds: removes meta refresh, base and preload links, opens links in a new tab', () => {
    const v = renderView(HTML, [{ contentId: 'logo@x', contentType: 'image/png', content: PNG }], {
      allowRemote: false,
      embed: true,
    });
    assert.doesNotMatch(v.html, /refresh/i);
    assert.doesNotMatch(v.html, /<base href/i);
    assert.doesNotMatch(v.html, /prefetch/);
    assert.match(v.html, /^<!DOCTYPE html><meta charset="utf-8"><base target="_blank">/);
    assert.match(v.html, /<img src="data:image\/png;base64,iVBORw==">/);
    assert.equal(v.remoteResources, 3);
  });

  it('serves the HTML as sent without embed, cid: images aside', () => {
    const v = renderView(HTML, [], { allowRemote: false, embed: false });
    assert.equal(v.html, HTML);
  });

  it('never inlines a non-image type as an image', () => {
    const v = renderView('<img src="cid:a">', [{ contentId: 'a', contentType: 'text/html', content: PNG }], {
      allowRemote: false,
      embed: true,
    });
    assert.match(v.html, /data:application\/octet-stream;base64,/);
  });

  it('blocks scripts, frames, forms and remote loads unless allowed', () => {
    const strict = contentSecurityPolicy(false);
    for (const directive of [
      "default-src 'none'",
      "form-action 'none'",
      "base-uri 'none'",
      'sandbox allow-popups',
    ]) {
      assert.ok(strict.includes(directive), directive);
    }
    assert.doesNotMatch(strict, /https:|allow-scripts|allow-same-origin|script-src/);
    assert.match(contentSecurityPolicy(true), /img-src data: https: http:/);
  });
});
