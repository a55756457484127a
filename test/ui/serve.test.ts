// Serving the built web UI: index.html for the UI's paths with a strict CSP and no-cache,
// hashed assets cached for good, nothing outside dist/ui reachable, a 503 when it is not built.
// Needs `npm run build` first (npm test runs it as pretest).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { UI_CSP, uiRoutes } from '../../src/http/routes/ui/routes.ts';

const DIST = fileURLToPath(new URL('../../dist/ui/', import.meta.url));

describe('web UI serving', () => {
  const app = uiRoutes({});
  let html = '';

  before(async () => {
    assert.ok(existsSync(join(DIST, 'index.html')), 'dist/ui is missing: run `npm run build` first');
    const res = await app.request('/');
    html = await res.text();
  });

  it('answers / with index.html, a strict CSP and no-cache', async () => {
    const res = await app.request('/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('Content-Type') ?? '', /^text\/html/);
    assert.equal(res.headers.get('Cache-Control'), 'no-cache');
    const csp = res.headers.get('Content-Security-Policy') ?? '';
    assert.equal(csp, UI_CSP);
    for (const directive of [
      "script-src 'self'",
      "style-src 'self'",
      "frame-ancestors 'none'",
      "frame-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
    ]) {
      assert.ok(csp.includes(directive), `CSP lacks ${directive}: ${csp}`);
    }
    assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'), csp);
    assert.ok(!/https?:/.test(csp), 'the CSP names no remote origin');
    assert.match(html, /<div id="app"><\/div>/);
  });

  it('revalidates index.html with an ETag', async () => {
    const first = await app.request('/');
    const etag = first.headers.get('ETag');
    assert.ok(etag);
    const again = await app.request('/', { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), '');
  });

  it('has no inline script or style in index.html (the CSP would block them)', () => {
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) assert.match(tag, /\bsrc="\//, tag);
    assert.doesNotMatch(html, /<script\b[^>]*>[^<]+<\/script>/);
    assert.doesNotMatch(html, /<style\b/);
    assert.doesNotMatch(html, /\sstyle="/);
    assert.doesNotMatch(html, /https?:\/\//, 'no external resources');
  });

  it('answers the client-side message paths with index.html', async () => {
    for (const path of ['/m/abc123', '/m/abc123/', '/m/abc123?q=from%3Aann']) {
      const res = await app.request(path);
      assert.equal(res.status, 200, path);
      assert.equal(await res.text(), html, path);
      assert.equal(res.headers.get('Content-Security-Policy'), UI_CSP, path);
    }
  });

  it('serves hashed assets with their type and an immutable cache', async () => {
    const refs = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
    assert.ok(refs.some((r) => r.endsWith('.js')) && refs.some((r) => r.endsWith('.css')), String(refs));
    for (const ref of refs) {
      const res = await app.request(ref);
      assert.equal(res.status, 200, ref);
      assert.equal(res.headers.get('Cache-Control'), 'public, max-age=31536000, immutable');
      assert.equal(res.headers.get('X-Content-Type-Options'), 'nosniff');
      const type = res.headers.get('Content-Type') ?? '';
      if (ref.endsWith('.js')) assert.equal(type, 'text/javascript; charset=utf-8');
      else if (ref.endsWith('.css')) assert.equal(type, 'text/css; charset=utf-8');
      assert.ok((await res.arrayBuffer()).byteLength > 0);
    }
  });

  it('serves the public files revalidated, and HEAD works', async () => {
    const icon = await app.request('/favicon.svg');
    assert.equal(icon.status, 200);
    assert.equal(icon.headers.get('Content-Type'), 'image/svg+xml');
    assert.equal(icon.headers.get('Cache-Control'), 'no-cache');
    const init = await app.request('/theme-init.js', { method: 'HEAD' });
    assert.equal(init.status, 200);
    assert.equal(init.headers.get('Content-Type'), 'text/javascript; charset=utf-8');
  });

  it('reaches nothing outside dist/ui and claims no server paths', async () => {
    for (const path of [
      '/assets/..%2F..%2Fpackage.json',
      '/assets/%2e%2e%2fpackage.json',
      '/assets/.hidden.js',
      '/assets/nope-123.js',
      '/..%2Fpackage.json',
      '/package.json',
      '/index.html.map',
      '/view/abc.html',
      '/api/v1/messages',
      '/m/a/b',
    ]) {
      const res = await app.request(path);
      assert.equal(res.status, 404, path);
    }
  });

  describe('when dist/ui is missing', () => {
    let empty = '';
    before(async () => {
      empty = await mkdtemp(join(tmpdir(), 'mailroom-ui-'));
    });
    after(async () => {
      await rm(empty, { recursive: true, force: true });
    });

    it('answers / with a 503 problem saying to build', async () => {
      const res = await uiRoutes({ distDir: empty }).request('/');
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('Content-Type'), 'application/problem+json');
      const problem = (await res.json()) as { status: number; detail: string };
      assert.equal(problem.status, 503);
      assert.match(problem.detail, /npm run build/);
    });
  });
});
