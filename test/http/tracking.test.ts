// Open and click tracking through the HTTP API, against every storage backend: a message sent
// with Tracking gets the pixel and redirected links in its HTML; fetching them records
// message:opened and message:clicked on it, without credentials even when the API needs them;
// a forged or altered link is a 404 and records nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { createHttpApp } from '../../src/http/app.ts';
import { createAccessPolicy } from '../../src/http/middleware/access.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { backendSuite, json } from './helpers.ts';

const tracking = {
  baseUrl: 'https://mail.shop.example',
  secret: 'k'.repeat(48),
  opens: false,
  clicks: false,
};
const TOKEN = 't'.repeat(32);

for (const backend of BACKENDS) {
  describe(`tracking: ${backend.name}`, () => {
    const s = backendSuite(backend);

    /** The suite's app with tracking on and, when asked, an API that needs a token. */
    async function app(locked = false) {
      const access = locked
        ? await createAccessPolicy(loadConfig({ argv: ['--http-tokens', TOKEN], env: {} }))
        : s.t.deps.access;
      return createHttpApp({ ...s.t.deps, access, send: { ...s.t.deps.send, tracking } });
    }

    async function sendTracked(a: Awaited<ReturnType<typeof app>>, body: Record<string, unknown>) {
      const res = await a.request('/api/v1/send', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({
          From: { Email: 'app@shop.example' },
          To: [{ Email: 'ann@one.example' }],
          Subject: 'Your order',
          HTML: '<html><body><p><a href="https://shop.example/orders/42?ref=mail&amp;x=1">See your order</a></p></body></html>',
          Text: 'See your order: https://shop.example/orders/42',
          ...body,
        }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      const { ID } = await json<{ ID: string }>(res);
      const raw = Buffer.from((await s.storage.outbound.raw(ID)) ?? []).toString('utf8');
      return { id: ID, raw };
    }

    /** The tracking URLs in the quoted-printable or plain HTML part, as a reader's program sees them. */
    function urls(raw: string): { open: string | null; click: string | null } {
      const html = raw.replace(/=\r\n/g, '').replace(/=3D/g, '=');
      const open = /src="(https:\/\/mail\.shop\.example\/t\/o\/[^"]+)"/.exec(html)?.[1] ?? null;
      const click = /href="(https:\/\/mail\.shop\.example\/t\/c\/[^"]+)"/.exec(html)?.[1] ?? null;
      const decode = (u: string | null) => u?.replace(/&amp;/g, '&') ?? null;
      return { open: decode(open), click: decode(click) };
    }

    const path = (url: string) => {
      const u = new URL(url);
      return `${u.pathname}${u.search}`;
    };

    it('records opens and clicks on the message, with no credentials, and redirects to the link', async () => {
      const a = await app(true);
      const { id, raw } = await sendTracked(a, { Tracking: { Opens: true, Clicks: true } });
      const { open, click } = urls(raw);
      assert.ok(open && click, raw);
      // The text part is left as it was.
      assert.match(raw, /See your order: https:\/\/shop\.example\/orders\/42/);
      // The API itself still wants the token.
      assert.equal((await a.request('/api/v1/messages')).status, 401);

      const pixel = await a.request(path(open), { headers: { 'User-Agent': 'MailApp/1' } });
      assert.equal(pixel.status, 200);
      assert.equal(pixel.headers.get('Content-Type'), 'image/gif');
      assert.match(pixel.headers.get('Cache-Control') ?? '', /no-store/);
      assert.equal(
        Buffer.from(await pixel.arrayBuffer())
          .subarray(0, 6)
          .toString('latin1'),
        'GIF89a',
      );
      // Loaded again by the same program within the minute: still one open.
      await a.request(path(open), { headers: { 'User-Agent': 'MailApp/1' } });

      const redirect = await a.request(path(click), { headers: { 'User-Agent': 'MailApp/1' } });
      assert.equal(redirect.status, 302);
      assert.equal(redirect.headers.get('Location'), 'https://shop.example/orders/42?ref=mail&x=1');

      const events = (await s.storage.outbound.events(id)).filter((e) => e.type !== 'message:queued');
      assert.deepEqual(
        events.map((e) => e.type),
        ['message:opened', 'message:clicked'],
      );
      assert.equal(events[0]?.data.userAgent, 'MailApp/1');
      assert.equal(events[1]?.data.url, 'https://shop.example/orders/42?ref=mail&x=1');
    });

    it('answers 404 to a forged, altered or re-targeted link, and records nothing', async () => {
      const a = await app();
      const { id, raw } = await sendTracked(a, { Tracking: { Opens: true, Clicks: true } });
      const { open, click } = urls(raw);
      assert.ok(open && click);
      const clickUrl = new URL(click);
      const elsewhere = new URL(click);
      elsewhere.searchParams.set('u', 'https://evil.example/');
      const otherMessage = open.replace(`/t/o/${id}/`, '/t/o/AAAAAAAAAAAAAAAAAAAA/');
      for (const bad of [
        path(elsewhere.toString()),
        path(otherMessage),
        path(open.replace(/(.)\.gif$/, (_, c: string) => `${c === 'A' ? 'B' : 'A'}.gif`)),
        `${clickUrl.pathname}`,
        '/t/o/x/y.gif',
      ]) {
        const res = await a.request(bad);
        assert.equal(res.status, 404, bad);
        assert.equal(res.headers.get('Location'), null);
      }
      const events = (await s.storage.outbound.events(id)).filter((e) => e.type !== 'message:queued');
      assert.deepEqual(events, []);
    });

    it('tracks nothing unless asked, and refuses Tracking where it is not configured', async () => {
      const a = await app();
      const { raw } = await sendTracked(a, {});
      assert.deepEqual(urls(raw), { open: null, click: null });
      const off = await s.send('POST', '/api/v1/send', {
        From: { Email: 'app@shop.example' },
        To: [{ Email: 'ann@one.example' }],
        HTML: '<p>x</p>',
        Tracking: { Opens: true },
      });
      assert.equal(off.status, 400);
      assert.match((await json<{ detail: string }>(off)).detail, /Tracking is not configured/);
      // Without tracking configured, the paths are not there at all.
      assert.equal((await s.get('/t/o/x/AAAAAAAAAAAAAAAAAAAAAA.gif')).status, 404);
    });
  });
}
