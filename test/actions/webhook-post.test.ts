import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { generate } from 'selfsigned';
import { parseRetryAfter, postWebhook, type WebhookOptions } from '../../src/actions/webhook/post.ts';
import { signatureHeaders, verifySignature } from '../../src/actions/webhook/sign.ts';
import { type AddressPolicy, createAddressPolicy } from '../../src/net/address-policy.ts';
import type { AddressResolver } from '../../src/net/safe-lookup.ts';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const SECRET = 'whsec_test_current';
const OLD_SECRET = 'whsec_test_previous';
const BODY = JSON.stringify({ event: 'message:received', id: 'msg_1', subject: 'Grüße' });

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A loopback receiver that records what reaches it; `reply` answers each request. */
async function receiver(reply: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void) {
  const seen: Seen[] = [];
  let connections = 0;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    reply(req, res, body);
  });
  server.on('connection', () => {
    connections += 1;
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    seen,
    connections: () => connections,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** DNS answers from a table; a name's answers are handed out in turn, the last one repeating. */
function scripted(table: Record<string, { a?: string[][]; aaaa?: string[][] }>) {
  const asked: string[] = [];
  const next = (answers: string[][] | undefined, host: string, type: string) => {
    asked.push(`${type} ${host}`);
    if (!answers?.length)
      return Promise.reject(Object.assign(new Error(`${type} ${host}`), { code: 'ENODATA' }));
    return Promise.resolve(answers.length > 1 ? answers.shift()! : answers[0]!);
  };
  const resolver: AddressResolver = {
    resolve4: (host) => next(table[host]?.a, host, 'A'),
    resolve6: (host) => next(table[host]?.aaaa, host, 'AAAA'),
  };
  return { resolver, asked };
}

const LOOPBACK_ALLOWED: AddressPolicy = createAddressPolicy({ allow: ['127.0.0.1/32'] });

function options(overrides: Partial<WebhookOptions> = {}): WebhookOptions {
  return {
    timeoutMs: 5_000,
    maxResponseBytes: 4096,
    policy: LOOPBACK_ALLOWED,
    resolver: scripted({ 'hook.test': { a: [['127.0.0.1']] } }).resolver,
    now: () => NOW,
    userAgent: 'Mailroom-Webhooks/test',
    ...overrides,
  };
}

function request(url: string, secrets = [SECRET]) {
  return { url, body: BODY, headers: { 'Mailroom-Delivery-Id': 'dlv_0001' }, secrets };
}

describe('webhook signature', () => {
  const headers = signatureHeaders(SECRET, NOW / 1000, BODY);

  it('signs "<timestamp>.<body>" and the receiver accepts it within the tolerance', () => {
    assert.equal(headers['Mailroom-Timestamp'], String(NOW / 1000));
    assert.match(headers['Mailroom-Signature']!, /^v1=[0-9a-f]{64}$/);
    assert.deepEqual(verifySignature([SECRET], headers, BODY, NOW + 299_000, 300), { ok: true });
    assert.deepEqual(verifySignature([SECRET], headers, Buffer.from(BODY), NOW - 299_000, 300), { ok: true });
  });

  it('rejects stale or future timestamps, changed bodies, wrong secrets and missing headers', () => {
    assert.deepEqual(verifySignature([SECRET], headers, BODY, NOW + 301_000, 300), {
      ok: false,
      reason: 'stale-timestamp',
    });
    assert.equal(verifySignature([SECRET], headers, BODY, NOW - 301_000, 300).ok, false);
    assert.deepEqual(verifySignature([SECRET], headers, `${BODY} `, NOW, 300), {
      ok: false,
      reason: 'mismatch',
    });
    assert.deepEqual(verifySignature(['other'], headers, BODY, NOW, 300), { ok: false, reason: 'mismatch' });
    const restamped = { ...headers, 'Mailroom-Timestamp': String(NOW / 1000 + 1) };
    assert.deepEqual(verifySignature([SECRET], restamped, BODY, NOW, 300), { ok: false, reason: 'mismatch' });
    assert.deepEqual(verifySignature([SECRET], {}, BODY, NOW, 300), {
      ok: false,
      reason: 'missing-timestamp',
    });
    const unsigned = { 'mailroom-timestamp': String(NOW / 1000), 'mailroom-signature': 'v0=abc' };
    assert.deepEqual(verifySignature([SECRET], unsigned, BODY, NOW, 300), {
      ok: false,
      reason: 'missing-signature',
    });
    const garbled = { ...headers, 'Mailroom-Timestamp': '1e9' };
    assert.deepEqual(verifySignature([SECRET], garbled, BODY, NOW, 300), {
      ok: false,
      reason: 'bad-timestamp',
    });
  });

  it('carries one v1 value per secret while rotating, and either secret verifies', () => {
    const rotating = signatureHeaders([SECRET, OLD_SECRET], NOW / 1000, BODY);
    assert.match(rotating['Mailroom-Signature']!, /^v1=[0-9a-f]{64} v1=[0-9a-f]{64}$/);
    assert.equal(verifySignature([OLD_SECRET], rotating, BODY, NOW, 300).ok, true);
    assert.equal(verifySignature([SECRET], rotating, BODY, NOW, 300).ok, true);
    assert.equal(verifySignature(['x', OLD_SECRET], rotating, BODY, NOW, 300).ok, true);
    assert.throws(() => signatureHeaders([], NOW / 1000, BODY), /at least one signing secret/);
  });

  it('reads Retry-After as seconds or an HTTP-date', () => {
    assert.equal(parseRetryAfter('120', NOW), 120_000);
    assert.equal(parseRetryAfter(new Date(NOW + 90_000).toUTCString(), NOW), 90_000);
    assert.equal(parseRetryAfter(new Date(NOW - 90_000).toUTCString(), NOW), 0);
    assert.equal(parseRetryAfter('soon', NOW), undefined);
    assert.equal(parseRetryAfter(undefined, NOW), undefined);
  });
});

describe('webhook POST, one attempt against loopback receivers', { timeout: 30_000 }, () => {
  const closers: (() => void)[] = [];
  const start = async (reply: Parameters<typeof receiver>[0]) => {
    const r = await receiver(reply);
    closers.push(r.close);
    return r;
  };
  after(() => {
    for (const close of closers) close();
  });

  it('delivers a signed JSON POST the receiver verifies', async () => {
    const verdicts: string[] = [];
    const r = await start((req, res, body) => {
      const check = verifySignature([SECRET], req.headers, body, NOW, 300);
      verdicts.push(check.ok ? 'ok' : check.reason);
      res.writeHead(check.ok ? 200 : 401).end('thanks');
    });
    const caller = { 'Mailroom-Delivery-Id': 'dlv_0001', 'content-type': 'text/plain', Host: 'intranet' };
    const attempt = await postWebhook(
      { ...request(`http://hook.test:${r.port}/hooks/in?src=mailroom#frag`), headers: caller },
      options(),
    );
    assert.equal(attempt.outcome, 'delivered', attempt.reason);
    assert.equal(attempt.status, 200);
    assert.equal(attempt.responseSnippet, 'thanks');
    assert.deepEqual(verdicts, ['ok']);
    const [seen] = r.seen;
    assert.equal(seen?.method, 'POST');
    assert.equal(seen?.url, '/hooks/in?src=mailroom');
    assert.equal(seen?.body, BODY);
    assert.equal(seen?.headers['content-type'], 'application/json');
    assert.equal(seen?.headers['user-agent'], 'Mailroom-Webhooks/test');
    assert.equal(seen?.headers['mailroom-delivery-id'], 'dlv_0001');
    assert.equal(seen?.headers['mailroom-timestamp'], String(NOW / 1000));
    assert.equal(seen?.headers.host, `hook.test:${r.port}`);
    assert.equal(seen?.headers['content-length'], String(Buffer.byteLength(BODY)));
  });

  it('signs with every live secret, so a receiver still on the old one verifies', async () => {
    const r = await start((req, res, body) => {
      res.writeHead(verifySignature([OLD_SECRET], req.headers, body, NOW, 300).ok ? 204 : 401).end();
    });
    const attempt = await postWebhook(
      request(`http://127.0.0.1:${r.port}/`, [SECRET, OLD_SECRET]),
      options(),
    );
    assert.equal(attempt.status, 204);
    assert.equal(attempt.outcome, 'delivered');
    const alone = await postWebhook(request(`http://127.0.0.1:${r.port}/`, [SECRET]), options());
    assert.equal(alone.status, 401);
    assert.equal(alone.outcome, 'failed');
  });

  it('gives up on a receiver that never answers at the deadline, to be retried', async () => {
    const r = await start(() => {});
    const attempt = await postWebhook(request(`http://127.0.0.1:${r.port}/`), options({ timeoutMs: 300 }));
    assert.equal(attempt.outcome, 'retry');
    assert.equal(attempt.status, null);
    assert.match(attempt.reason, /no complete answer within 300 ms/);
    assert.equal(r.seen.length, 1);
  });

  it('stops when the caller aborts, to be retried', async () => {
    const r = await start(() => {});
    const controller = new AbortController();
    const pending = postWebhook(
      request(`http://127.0.0.1:${r.port}/`),
      options({ signal: controller.signal }),
    );
    while (r.seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    const attempt = await pending;
    assert.equal(attempt.outcome, 'retry');
    assert.match(attempt.reason, /aborted/);
    const early = await postWebhook(
      request(`http://127.0.0.1:${r.port}/`),
      options({ signal: controller.signal }),
    );
    assert.equal(early.outcome, 'retry');
    assert.equal(r.seen.length, 1);
  });

  it('does not follow a redirect, not even to a loopback address it would allow', async () => {
    const other = await start((_req, res) => res.writeHead(200).end());
    const r = await start((_req, res) =>
      res.writeHead(302, { Location: `http://127.0.0.1:${other.port}/` }).end(),
    );
    const attempt = await postWebhook(request(`http://127.0.0.1:${r.port}/`), options());
    assert.equal(attempt.status, 302);
    assert.equal(attempt.outcome, 'failed');
    assert.equal(attempt.reason, 'redirects are not followed');
    assert.equal(r.seen.length, 1);
    assert.equal(other.connections(), 0);
  });

  it('reads an endless body only up to maxResponseBytes and hangs up', async () => {
    let closed: Promise<unknown> = Promise.resolve();
    const r = await start((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      closed = once(res, 'close');
      const chunk = 'x'.repeat(16_384);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const attempt = await postWebhook(
      request(`http://127.0.0.1:${r.port}/`),
      options({ maxResponseBytes: 1000 }),
    );
    assert.equal(attempt.outcome, 'delivered');
    assert.equal(attempt.responseSnippet, 'x'.repeat(1000));
    assert.doesNotMatch(attempt.reason, /cut off/);
    await closed;
  });

  it('keeps the status of an answer whose body outlasts the deadline', async () => {
    const r = await start((_req, res) => {
      res.writeHead(200);
      res.write('partial');
    });
    const attempt = await postWebhook(request(`http://127.0.0.1:${r.port}/`), options({ timeoutMs: 300 }));
    assert.equal(attempt.outcome, 'delivered');
    assert.equal(attempt.responseSnippet, 'partial');
    assert.match(attempt.reason, /cut off after 300 ms/);
  });

  it('classifies answers: 400 and 410 fail, 408, 429 and 5xx retry, Retry-After is passed on', async () => {
    const replies: Record<string, [number, Record<string, string>]> = {
      '/400': [400, {}],
      '/410': [410, {}],
      '/408': [408, {}],
      '/500': [500, {}],
      '/503': [503, { 'Retry-After': '120' }],
      '/429': [429, { 'Retry-After': new Date(NOW + 30_000).toUTCString() }],
      '/500-with-retry-after': [500, { 'Retry-After': '5' }],
    };
    const r = await start((req, res) => {
      const [status, headers] = replies[req.url ?? ''] ?? [200, {}];
      res.writeHead(status, headers).end(`status ${status}`);
    });
    const post = (path: string) => postWebhook(request(`http://127.0.0.1:${r.port}${path}`), options());
    const got = async (path: string) => {
      const a = await post(path);
      return [a.status, a.outcome, a.retryAfterMs, a.responseSnippet];
    };
    assert.deepEqual(await got('/400'), [400, 'failed', undefined, 'status 400']);
    assert.deepEqual(await got('/410'), [410, 'failed', undefined, 'status 410']);
    assert.deepEqual(await got('/408'), [408, 'retry', undefined, 'status 408']);
    assert.deepEqual(await got('/500'), [500, 'retry', undefined, 'status 500']);
    assert.deepEqual(await got('/503'), [503, 'retry', 120_000, 'status 503']);
    assert.deepEqual(await got('/429'), [429, 'retry', 30_000, 'status 429']);
    assert.deepEqual(await got('/500-with-retry-after'), [500, 'retry', undefined, 'status 500']);
  });

  it('refuses hosts resolving to internal addresses before connecting', async () => {
    const r = await start((_req, res) => res.writeHead(200).end());
    const { resolver } = scripted({
      'ten.test': { a: [['10.0.0.1']] },
      'metadata.test': { a: [['169.254.169.254']] },
      'mapped.test': { aaaa: [['::ffff:127.0.0.1']] },
    });
    for (const [host, address] of [
      ['ten.test', '10.0.0.1'],
      ['metadata.test', '169.254.169.254'],
      ['mapped.test', '::ffff:127.0.0.1'],
    ] as const) {
      const attempt = await postWebhook(request(`http://${host}:${r.port}/`), options({ resolver }));
      assert.equal(attempt.outcome, 'failed', host);
      assert.equal(attempt.status, null, host);
      assert.ok(attempt.reason.includes(`${address} is `), attempt.reason);
    }
    assert.equal(r.connections(), 0);
  });

  it('refuses internal IP literals, however the URL spells them', async () => {
    const r = await start((_req, res) => res.writeHead(200).end());
    const strict = options({ policy: createAddressPolicy() });
    for (const url of [
      `http://127.0.0.1:${r.port}/`,
      `http://2130706433:${r.port}/`,
      `http://0x7f.1:${r.port}/`,
      `http://[::ffff:127.0.0.1]:${r.port}/`,
      `http://[::1]:${r.port}/`,
      'http://169.254.169.254/latest/meta-data/',
      `http://0.0.0.0:${r.port}/`,
    ]) {
      const attempt = await postWebhook(request(url), strict);
      assert.equal(attempt.outcome, 'failed', url);
      assert.match(attempt.reason, /refused to connect/, url);
    }
    assert.equal(r.connections(), 0);
  });

  it('connects only to the address it checked when DNS rebinds between answers', async () => {
    const r = await start((_req, res) => res.writeHead(204).end());
    const { resolver, asked } = scripted({ 'rebind.test': { a: [['127.0.0.1'], ['10.0.0.1']] } });
    const attempt = await postWebhook(request(`http://rebind.test:${r.port}/`), options({ resolver }));
    assert.equal(attempt.outcome, 'delivered', attempt.reason);
    assert.equal(r.seen.length, 1);
    assert.deepEqual(
      asked.filter((q) => q.startsWith('A ')),
      ['A rebind.test'],
    );
  });

  it('refuses other schemes, URLs with credentials, header injection, and posting without a secret', async () => {
    const r = await start((_req, res) => res.writeHead(200).end());
    const cases: [string, string[], RegExp][] = [
      [`ftp://127.0.0.1:${r.port}/`, [SECRET], /only http and https/],
      ['file:///etc/passwd', [SECRET], /only http and https/],
      [`http://user:pass@127.0.0.1:${r.port}/`, [SECRET], /credentials/],
      [`http://:pass@127.0.0.1:${r.port}/`, [SECRET], /credentials/],
      ['not a url', [SECRET], /not a valid URL/],
      [`http://127.0.0.1:${r.port}/`, [], /no signing secret/],
    ];
    for (const [url, secrets, reason] of cases) {
      const attempt = await postWebhook(request(url, secrets), options());
      assert.equal(attempt.outcome, 'failed', url);
      assert.match(attempt.reason, reason, url);
    }
    // A header value smuggling a second header line is refused, not sent.
    const smuggled = { 'Mailroom-Delivery-Id': 'dlv_1\r\nX-Injected: yes' };
    const attempt = await postWebhook(
      { ...request(`http://127.0.0.1:${r.port}/`), headers: smuggled },
      options(),
    );
    assert.equal(attempt.outcome, 'failed');
    assert.match(attempt.reason, /could not be built/);
    assert.equal(r.connections(), 0);
  });

  it('retries when nothing listens, and when DNS never answers within the connect timeout', async () => {
    const gone = await receiver(() => {});
    gone.close();
    await once(gone.server, 'close');
    const refused = await postWebhook(request(`http://127.0.0.1:${gone.port}/`), options());
    assert.equal(refused.outcome, 'retry');
    assert.match(refused.reason, /ECONNREFUSED/);
    const silent: AddressResolver = {
      resolve4: () => new Promise(() => {}),
      resolve6: () => new Promise(() => {}),
    };
    const slow = await postWebhook(
      request('http://silent.test/'),
      options({ resolver: silent, connectTimeoutMs: 200, timeoutMs: 20_000 }),
    );
    assert.equal(slow.outcome, 'retry');
    assert.match(slow.reason, /no connection within 200 ms/);
  });
});

describe('webhook POST over https', { timeout: 30_000 }, () => {
  let server: https.Server;
  let port = 0;
  let cert = '';

  before(async () => {
    const pems = await generate([{ name: 'commonName', value: 'hook.test' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'hook.test' }] }],
    });
    cert = pems.cert;
    server = https.createServer({ key: pems.private, cert }, (_req, res) => res.writeHead(200).end('tls ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('verifies the certificate against the URL host while connecting to the checked address', async () => {
    const attempt = await postWebhook(request(`https://hook.test:${port}/`), options({ ca: cert }));
    assert.equal(attempt.outcome, 'delivered', attempt.reason);
    assert.equal(attempt.responseSnippet, 'tls ok');
  });

  it('retries when the certificate is not trusted', async () => {
    const attempt = await postWebhook(request(`https://hook.test:${port}/`), options());
    assert.equal(attempt.outcome, 'retry');
    assert.equal(attempt.status, null);
    assert.match(attempt.reason, /network error/);
  });
});
