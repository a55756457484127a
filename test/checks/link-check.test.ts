// The link check against a real HTTP server on loopback, which the address policy lets through
// only where a test allows it: statuses, HEAD then GET, redirect chains, timeouts, the
// concurrency cap, and refusals that must happen before any connection. DNS is a fake zone,
// injected as the resolver.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { checkLink, checkLinks, type LinkCheckOptions } from '../../src/checks/link-check.ts';
import { createAddressPolicy } from '../../src/net/address-policy.ts';
import type { AddressResolver } from '../../src/net/safe-lookup.ts';
import { createFakeDns, type FakeDns } from '../helpers/fake-dns.ts';

interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

/** A loopback server with one behaviour per path; it records every request it gets. */
async function linkServer() {
  const seen: Seen[] = [];
  const held: http.ServerResponse[] = [];
  const gated: http.ServerResponse[] = [];
  let gate: { size: number; total: number; inflight: number; max: number; served: number } | null = null;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({ method: req.method ?? '', path: url.pathname, headers: req.headers });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const redirect = (status: number, to: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, { Location: to, ...extra });
      res.end();
    };
    switch (url.pathname) {
      case '/ok':
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return res.end('fine');
      case '/missing':
        res.writeHead(404);
        return res.end('gone');
      case '/no-head':
        res.writeHead(req.method === 'HEAD' ? 405 : 200);
        return res.end();
      case '/r1':
        return redirect(301, '/r2');
      case '/r2':
        return redirect(302, `${base}/ok`);
      case '/loop':
        return redirect(302, '/loop');
      case '/to-metadata':
        return redirect(302, 'http://169.254.169.254/latest/meta-data/');
      case '/to-internal-name':
        return redirect(307, `http://internal.test:${(server.address() as AddressInfo).port}/ok`);
      case '/to-smtp':
        return redirect(302, 'http://127.0.0.1:25/');
      case '/to-ftp':
        return redirect(302, 'ftp://files.example/x');
      case '/set-cookie':
        return redirect(302, '/echo', { 'Set-Cookie': 'session=secret; Path=/' });
      case '/echo':
        res.writeHead(200);
        return res.end();
      case '/slow':
        // Never answers: the check's timeout must end the request.
        held.push(res);
        return;
      case '/gate': {
        const g = gate!;
        g.inflight++;
        g.max = Math.max(g.max, g.inflight);
        gated.push(res);
        // Once the cap is reached (or the last links are in), the batch is answered a moment
        // later: long enough for a checker without a cap to send more, which raises g.max.
        if (g.inflight === g.size || g.served + g.inflight === g.total) {
          const batch = gated.splice(0);
          g.served += g.inflight;
          setTimeout(() => {
            g.inflight -= batch.length;
            for (const r of batch) {
              r.writeHead(200);
              r.end();
            }
          }, 30);
        }
        return;
      }
      default:
        res.writeHead(500);
        res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    seen,
    setGate(size: number, total: number) {
      gate = { size, total, inflight: 0, max: 0, served: 0 };
      return gate;
    },
    async close() {
      for (const r of [...held.splice(0), ...gated.splice(0)]) r.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function resolverOf(dns: FakeDns): AddressResolver {
  return {
    resolve4: async (host) => (await dns.resolve(host, 'A')) as string[],
    resolve6: async (host) => (await dns.resolve(host, 'AAAA')) as string[],
  };
}

describe('link check', () => {
  let server: Awaited<ReturnType<typeof linkServer>>;
  let dns: FakeDns;
  const options = (o: Partial<LinkCheckOptions> & { allow?: string[] } = {}): LinkCheckOptions => ({
    policy: createAddressPolicy({ allow: o.allow ?? ['127.0.0.1'] }),
    resolver: resolverOf(dns),
    timeoutMs: 5000,
    follow: false,
    userAgent: 'Mailroom/test (link check)',
    ...o,
  });

  before(async () => {
    server = await linkServer();
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.seen.length = 0;
    dns = createFakeDns({
      'links.test': { A: ['127.0.0.1'] },
      'internal.test': { A: ['10.0.0.5', '127.0.0.1'] },
    });
  });

  it('reports 200 and 404 in Mailpit terms, and counts the errors', async () => {
    const result = await checkLinks(
      [server.url('/ok'), server.url('/missing'), server.url('/ok')],
      options(),
    );
    assert.deepEqual(
      result.Links.map((l) => [l.StatusCode, l.Status, l.Blocked]),
      [
        [200, 'OK', false],
        [404, 'Not Found', false],
      ],
      'each link once',
    );
    assert.equal(result.Errors, 1);
    // HEAD first; the 404 is asked again with GET before it counts.
    assert.deepEqual(
      server.seen.map((s) => `${s.method} ${s.path}`),
      ['HEAD /ok', 'HEAD /missing', 'GET /missing'],
    );
  });

  it('asks with GET when the server refuses HEAD', async () => {
    const link = await checkLink(server.url('/no-head'), options());
    assert.equal(link.StatusCode, 200);
    assert.deepEqual(
      server.seen.map((s) => s.method),
      ['HEAD', 'GET'],
    );
  });

  it('reports a redirect as it is without follow, and follows the chain with it', async () => {
    const plain = await checkLink(server.url('/r1'), options());
    assert.deepEqual([plain.StatusCode, plain.Location, plain.Redirects], [301, '/r2', []]);
    const followed = await checkLink(server.url('/r1'), options({ follow: true }));
    assert.equal(followed.StatusCode, 200);
    assert.deepEqual(followed.Redirects, [
      { URL: server.url('/r1'), StatusCode: 301 },
      { URL: server.url('/r2'), StatusCode: 302 },
    ]);
  });

  it('gives up on a redirect loop after the cap', async () => {
    const link = await checkLink(server.url('/loop'), options({ follow: true, maxRedirects: 3 }));
    assert.equal(link.StatusCode, 0);
    assert.match(link.Status, /Too many redirects \(more than 3\)/);
    assert.equal(server.seen.length, 4);
  });

  it('ends a request that gets no answer at the timeout', async () => {
    const link = await checkLink(server.url('/slow'), options({ timeoutMs: 200 }));
    assert.equal(link.StatusCode, 0);
    assert.match(link.Status, /^Timed out: no answer within 200 ms/);
    assert.deepEqual(
      server.seen.map((s) => s.method),
      ['HEAD'],
      'a timeout is not asked again',
    );
  });

  it('never sends cookies or credentials, even those the link or a redirect carries', async () => {
    const withCredentials = server.url('/set-cookie').replace('http://', 'http://ann:secret@');
    const link = await checkLink(withCredentials, options({ follow: true }));
    assert.equal(link.StatusCode, 200);
    assert.equal(server.seen.length, 2);
    for (const s of server.seen) {
      assert.equal(s.headers.cookie, undefined);
      assert.equal(s.headers.authorization, undefined);
      assert.equal(s.headers['user-agent'], 'Mailroom/test (link check)');
    }
  });

  it('keeps to the concurrency cap', async () => {
    const gate = server.setGate(2, 6);
    const urls = Array.from({ length: 6 }, (_, i) => server.url(`/gate?n=${i}`));
    const result = await checkLinks(urls, options({ concurrency: 2 }));
    assert.ok(result.Links.every((l) => l.StatusCode === 200));
    assert.equal(gate.max, 2);
  });

  describe('refuses internal targets before connecting', () => {
    it('a loopback link when loopback is not allowed', async () => {
      const link = await checkLink(server.url('/ok'), options({ allow: [] }));
      assert.equal(link.Blocked, true);
      assert.equal(link.StatusCode, 0);
      assert.match(link.Status, /^Blocked: .*127\.0\.0\.1 is loopback/);
      assert.equal(server.seen.length, 0, 'the server saw no request');
    });

    it('the cloud metadata address, and a link whose name resolves to internal addresses', async () => {
      const result = await checkLinks(
        ['http://169.254.169.254/latest/meta-data/', `http://internal.test:${server.port}/ok`],
        options({ allow: [] }),
      );
      assert.deepEqual(
        result.Links.map((l) => l.Blocked),
        [true, true],
      );
      assert.match(result.Links[0]?.Status ?? '', /link-local/);
      assert.match(result.Links[1]?.Status ?? '', /10\.0\.0\.5 is private-use.*127\.0\.0\.1 is loopback/);
      assert.equal(result.Errors, 2);
      assert.equal(server.seen.length, 0, 'the server saw no request');
    });

    it('a redirect to an internal address, hop by hop', async () => {
      const link = await checkLink(server.url('/to-metadata'), options({ follow: true }));
      assert.equal(link.Blocked, true);
      assert.match(link.Status, /169\.254\.169\.254 is link-local/);
      assert.deepEqual(link.Redirects, [{ URL: server.url('/to-metadata'), StatusCode: 302 }]);
      const viaName = await checkLink(
        server.url('/to-internal-name'),
        options({ follow: true, allow: ['127.0.0.1'] }),
      );
      // 127.0.0.1 is allowed, so the name's loopback address is used and 10.0.0.5 is dropped.
      assert.equal(viaName.StatusCode, 200);
      assert.deepEqual(
        server.seen.map((s) => s.path),
        ['/to-metadata', '/to-internal-name', '/ok'],
      );
    });

    it('ports browsers refuse (SMTP, IMAP...), before and after a redirect', async () => {
      const result = await checkLinks(
        ['http://127.0.0.1:25/', 'https://mail.example:587/x', server.url('/to-smtp')],
        options({ follow: true }),
      );
      assert.deepEqual(
        result.Links.map((l) => [l.Blocked, l.Status]),
        [
          [true, 'Blocked: port 25 is one browsers refuse (WHATWG Fetch, bad ports)'],
          [true, 'Blocked: port 587 is one browsers refuse (WHATWG Fetch, bad ports)'],
          [true, 'Blocked: port 25 is one browsers refuse (WHATWG Fetch, bad ports)'],
        ],
      );
      assert.deepEqual(
        server.seen.map((s) => s.path),
        ['/to-smtp'],
      );
      assert.equal(dns.lookups(), 0, 'nothing was resolved either');
    });

    it('allows an internal host named on the allow list, reached by name', async () => {
      const link = await checkLink(`http://links.test:${server.port}/ok`, options({ allow: ['links.test'] }));
      assert.equal(link.StatusCode, 200);
      assert.equal(server.seen[0]?.headers.host, `links.test:${server.port}`);
      const other = await checkLink(
        `http://internal.test:${server.port}/ok`,
        options({ allow: ['links.test'] }),
      );
      assert.equal(other.Blocked, true);
      assert.equal(server.seen.length, 1);
    });
  });

  it('reports links that cannot be requested', async () => {
    const result = await checkLinks(
      ['not a url', `http://nowhere.test:${server.port}/`, server.url('/to-ftp')],
      options({ follow: true }),
    );
    assert.deepEqual(
      result.Links.map((l) => l.Status),
      ['Not a valid URL', 'Host not found', 'Not an http(s) URL (ftp:)'],
    );
    assert.equal(result.Errors, 3);
  });
});
