// The message check endpoints over the HTTP API, on every storage backend: extract, html-check,
// link-check (against a loopback server, allowed only where the test says so) and
// list-unsubscribe, each answer parsed through the shapes the OpenAPI document is built from.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import {
  extractResult,
  htmlCheckResult,
  linkCheckResult,
  listUnsubscribeResult,
} from '../../src/http/routes/message/checks-schema.ts';
import { NEWSLETTER, rawMessage, TWO_FACTOR_TABLE } from '../checks/fixtures.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { createFakeDns } from '../helpers/fake-dns.ts';
import { backendSuite, json, makeApp, store, type TestApp } from './helpers.ts';

type Problem = { type: string; status: number; detail: string };

/** A loopback server that answers /ok with 200, /gone with 404 and /moved with a 301 to /ok. */
async function target() {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    if (req.url === '/ok') res.writeHead(200);
    else if (req.url === '/moved') res.writeHead(301, { Location: '/ok' });
    else res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    paths,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

function linksMessage(base: string): Uint8Array {
  return rawMessage({
    subject: 'Links',
    text: `Status page: ${base}/ok`,
    html: `<p><a href="${base}/ok">OK</a> <a href="${base}/gone">Gone</a> <a href="${base}/moved">Moved</a>
      <a href="mailto:help@acme.example">Mail us</a></p>`,
  });
}

for (const backend of BACKENDS) {
  describe(`message checks API: ${backend.name}`, () => {
    const s = backendSuite(backend);
    let server: Awaited<ReturnType<typeof target>>;
    // An app whose address policy allows loopback (--webhook-allow 127.0.0.1).
    let allowed: TestApp;

    before(async () => {
      server = await target();
      const config = loadConfig({
        argv: ['--webhook-allow', '127.0.0.1', '--link-check-timeout', '2s'],
        env: {},
      });
      allowed = await makeApp(
        s.storage,
        s.parser,
        { dataDir: '', databaseUrl: '' },
        {
          config,
          linkResolver: { resolve4: async () => [], resolve6: async () => [] },
        },
      );
    });
    after(async () => {
      await server.close();
    });

    it('extract: the code of a 2FA message, and its links', async () => {
      const id = await store(s.storage, s.parser, rawMessage(TWO_FACTOR_TABLE));
      const res = await s.get(`/api/v1/message/${id}/extract`);
      assert.equal(res.status, 200);
      const body = extractResult.parse(await res.json());
      assert.equal(body.Codes[0]?.Code, '482913');
      assert.deepEqual(
        body.Links.map((l) => l.URL),
        ['mailto:help@acme.example'],
      );
      const latest = extractResult.parse(await (await s.get('/api/v1/message/latest/extract')).json());
      assert.equal(latest.Codes[0]?.Code, '482913', '`latest` names the newest message');
    });

    it('extract works on a message the parser has not reached yet', async () => {
      const id = await store(s.storage, s.parser, rawMessage(TWO_FACTOR_TABLE), { parse: false });
      const body = extractResult.parse(await (await s.get(`/api/v1/message/${id}/extract`)).json());
      assert.equal(body.Codes[0]?.Code, '482913');
    });

    it('html-check: the Mailpit shape with families; a message without HTML is a 400 problem', async () => {
      const id = await store(s.storage, s.parser, rawMessage(TWO_FACTOR_TABLE));
      const res = await s.get(`/api/v1/message/${id}/html-check`);
      assert.equal(res.status, 200);
      const body = htmlCheckResult.parse(await res.json());
      assert.ok(body.Total.Nodes > 0);
      assert.ok(body.Families.some((f) => f.Family === 'outlook'));
      const textOnly = await store(s.storage, s.parser, rawMessage({ subject: 'plain', text: 'hello' }));
      const bad = await s.get(`/api/v1/message/${textOnly}/html-check`);
      assert.equal(bad.status, 400);
      assert.match(bad.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.match((await json<Problem>(bad)).detail, /no HTML part/);
    });

    it('link-check: statuses from the allowed loopback server, redirects followed on request', async () => {
      server.paths.length = 0;
      const id = await store(s.storage, s.parser, linksMessage(server.base));
      const plain = linkCheckResult.parse(
        await (await allowed.app.request(`/api/v1/message/${id}/link-check`)).json(),
      );
      assert.deepEqual(
        plain.Links.map((l) => [l.URL.replace(server.base, ''), l.StatusCode]),
        [
          ['/ok', 200],
          ['/gone', 404],
          ['/moved', 301],
        ],
        'http(s) links only, each once',
      );
      assert.equal(plain.Errors, 1);
      const followed = linkCheckResult.parse(
        await (await allowed.app.request(`/api/v1/message/${id}/link-check?follow=true`)).json(),
      );
      const moved = followed.Links.find((l) => l.URL.endsWith('/moved'));
      assert.deepEqual([moved?.StatusCode, moved?.Redirects.length], [200, 1]);
    });

    it('link-check: internal links are blocked when not allowed, and nothing reaches them', async () => {
      server.paths.length = 0;
      const id = await store(s.storage, s.parser, linksMessage(server.base));
      const res = await s.get(`/api/v1/message/${id}/link-check`);
      assert.equal(res.status, 200);
      const body = linkCheckResult.parse(await res.json());
      assert.equal(body.Links.length, 3);
      assert.ok(body.Links.every((l) => l.Blocked && l.StatusCode === 0 && /loopback/.test(l.Status)));
      assert.equal(body.Errors, 3);
      assert.deepEqual(server.paths, [], 'the server saw no request');
    });

    it('link-check: a name resolved by the injected resolver to a metadata address is blocked', async () => {
      const dns = createFakeDns({ 'metadata.test': { A: ['169.254.169.254'] } });
      const app = await makeApp(
        s.storage,
        s.parser,
        { dataDir: '', databaseUrl: '' },
        {
          linkResolver: {
            resolve4: async (h) => (await dns.resolve(h, 'A')) as string[],
            resolve6: async (h) => (await dns.resolve(h, 'AAAA')) as string[],
          },
        },
      );
      const id = await store(
        s.storage,
        s.parser,
        rawMessage({ subject: 'meta', html: '<a href="http://metadata.test/latest/meta-data/">x</a>' }),
      );
      const body = linkCheckResult.parse(
        await (await app.app.request(`/api/v1/message/${id}/link-check`)).json(),
      );
      assert.equal(body.Links[0]?.Blocked, true);
      assert.match(body.Links[0]?.Status ?? '', /169\.254\.169\.254 is link-local/);
      assert.deepEqual(dns.queries[0], { name: 'metadata.test', rrtype: 'A' });
    });

    it('link-check: a bad follow value is a 400 problem', async () => {
      const id = await store(s.storage, s.parser, rawMessage({ subject: 'x', text: 'x' }));
      const res = await s.get(`/api/v1/message/${id}/link-check?follow=maybe`);
      assert.equal(res.status, 400);
      assert.match((await json<Problem>(res)).detail, /follow/);
    });

    it('list-unsubscribe: a newsletter with one-click, and a message without the fields', async () => {
      const id = await store(s.storage, s.parser, rawMessage(NEWSLETTER));
      const body = listUnsubscribeResult.parse(
        await (await s.get(`/api/v1/message/${id}/list-unsubscribe`)).json(),
      );
      assert.deepEqual([body.Present, body.OneClick, body.Errors], [true, true, []]);
      const plain = await store(s.storage, s.parser, rawMessage({ subject: 'x', text: 'x' }));
      const none = listUnsubscribeResult.parse(
        await (await s.get(`/api/v1/message/${plain}/list-unsubscribe`)).json(),
      );
      assert.equal(none.Present, false);
    });

    it('every check answers 404 with a problem for a message that does not exist', async () => {
      for (const check of ['extract', 'html-check', 'link-check', 'list-unsubscribe']) {
        const res = await s.get(`/api/v1/message/AAAAAAAAAAAAAAAAAAAAAA/${check}`);
        assert.equal(res.status, 404, check);
        assert.equal((await json<Problem>(res)).type, 'urn:mailroom:problem:message-not-found');
      }
    });

    it('the checks are in the OpenAPI document', async () => {
      const doc = await json<{ paths: Record<string, unknown> }>(await s.get('/api/v1/openapi.json'));
      for (const check of ['extract', 'html-check', 'link-check', 'list-unsubscribe'])
        assert.ok(doc.paths[`/api/v1/message/{ID}/${check}`], check);
    });
  });
}
