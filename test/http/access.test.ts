// Access control for the HTTP API: Host check (DNS rebinding), credentials (basic auth, bearer
// tokens, probe exemptions, the verification cache), cross-origin refusal of unsafe requests,
// WebSocket upgrade checks, and the start-up refusals of createAccessPolicy.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { Hono } from 'hono';
import { WebSocket, WebSocketServer } from 'ws';
import { ConfigError } from '../../src/config/load.ts';
import type { AppEnv } from '../../src/http/deps.ts';
import {
  type AccessConfig,
  type AccessPolicy,
  BASIC_CACHE_TTL_MS,
  createAccessPolicy,
  principalOf,
  writeUpgradeRefusal,
} from '../../src/http/middleware/access.ts';
import { hashPassword, loadAuthFile } from '../../src/smtp/auth-file.ts';

const LOOPBACK: AccessConfig = {
  httpListen: '127.0.0.1:8025',
  httpAuthFile: '',
  httpTokens: [],
  httpAllowUnauthenticated: false,
  httpAllowedHosts: [],
};

const BASIC_CHALLENGE = 'Basic realm="Mailroom", charset="UTF-8"';
const UNSAFE = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** A tiny app: the middleware, probes, metrics and one API path echoing the principal. */
function appWith(policy: AccessPolicy): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', policy.middleware());
  app.get('/livez', (c) => c.text('ok'));
  app.get('/readyz', (c) => c.text('ok'));
  app.get('/metrics', (c) => c.text('# metrics'));
  app.on(['GET', ...UNSAFE], '/api/v1/messages', (c) => c.json({ principal: principalOf(c) ?? null }));
  return app;
}

async function appFor(over: Partial<AccessConfig>): Promise<Hono<AppEnv>> {
  return appWith(await createAccessPolicy({ ...LOOPBACK, ...over }));
}

function get(app: Hono<AppEnv>, headers: Record<string, string>, p = '/api/v1/messages') {
  return app.request(p, { headers });
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

async function problem(res: Response): Promise<Record<string, unknown>> {
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  return (await res.json()) as Record<string, unknown>;
}

/** Stand-in for the IncomingMessage of a WebSocket handshake. */
function upgradeRequest(headers: Record<string, string>): IncomingMessage {
  return { method: 'GET', url: '/api/events', headers } as unknown as IncomingMessage;
}

let dir: string;
let authFile: string;
const ALICE_PW = `alice ${randomBytes(6).toString('hex')} pass`;
const BOB_PW = randomBytes(9).toString('base64');
const TOKEN_A = randomBytes(18).toString('hex');
const TOKEN_B = randomBytes(18).toString('base64url');

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mailroom-access-'));
  authFile = path.join(dir, 'htpasswd');
  // alice has an scrypt hash (mailroom hash-password), bob a bcrypt one (htpasswd -B).
  const lines = ['# users', `alice:${await hashPassword(ALICE_PW)}`, `bob:${bcrypt.hashSync(BOB_PW, 4)}`, ''];
  await fs.writeFile(authFile, lines.join('\n'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('Host header (DNS rebinding)', () => {
  it('accepts loopback names and addresses with any port', async () => {
    const app = await appFor({});
    for (const host of [
      'localhost',
      'localhost:8025',
      'LOCALHOST.:8025',
      '127.0.0.1:8025',
      '127.1.2.3',
      '[::1]:8025',
      '[::ffff:127.0.0.1]:8025',
      'ui.localhost:5173',
    ]) {
      const res = await get(app, { host });
      assert.equal(res.status, 200, host);
    }
    // No Host header at all (app.request): the URL's host, localhost, stands in.
    assert.equal((await app.request('/api/v1/messages')).status, 200);
  });

  it('accepts IP literals, which a rebinding attack cannot produce', async () => {
    const app = await appFor({});
    assert.equal((await get(app, { host: '192.168.1.9:8025' })).status, 200);
    assert.equal((await get(app, { host: '[2001:db8::1]:8025' })).status, 200);
  });

  it('refuses a rebinding DNS name with 421 problem JSON, even with valid credentials', async () => {
    const app = await appFor({ httpTokens: [TOKEN_A] });
    for (const host of [
      'rebind.evil.example:8025',
      'localhost.evil.example',
      'evil-localhost',
      'localhostx',
    ]) {
      const res = await get(app, { host, authorization: `Bearer ${TOKEN_A}` });
      assert.equal(res.status, 421, host);
      const p = await problem(res);
      assert.equal(p.type, 'urn:mailroom:problem:misdirected-request');
      assert.equal(p.status, 421);
      assert.match(String(p.detail), /--http-allowed-hosts/);
    }
    assert.equal((await app.request('http://rebind.evil.example/api/v1/messages')).status, 421);
  });

  it('accepts listed names and *.wildcards (sub-domains only)', async () => {
    const app = await appFor({ httpAllowedHosts: ['mail.example.com', '*.dev.example.com'] });
    for (const host of [
      'mail.example.com',
      'MAIL.example.com:8443',
      'a.dev.example.com',
      'a.b.dev.example.com:1',
    ]) {
      assert.equal((await get(app, { host })).status, 200, host);
    }
    for (const host of [
      'dev.example.com',
      'example.com',
      'xdev.example.com',
      'mail.example.com.evil.example',
    ]) {
      assert.equal((await get(app, { host })).status, 421, host);
    }
  });

  it('accepts any Host when * is listed', async () => {
    const app = await appFor({ httpAllowedHosts: ['*'] });
    assert.equal((await get(app, { host: 'anything.example:1234' })).status, 200);
  });

  it('accepts the listen host name itself', async () => {
    const app = await appFor({ httpListen: 'mailbox.lan:8025', httpAllowUnauthenticated: true });
    assert.equal((await get(app, { host: 'mailbox.lan:8025' })).status, 200);
    assert.equal((await get(app, { host: 'other.lan:8025' })).status, 421);
  });

  it('checks Host on an unauthenticated wildcard listener, not on one with credentials', async () => {
    const open = await appFor({ httpListen: '0.0.0.0:8025', httpAllowUnauthenticated: true });
    assert.equal((await get(open, { host: 'rebind.evil.example' })).status, 421);
    assert.equal((await get(open, { host: '10.0.0.5:8025' })).status, 200);

    const guarded = await appFor({ httpListen: '[::]:8025', httpTokens: [TOKEN_A] });
    assert.equal((await get(guarded, { host: 'mail.anywhere.example' })).status, 401);
    const ok = await get(guarded, { host: 'mail.anywhere.example', authorization: `Bearer ${TOKEN_A}` });
    assert.equal(ok.status, 200);
  });
});

describe('credentials', () => {
  it('serves without credentials when none are configured', async () => {
    const res = await get(await appFor({}), {});
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { principal: { kind: 'anonymous' } });
  });

  it('accepts basic auth for scrypt and bcrypt users', async () => {
    const app = await appFor({ httpAuthFile: authFile });
    const a = await get(app, { authorization: basic('alice', ALICE_PW) });
    assert.equal(a.status, 200);
    assert.deepEqual(await a.json(), { principal: { kind: 'user', name: 'alice' } });
    const b = await get(app, { authorization: basic('bob', BOB_PW).replace('Basic', 'basic') });
    assert.equal(b.status, 200);
    assert.deepEqual(await b.json(), { principal: { kind: 'user', name: 'bob' } });
  });

  it('answers missing or bad basic credentials with 401 and a Basic challenge', async () => {
    const app = await appFor({ httpAuthFile: authFile });
    const cases: Record<string, string | undefined> = {
      missing: undefined,
      'wrong password': basic('alice', `${ALICE_PW}x`),
      'unknown user': basic('mallory', ALICE_PW),
      'other user password': basic('bob', ALICE_PW),
      'no colon': `Basic ${Buffer.from('alice').toString('base64')}`,
      'not base64': 'Basic !!!',
      'bearer on basic-only': `Bearer ${TOKEN_A}`,
      'unknown scheme': `Digest ${Buffer.from(`alice:${ALICE_PW}`).toString('base64')}`,
    };
    for (const [name, authorization] of Object.entries(cases)) {
      const res = await get(app, authorization === undefined ? {} : { authorization });
      assert.equal(res.status, 401, name);
      assert.equal(res.headers.get('www-authenticate'), BASIC_CHALLENGE, name);
      const text = await res.text();
      assert.equal(JSON.parse(text).type, 'urn:mailroom:problem:unauthorized', name);
      assert.ok(!text.includes(ALICE_PW) && !text.includes('alice'), `${name}: body echoes credentials`);
    }
  });

  it('gives a scoped token only its scopes: send, read, manage', async () => {
    const sendOnly = randomBytes(18).toString('hex');
    const reader = randomBytes(18).toString('hex');
    const app = await appFor({ httpTokens: [`${sendOnly}:send`, `${reader}:read+manage`] });
    app.post('/api/v1/send', (c) => c.json({ principal: principalOf(c) ?? null }));
    const call = (token: string, method: string, p: string) =>
      app.request(p, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
    const send = await call(sendOnly, 'POST', '/api/v1/send');
    assert.equal(send.status, 200);
    assert.deepEqual(((await send.json()) as { principal: { scopes: string[] } }).principal.scopes, ['send']);
    // The send-only token reads nothing and changes nothing else.
    const read = await call(sendOnly, 'GET', '/api/v1/messages');
    assert.equal(read.status, 403);
    assert.match(((await read.json()) as { detail: string }).detail, /may send; this request needs read/);
    assert.equal((await call(sendOnly, 'DELETE', '/api/v1/messages')).status, 403);
    // The other reads and manages, but sends nothing.
    assert.equal((await call(reader, 'GET', '/api/v1/messages')).status, 200);
    assert.equal((await call(reader, 'DELETE', '/api/v1/messages')).status, 200);
    assert.equal((await call(reader, 'POST', '/api/v1/send')).status, 403);
    // The scope list is not part of the secret, and the secret alone must still be long enough.
    assert.equal((await call(`${sendOnly}:send`, 'POST', '/api/v1/send')).status, 401);
    await assert.rejects(createAccessPolicy({ ...LOOPBACK, httpTokens: ['short:send'] }), /at least 24/);
  });

  it('requires credentials on loopback too once they are configured', async () => {
    const app = await appFor({ httpListen: 'localhost:8025', httpAuthFile: authFile });
    assert.equal((await get(app, { host: 'localhost:8025' })).status, 401);
  });

  it('accepts configured bearer tokens and refuses others', async () => {
    const app = await appFor({ httpTokens: [TOKEN_A, TOKEN_B] });
    const a = await get(app, { authorization: `Bearer ${TOKEN_A}` });
    const all = ['send', 'read', 'manage'];
    assert.deepEqual(await a.json(), { principal: { kind: 'token', name: 'token 1', scopes: all } });
    const b = await get(app, { authorization: `bearer ${TOKEN_B}` });
    assert.deepEqual(await b.json(), { principal: { kind: 'token', name: 'token 2', scopes: all } });
    for (const authorization of [
      `Bearer ${TOKEN_A}x`,
      `Bearer ${TOKEN_A.slice(1)}`,
      'Bearer',
      basic('alice', ALICE_PW),
    ]) {
      const res = await get(app, { authorization });
      assert.equal(res.status, 401, authorization);
      // Only tokens are configured: a Basic prompt could never succeed, so none is offered.
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="Mailroom"');
      assert.ok(!(await res.text()).includes(TOKEN_A));
    }
  });

  it('offers both challenges when both kinds of credentials are configured', async () => {
    const app = await appFor({ httpAuthFile: authFile, httpTokens: [TOKEN_A] });
    const res = await get(app, {});
    assert.equal(res.headers.get('www-authenticate'), `${BASIC_CHALLENGE}, Bearer realm="Mailroom"`);
    assert.equal((await get(app, { authorization: `Bearer ${TOKEN_A}` })).status, 200);
    assert.equal((await get(app, { authorization: basic('alice', ALICE_PW) })).status, 200);
  });

  it('exempts GET and HEAD of /livez and /readyz, but not /metrics', async () => {
    const app = await appFor({ httpAuthFile: authFile, httpTokens: [TOKEN_A] });
    assert.equal((await get(app, {}, '/livez')).status, 200);
    assert.equal((await get(app, { host: 'rebind.evil.example' }, '/readyz')).status, 200);
    assert.equal((await app.request('/livez', { method: 'HEAD' })).status, 200);
    assert.equal((await get(app, {}, '/metrics')).status, 401);
    assert.equal((await get(app, { authorization: `Bearer ${TOKEN_A}` }, '/metrics')).status, 200);
    assert.equal((await app.request('/livez', { method: 'POST' })).status, 401);
    assert.equal((await get(app, {}, '/livez/')).status, 401);
  });

  it('caches a successful basic verification for a while, and never a failed one', async () => {
    let verifications = 0;
    let clock = 1_000_000;
    const policy = await createAccessPolicy(
      { ...LOOPBACK, httpAuthFile: authFile },
      {
        now: () => clock,
        loadUsers: async (file) => {
          const users = await loadAuthFile(file);
          return {
            size: users.size,
            senderDomains: (u) => users.senderDomains(u),
            verify: (u, p) => {
              verifications++;
              return users.verify(u, p);
            },
          };
        },
      },
    );
    const app = appWith(policy);
    const good = { authorization: basic('alice', ALICE_PW) };
    const first = await Promise.all([get(app, good), get(app, good)]);
    assert.deepEqual(
      first.map((r) => r.status),
      [200, 200],
    );
    assert.equal(verifications, 1, 'concurrent requests share one verification');
    clock += BASIC_CACHE_TTL_MS - 1;
    assert.equal((await get(app, good)).status, 200);
    assert.equal(verifications, 1, 'a cached success is reused');
    clock += 2;
    assert.equal((await get(app, good)).status, 200);
    assert.equal(verifications, 2, 'an expired entry is verified again');

    const bad = { authorization: basic('alice', 'nope') };
    assert.equal((await get(app, bad)).status, 401);
    assert.equal((await get(app, bad)).status, 401);
    assert.equal(verifications, 4, 'failures are not cached');
  });
});

describe('cross-origin protection of unsafe requests', () => {
  const host = 'localhost:8025';
  const send = (app: Hono<AppEnv>, method: string, headers: Record<string, string>) =>
    app.request('/api/v1/messages', {
      method,
      headers: { host, 'content-type': 'application/json', ...headers },
      body: '{"IDs":[]}',
    });

  it('decides by Sec-Fetch-Site when present', async () => {
    const app = await appFor({});
    const expected: Record<string, number> = {
      'same-origin': 200,
      none: 200,
      'same-site': 403,
      'cross-site': 403,
      bogus: 403,
    };
    for (const method of UNSAFE) {
      for (const [site, status] of Object.entries(expected)) {
        const res = await send(app, method, { 'sec-fetch-site': site });
        assert.equal(res.status, status, `${method} ${site}`);
        if (status === 403) assert.equal((await problem(res)).type, 'urn:mailroom:problem:forbidden');
      }
    }
  });

  it('compares Origin with Host when Sec-Fetch-Site is absent', async () => {
    const app = await appFor({});
    const expected: Record<string, number> = {
      'http://localhost:8025': 200,
      'https://LOCALHOST:8025': 200,
      'http://evil.example': 403,
      'http://localhost:3000': 403,
      'http://127.0.0.1:8025': 403,
      null: 403,
      'not a url': 403,
    };
    for (const [origin, status] of Object.entries(expected)) {
      assert.equal((await send(app, 'POST', { origin })).status, status, origin);
    }
    // A Host without a port means the default port of the Origin's scheme.
    const noPort = await app.request('/api/v1/messages', {
      method: 'DELETE',
      headers: { host: 'localhost', origin: 'https://localhost' },
    });
    assert.equal(noPort.status, 200);
  });

  it('lets requests with neither header through (curl, API clients)', async () => {
    const app = await appFor({});
    for (const method of UNSAFE) assert.equal((await send(app, method, {})).status, 200, method);
  });

  it('never applies to safe methods', async () => {
    const app = await appFor({});
    const res = await get(app, { host, 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' });
    assert.equal(res.status, 200);
  });

  it('trusts listed origins, except for form-type bodies; * trusts no origin', async () => {
    const app = await appFor({ httpAllowedHosts: ['ui.example.com'] });
    const fromUi = { origin: 'https://ui.example.com', 'sec-fetch-site': 'cross-site' };
    assert.equal((await send(app, 'POST', fromUi)).status, 200);
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await send(app, 'POST', { ...fromUi, 'content-type': type });
      assert.equal(res.status, 403, type);
    }
    const same = await send(app, 'POST', {
      origin: 'http://localhost:8025',
      'content-type': 'application/x-www-form-urlencoded',
    });
    assert.equal(same.status, 200);

    const star = await appFor({ httpAllowedHosts: ['*'] });
    assert.equal((await send(star, 'POST', { origin: 'http://evil.example' })).status, 403);
  });

  it('refuses cross-site requests even with valid basic credentials', async () => {
    const app = await appFor({ httpAuthFile: authFile });
    const authorization = basic('alice', ALICE_PW);
    assert.equal((await send(app, 'POST', { authorization, 'sec-fetch-site': 'cross-site' })).status, 403);
    assert.equal((await send(app, 'POST', { authorization, 'sec-fetch-site': 'same-origin' })).status, 200);
  });
});

describe('checkUpgrade', () => {
  it('requires an Origin naming the request host, or a listed host', async () => {
    const policy = await createAccessPolicy({ ...LOOPBACK, httpAllowedHosts: ['ui.example.com'] });
    const host = 'localhost:8025';
    const good = await policy.checkUpgrade(upgradeRequest({ host, origin: 'http://localhost:8025' }));
    assert.deepEqual(good, { ok: true, principal: { kind: 'anonymous' } });
    assert.equal(
      (await policy.checkUpgrade(upgradeRequest({ host, origin: 'https://ui.example.com' }))).ok,
      true,
    );

    for (const origin of [undefined, 'http://evil.example', 'http://localhost:3000', 'null']) {
      const v = await policy.checkUpgrade(upgradeRequest(origin === undefined ? { host } : { host, origin }));
      assert.equal(v.ok, false, String(origin));
      if (!v.ok) {
        assert.equal(v.status, 403);
        assert.equal(v.code, 'forbidden');
      }
    }
    // Sec-Fetch-Site does not replace the Origin on the WebSocket path.
    const noOrigin = await policy.checkUpgrade(upgradeRequest({ host, 'sec-fetch-site': 'same-origin' }));
    assert.equal(noOrigin.ok, false);
  });

  it('applies the Host check', async () => {
    const policy = await createAccessPolicy(LOOPBACK);
    const v = await policy.checkUpgrade(
      upgradeRequest({ host: 'rebind.evil.example:8025', origin: 'http://rebind.evil.example:8025' }),
    );
    assert.equal(v.ok, false);
    if (!v.ok) assert.equal(v.status, 421);
  });

  it('applies the credential check', async () => {
    const policy = await createAccessPolicy({ ...LOOPBACK, httpAuthFile: authFile, httpTokens: [TOKEN_A] });
    const base = { host: 'localhost:8025', origin: 'http://localhost:8025' };
    const missing = await policy.checkUpgrade(upgradeRequest(base));
    assert.equal(missing.ok, false);
    if (!missing.ok) {
      assert.equal(missing.status, 401);
      assert.deepEqual(missing.challenges, [BASIC_CHALLENGE, 'Bearer realm="Mailroom"']);
    }
    const user = await policy.checkUpgrade(upgradeRequest({ ...base, authorization: basic('bob', BOB_PW) }));
    assert.deepEqual(user, { ok: true, principal: { kind: 'user', name: 'bob' } });
    const token = await policy.checkUpgrade(upgradeRequest({ ...base, authorization: `Bearer ${TOKEN_A}` }));
    assert.equal(token.ok, true);
    const wrong = await policy.checkUpgrade(upgradeRequest({ ...base, authorization: basic('bob', 'x') }));
    assert.equal(wrong.ok, false);
  });

  describe('over a real socket', () => {
    let server: Server;
    let url: string;
    before(async () => {
      const policy = await createAccessPolicy({ ...LOOPBACK, httpTokens: [TOKEN_A] });
      const wss = new WebSocketServer({ noServer: true });
      server = createServer((_req, res) => res.end());
      server.on('upgrade', (req, socket, head) => {
        void policy.checkUpgrade(req).then((v) => {
          if (!v.ok) writeUpgradeRefusal(socket, v);
          else wss.handleUpgrade(req, socket, head, (ws) => ws.close(1000, 'bye'));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/api/events`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    /** Opens a WebSocket; resolves with 101 or the refusal's status, headers and body. */
    function connect(origin: string | undefined, headers: Record<string, string>) {
      return new Promise<{ status: number; body: string; challenge?: string }>((resolve, reject) => {
        const ws = new WebSocket(url, { headers, ...(origin ? { origin } : {}) });
        ws.on('open', () => {
          ws.close();
          resolve({ status: 101, body: '' });
        });
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            body += d;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body, challenge: res.headers['www-authenticate'] }),
          );
        });
        ws.on('error', reject);
      });
    }

    it('opens with a same-origin Origin and a token', async () => {
      const origin = url.replace('ws:', 'http:').replace('/api/events', '');
      const r = await connect(origin, { authorization: `Bearer ${TOKEN_A}` });
      assert.equal(r.status, 101);
    });

    it('answers refusals with problem JSON', async () => {
      const cross = await connect('http://evil.example', { authorization: `Bearer ${TOKEN_A}` });
      assert.equal(cross.status, 403);
      assert.equal(JSON.parse(cross.body).type, 'urn:mailroom:problem:forbidden');
      const origin = url.replace('ws:', 'http:').replace('/api/events', '');
      const noAuth = await connect(origin, {});
      assert.equal(noAuth.status, 401);
      assert.equal(noAuth.challenge, 'Bearer realm="Mailroom"');
      assert.equal(JSON.parse(noAuth.body).status, 401);
    });
  });
});

describe('createAccessPolicy', () => {
  it('refuses a non-loopback listener without credentials, naming the three ways out', async () => {
    for (const httpListen of [
      '0.0.0.0:8025',
      '[::]:8025',
      ':8025',
      '192.168.1.10:8025',
      'mailbox.lan:8025',
    ]) {
      await assert.rejects(createAccessPolicy({ ...LOOPBACK, httpListen }), (err: Error) => {
        assert.ok(err instanceof ConfigError, httpListen);
        assert.match(err.message, /--http-auth-file \(MAILROOM_HTTP_AUTH_FILE\)/);
        assert.match(err.message, /--http-tokens \(MAILROOM_HTTP_TOKENS\)/);
        assert.match(err.message, /--http-allow-unauthenticated \(MAILROOM_HTTP_ALLOW_UNAUTHENTICATED\)/);
        return true;
      });
    }
  });

  it('starts on loopback without credentials', async () => {
    for (const httpListen of ['127.0.0.1:8025', '127.0.0.2:0', 'localhost:8025', '[::1]:8025', '']) {
      const policy = await createAccessPolicy({ ...LOOPBACK, httpListen });
      assert.equal(policy.credentialsRequired, false, httpListen);
    }
  });

  it('starts beyond loopback with credentials or with httpAllowUnauthenticated', async () => {
    const open = await createAccessPolicy({
      ...LOOPBACK,
      httpListen: '0.0.0.0:8025',
      httpAllowUnauthenticated: true,
    });
    assert.equal(open.credentialsRequired, false);
    const token = await createAccessPolicy({
      ...LOOPBACK,
      httpListen: '0.0.0.0:8025',
      httpTokens: [TOKEN_A],
    });
    assert.equal(token.credentialsRequired, true);
    const file = await createAccessPolicy({
      ...LOOPBACK,
      httpListen: '0.0.0.0:8025',
      httpAuthFile: authFile,
    });
    assert.equal(file.credentialsRequired, true);
  });

  it('refuses tokens shorter than 24 characters without quoting them', async () => {
    const short = 'short-but-secret-value';
    await assert.rejects(createAccessPolicy({ ...LOOPBACK, httpTokens: [TOKEN_A, short] }), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /token 2 of 2 is 22 characters long; each token must be at least 24/);
      assert.ok(!err.message.includes(short));
      return true;
    });
    const exactly24 = 'x'.repeat(24);
    assert.equal(
      (await createAccessPolicy({ ...LOOPBACK, httpTokens: [exactly24] })).credentialsRequired,
      true,
    );
  });

  it('refuses an unreadable, malformed or empty auth file', async () => {
    const cases: Record<string, [string | null, RegExp]> = {
      missing: [null, /--http-auth-file: cannot read .* \(ENOENT\)/],
      malformed: ['alice:plaintext\n', /--http-auth-file: .*neither bcrypt/],
      empty: ['# nobody yet\n', /lists no users/],
    };
    for (const [name, [text, message]] of Object.entries(cases)) {
      const file = path.join(dir, `auth-${name}`);
      if (text !== null) await fs.writeFile(file, text);
      await assert.rejects(createAccessPolicy({ ...LOOPBACK, httpAuthFile: file }), (err: Error) => {
        assert.ok(err instanceof ConfigError, name);
        assert.match(err.message, message);
        assert.ok(!err.message.includes('plaintext'), 'the hash is not quoted');
        return true;
      });
    }
  });

  it('refuses allowed-host entries that are not host names', async () => {
    for (const entry of [
      'http://mail.example.com',
      'mail.example.com:8025',
      'mail.example.com:80',
      'a*b.example',
      '*.',
      '',
    ]) {
      await assert.rejects(
        createAccessPolicy({ ...LOOPBACK, httpAllowedHosts: [entry] }),
        ConfigError,
        entry,
      );
    }
  });
});
