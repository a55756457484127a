// Stored API keys over HTTP: making, listing and revoking them, and using them as credentials
// (scopes, no escalation, revocation, expiry), against every storage backend; the verification
// cache on its own with a fake store and clock; and keys as the only credentials of a server
// reachable beyond loopback.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { MailroomClient, MailroomError } from '../../src/client/index.ts';
import { ConfigError } from '../../src/config/load.ts';
import { type ApiKey, hashSecret, type NewApiKey, parseApiKey } from '../../src/domain/api-key.ts';
import type { AppEnv } from '../../src/http/deps.ts';
import { type AccessConfig, createAccessPolicy, requiredScope } from '../../src/http/middleware/access.ts';
import {
  ApiKeyCache,
  KEY_CACHE_TTL_MS,
  KEY_USE_INTERVAL_MS,
} from '../../src/http/middleware/api-key-cache.ts';
import { apiKey, createdKey, keyList } from '../../src/http/routes/keys/schema.ts';
import type { ParsePool } from '../../src/mime/parse-pool.ts';
import type { ApiKeyStore, Storage } from '../../src/storage/ports.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { makeApp, startParser, type TestApp } from './helpers.ts';

const LOOPBACK: AccessConfig = {
  httpListen: '127.0.0.1:8025',
  httpAuthFile: '',
  httpTokens: [],
  httpAllowUnauthenticated: false,
  httpAllowedHosts: [],
};
const KEY_FORMAT = /^mr_[0-9A-Za-z]{22}_[A-Za-z0-9_-]{43}$/;
const HOUR = 3_600_000;

const ADMIN = randomBytes(18).toString('hex');
const SENDER = randomBytes(18).toString('hex');
const READ_MANAGE = randomBytes(18).toString('hex');

const message = {
  From: { Email: 'app@shop.example' },
  To: [{ Email: 'ann@one.example' }],
  Subject: 'keyed',
  Text: 'x',
};

async function problem(res: Response): Promise<{ status: number; detail: string; type: string }> {
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  return (await res.json()) as { status: number; detail: string; type: string };
}

for (const backend of BACKENDS) {
  describe(`API keys over HTTP: ${backend.name}`, () => {
    let storage: Storage;
    let parser: ParsePool;
    let t: TestApp;
    let cleanup: () => Promise<void>;
    /** The access policy's clock: moved by hand, so expiry and cache times are exact. */
    let clock = Date.now();

    before(async () => {
      const created = await backend.create();
      storage = created.storage;
      cleanup = created.cleanup;
      parser = startParser();
      const access = await createAccessPolicy(
        { ...LOOPBACK, httpTokens: [ADMIN, `${SENDER}:send`, `${READ_MANAGE}:read+manage`] },
        { keys: storage.apiKeys, now: () => clock },
      );
      t = await makeApp(storage, parser, created, { access });
    });
    after(async () => {
      await parser.close();
      await cleanup();
    });

    const call = (token: string | null, method: string, path: string, body?: unknown) =>
      t.app.request(path, {
        method,
        headers: {
          ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });

    /** Makes a key with the admin token; returns the whole key and its record. */
    async function make(scopes: string[], over: Record<string, unknown> = {}) {
      const res = await call(ADMIN, 'POST', '/api/v1/keys', { Name: 'test key', Scopes: scopes, ...over });
      assert.equal(res.status, 201, await res.clone().text());
      return createdKey.parse(await res.json());
    }

    it('makes a key, shows it once, lists and reads it without the secret, and revokes it', async () => {
      const res = await call(ADMIN, 'POST', '/api/v1/keys', {
        Name: 'deploy bot',
        Scopes: ['read', 'send', 'read'],
        ExpiresAt: new Date(Date.now() + 24 * HOUR).toISOString(),
      });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const made = createdKey.parse(await res.json());
      assert.match(made.Key, KEY_FORMAT);
      const parts = parseApiKey(made.Key)!;
      assert.equal(parts.id, made.ID);
      assert.deepEqual(made.Scopes, ['send', 'read']);
      assert.equal(made.Name, 'deploy bot');
      assert.equal(made.State, 'active');
      assert.equal(made.LastUsedAt, null);

      // The store keeps a hash of the secret, not the secret.
      const stored = await storage.apiKeys.apiKeyWithHash(made.ID);
      assert.equal(stored?.secretHash, hashSecret(parts.secret));

      const listRes = await call(ADMIN, 'GET', '/api/v1/keys');
      const listText = await listRes.text();
      assert.ok(!listText.includes(parts.secret));
      const list = keyList.parse(JSON.parse(listText));
      const listed = list.keys.find((k) => k.ID === made.ID);
      assert.ok(listed);
      assert.equal('Key' in listed, false);
      const oneText = await (await call(ADMIN, 'GET', `/api/v1/keys/${made.ID}`)).text();
      assert.ok(!oneText.includes(parts.secret));
      assert.deepEqual(apiKey.parse(JSON.parse(oneText)), listed);

      assert.equal((await call(ADMIN, 'DELETE', `/api/v1/keys/${made.ID}`)).status, 200);
      const revoked = apiKey.parse(await (await call(ADMIN, 'GET', `/api/v1/keys/${made.ID}`)).json());
      assert.equal(revoked.State, 'revoked');
      assert.ok(revoked.RevokedAt);
      // Revoking again changes nothing; unknown and malformed ids are refused.
      assert.equal((await call(ADMIN, 'DELETE', `/api/v1/keys/${made.ID}`)).status, 200);
      assert.equal((await call(ADMIN, 'DELETE', '/api/v1/keys/AAAAAAAAAAAAAAAAAAAAAA')).status, 404);
      assert.equal((await call(ADMIN, 'GET', '/api/v1/keys/AAAAAAAAAAAAAAAAAAAAAA')).status, 404);
      assert.equal((await problem(await call(ADMIN, 'GET', '/api/v1/keys/not-an-id'))).status, 400);

      // Nothing logged the secret.
      assert.ok(!t.logs.text.join('').includes(parts.secret));
    });

    it('accepts a stored key with its scopes only: a send key sends, and reads nothing', async () => {
      const send = await make(['send']);
      const sent = await call(send.Key, 'POST', '/api/v1/send', message);
      assert.equal(sent.status, 200, await sent.clone().text());
      const { ID } = (await sent.json()) as { ID: string };
      assert.equal((await problem(await call(send.Key, 'GET', '/api/v1/messages'))).status, 403);
      assert.equal((await call(send.Key, 'GET', `/api/v1/outbound/${ID}`)).status, 403);
      assert.equal((await call(send.Key, 'DELETE', '/api/v1/messages')).status, 403);
      assert.equal((await call(send.Key, 'GET', '/api/v1/keys')).status, 403);

      const read = await make(['read']);
      assert.equal((await call(read.Key, 'GET', '/api/v1/messages')).status, 200);
      assert.equal((await call(read.Key, 'GET', `/api/v1/outbound/${ID}`)).status, 200);
      assert.equal((await call(read.Key, 'POST', '/api/v1/send', message)).status, 403);
      // Keys are credentials: reading them needs manage, however the path is spelt.
      for (const path of ['/api/v1/keys', `/api/v1/keys/${read.ID}`, '/api/v1/%6Beys', '/api/v1/keys/']) {
        const res = await call(read.Key, 'GET', path);
        assert.ok(res.status === 403 || res.status === 404, `${path}: ${res.status}`);
      }
      assert.equal((await call(read.Key, 'GET', '/api/v1/%6Beys')).status, 403);
    });

    it('refuses to make a key with a scope its maker lacks (403), and needs manage at all', async () => {
      const escalate = await call(READ_MANAGE, 'POST', '/api/v1/keys', {
        Name: 'x',
        Scopes: ['read', 'send'],
      });
      const p = await problem(escalate);
      assert.equal(p.status, 403);
      assert.match(p.detail, /send/);
      const fine = await call(READ_MANAGE, 'POST', '/api/v1/keys', { Name: 'x', Scopes: ['read'] });
      assert.equal(fine.status, 201);
      // A stored key is held to its scopes the same way.
      const manager = await make(['manage']);
      assert.equal(
        (await call(manager.Key, 'POST', '/api/v1/keys', { Name: 'y', Scopes: ['read'] })).status,
        403,
      );
      const child = await call(manager.Key, 'POST', '/api/v1/keys', { Name: 'y', Scopes: ['manage'] });
      assert.equal(child.status, 201);
      // Without manage, not even a send key can be made.
      assert.equal((await call(SENDER, 'POST', '/api/v1/keys', { Name: 'z', Scopes: ['send'] })).status, 403);
    });

    it('refuses a revoked key with 401: at once where it was revoked, elsewhere within the cache time', async () => {
      const viaApi = await make(['read']);
      assert.equal((await call(viaApi.Key, 'GET', '/api/v1/messages')).status, 200);
      assert.equal((await call(ADMIN, 'DELETE', `/api/v1/keys/${viaApi.ID}`)).status, 200);
      const refused = await call(viaApi.Key, 'GET', '/api/v1/messages');
      assert.equal((await problem(refused)).status, 401);
      assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="Mailroom"');

      // Revoked in the store directly (`mailroom keys revoke`, another node): the cached answer
      // stands until it is KEY_CACHE_TTL_MS old, and not a moment longer.
      const viaStore = await make(['read']);
      assert.equal((await call(viaStore.Key, 'GET', '/api/v1/messages')).status, 200);
      await storage.apiKeys.revokeApiKey(viaStore.ID, new Date().toISOString());
      clock += KEY_CACHE_TTL_MS - 1;
      assert.equal((await call(viaStore.Key, 'GET', '/api/v1/messages')).status, 200);
      clock += 1;
      assert.equal((await call(viaStore.Key, 'GET', '/api/v1/messages')).status, 401);
    });

    it('refuses an expired key with 401, and keys that are no key', async () => {
      const expiring = await make(['read'], { ExpiresAt: new Date(clock + HOUR).toISOString() });
      assert.equal((await call(expiring.Key, 'GET', '/api/v1/messages')).status, 200);
      clock += HOUR;
      assert.equal((await problem(await call(expiring.Key, 'GET', '/api/v1/messages'))).status, 401);
      const listed = apiKey.parse(await (await call(ADMIN, 'GET', `/api/v1/keys/${expiring.ID}`)).json());
      // The route's clock is the real one, an hour behind the policy's here.
      assert.equal(listed.State, 'active');

      const good = await make(['read']);
      const { id, secret } = parseApiKey(good.Key)!;
      const flipped = secret.startsWith('A') ? `B${secret.slice(1)}` : `A${secret.slice(1)}`;
      for (const token of [
        `mr_${id}_${flipped}`,
        `mr_AAAAAAAAAAAAAAAAAAAAAA_${secret}`,
        good.Key.slice(0, -1),
      ]) {
        assert.equal((await call(token, 'GET', '/api/v1/messages')).status, 401, token);
      }
      assert.equal((await call(good.Key, 'GET', '/api/v1/messages')).status, 200);
    });

    it('validates the request with 400 problem JSON', async () => {
      for (const body of [
        undefined,
        '{"Name":',
        { Scopes: ['read'] },
        { Name: '', Scopes: ['read'] },
        { Name: '   ', Scopes: ['read'] },
        { Name: 'a\nb', Scopes: ['read'] },
        { Name: 'x'.repeat(101), Scopes: ['read'] },
        { Name: 'x' },
        { Name: 'x', Scopes: [] },
        { Name: 'x', Scopes: ['admin'] },
        { Name: 'x', Scopes: 'read' },
        { Name: 'x', Scopes: ['read'], ExpiresAt: 'tomorrow' },
        { Name: 'x', Scopes: ['read'], ExpiresAt: new Date(Date.now() - 1000).toISOString() },
        { Name: 'x', Scopes: ['read'], Secret: 'mine' },
      ]) {
        const res = await call(ADMIN, 'POST', '/api/v1/keys', body);
        assert.equal((await problem(res)).status, 400, JSON.stringify(body));
      }
      assert.equal((await call(ADMIN, 'GET', '/api/v1/keys?limit=0')).status, 400);
      // A name of exactly the longest length, with an offset time, is fine.
      const ok = await make(['read'], {
        Name: 'é'.repeat(100),
        ExpiresAt: new Date(Date.now() + HOUR).toISOString().replace('Z', '+00:00'),
      });
      assert.equal(ok.Name.length, 100);
      assert.ok(ok.ExpiresAt?.endsWith('Z'));
    });

    it('serves the keys through mailroom/client, and documents them in the OpenAPI document', async () => {
      const client = new MailroomClient('http://localhost', {
        token: ADMIN,
        fetch: ((input: string, init?: RequestInit) => t.app.request(input, init)) as typeof fetch,
      });
      const made = await client.createKey({ Name: 'client', Scopes: ['send'] });
      assert.match(made.Key, KEY_FORMAT);
      assert.equal((await client.getKey(made.ID)).Name, 'client');
      assert.ok((await client.listKeys({ limit: 1000 })).some((k) => k.ID === made.ID && !('Key' in k)));
      await client.revokeKey(made.ID);
      assert.equal((await client.getKey(made.ID)).State, 'revoked');
      const sender = new MailroomClient('http://localhost', {
        token: made.Key,
        fetch: ((input: string, init?: RequestInit) => t.app.request(input, init)) as typeof fetch,
      });
      await assert.rejects(sender.send(message), (err: unknown) => {
        assert.ok(err instanceof MailroomError);
        assert.equal(err.status, 401);
        return true;
      });
      await assert.rejects(
        client.createKey({ Name: 'x', Scopes: [] }),
        (err: MailroomError) => err.status === 400,
      );

      const doc = (await (await call(ADMIN, 'GET', '/api/v1/openapi.json')).json()) as {
        paths: Record<string, Record<string, { operationId: string }>>;
      };
      assert.deepEqual(
        [
          doc.paths['/api/v1/keys']?.get?.operationId,
          doc.paths['/api/v1/keys']?.post?.operationId,
          doc.paths['/api/v1/keys/{ID}']?.get?.operationId,
          doc.paths['/api/v1/keys/{ID}']?.delete?.operationId,
        ],
        ['ListKeys', 'CreateKey', 'GetKey', 'RevokeKey'],
      );
    });

    it('keeps at most 1000 keys active: the next is refused with 409 until one is revoked', async () => {
      const now = new Date().toISOString();
      const room = 1000 - (await storage.apiKeys.countActiveApiKeys(now));
      await Promise.all(
        Array.from({ length: room }, (_, i) =>
          storage.apiKeys.createApiKey(
            {
              id: `Filler${String(i).padStart(16, '0')}`,
              name: `filler ${i}`,
              scopes: ['read'],
              secretHash: hashSecret(`filler ${i}`),
              createdAt: now,
              expiresAt: null,
            },
            1000,
          ),
        ),
      );
      const refused = await call(ADMIN, 'POST', '/api/v1/keys', { Name: 'one too many', Scopes: ['read'] });
      assert.equal((await problem(refused)).status, 409);
      assert.equal((await call(ADMIN, 'DELETE', '/api/v1/keys/Filler0000000000000000')).status, 200);
      assert.equal(
        (await call(ADMIN, 'POST', '/api/v1/keys', { Name: 'room again', Scopes: ['read'] })).status,
        201,
      );
    });
  });
}

describe('requiredScope', () => {
  it('asks for manage on every key path, GET included', () => {
    assert.equal(requiredScope('GET', '/api/v1/keys', false), 'manage');
    assert.equal(requiredScope('GET', '/api/v1/keys/x', false), 'manage');
    assert.equal(requiredScope('HEAD', '/api/v1/keys', false), 'manage');
    assert.equal(requiredScope('GET', '/api/v1/keysmith', false), 'read');
    assert.equal(requiredScope('GET', '/api/v1/messages', false), 'read');
  });
});

/** An in-memory ApiKeyStore that counts its reads and records its writes. */
function fakeStore() {
  const keys = new Map<string, { key: ApiKey; secretHash: string }>();
  const calls = { lookups: 0, touches: [] as { id: string; at: string; since: string }[], fail: false };
  const store: ApiKeyStore = {
    async createApiKey(k: NewApiKey) {
      const { secretHash, ...rest } = k;
      keys.set(k.id, { key: { ...rest, lastUsedAt: null, revokedAt: null }, secretHash });
      return true;
    },
    async apiKey(id) {
      return keys.get(id)?.key ?? null;
    },
    async apiKeyWithHash(id) {
      calls.lookups++;
      if (calls.fail) throw new Error('database down');
      const k = keys.get(id);
      return k ? { key: { ...k.key }, secretHash: k.secretHash } : null;
    },
    async apiKeys() {
      return [...keys.values()].map((k) => k.key);
    },
    async countActiveApiKeys() {
      return keys.size;
    },
    async revokeApiKey(id, at) {
      const k = keys.get(id);
      if (!k) return null;
      k.key.revokedAt ??= at;
      return k.key;
    },
    async touchApiKey(id, at, since) {
      calls.touches.push({ id, at, since });
    },
  };
  return { store, calls };
}

function keyFor(id: string, secret: string, over: Partial<NewApiKey> = {}): NewApiKey {
  return {
    id,
    name: 'k',
    scopes: ['read'],
    secretHash: hashSecret(secret),
    createdAt: new Date(0).toISOString(),
    expiresAt: null,
    ...over,
  };
}

describe('ApiKeyCache', () => {
  const ID = 'CacheTestKey0000000000';
  const SECRET = 'S'.repeat(43);
  const TOKEN = `mr_${ID}_${SECRET}`;
  const T0 = Date.parse('2026-11-24T10:00:00.000Z');

  it('reads the store once per key and TTL, refusals included, and not for what is no key', async () => {
    const { store, calls } = fakeStore();
    await store.createApiKey(keyFor(ID, SECRET), 1000);
    let now = T0;
    const cache = new ApiKeyCache(store, { now: () => now });
    assert.deepEqual(await cache.verify(TOKEN), { id: ID, scopes: ['read'] });
    assert.deepEqual(
      await Promise.all([cache.verify(TOKEN), cache.verify(TOKEN)]).then((r) => r.map((k) => k?.id)),
      [ID, ID],
    );
    assert.equal(calls.lookups, 1);
    const wrong = `mr_${ID}_${'W'.repeat(43)}`;
    assert.equal(await cache.verify(wrong), null);
    assert.equal(await cache.verify(wrong), null);
    assert.equal(calls.lookups, 2);
    assert.equal(await cache.verify('not-a-mailroom-key-at-all-0123456789'), null);
    assert.equal(calls.lookups, 2);
    now += KEY_CACHE_TTL_MS;
    await cache.verify(TOKEN);
    await cache.verify(wrong);
    assert.equal(calls.lookups, 4);
  });

  it('forgets a key on demand, and does not remember a failed lookup', async () => {
    const { store, calls } = fakeStore();
    await store.createApiKey(keyFor(ID, SECRET), 1000);
    const cache = new ApiKeyCache(store, { now: () => T0 });
    assert.ok(await cache.verify(TOKEN));
    await store.revokeApiKey(ID, new Date(T0).toISOString());
    assert.ok(await cache.verify(TOKEN), 'still cached');
    cache.forget(ID);
    assert.equal(await cache.verify(TOKEN), null);

    const other = fakeStore();
    await other.store.createApiKey(keyFor(ID, SECRET), 1000);
    const flaky = new ApiKeyCache(other.store, { now: () => T0 });
    other.calls.fail = true;
    await assert.rejects(flaky.verify(TOKEN), /database down/);
    other.calls.fail = false;
    assert.ok(await flaky.verify(TOKEN));
    assert.equal(calls.lookups + other.calls.lookups, 2 + 2);
  });

  it('refuses a key from the moment it expires, cached or not', async () => {
    const { store } = fakeStore();
    await store.createApiKey(keyFor(ID, SECRET, { expiresAt: new Date(T0 + 1000).toISOString() }), 1000);
    let now = T0;
    const cache = new ApiKeyCache(store, { now: () => now });
    assert.ok(await cache.verify(TOKEN));
    now = T0 + 999;
    assert.ok(await cache.verify(TOKEN));
    now = T0 + 1000;
    assert.equal(await cache.verify(TOKEN), null);
  });

  it('records use at most once per interval, asking the store to skip a use recorded by another node', async () => {
    const { store, calls } = fakeStore();
    await store.createApiKey(keyFor(ID, SECRET), 1000);
    let now = T0;
    const cache = new ApiKeyCache(store, { now: () => now });
    for (let i = 0; i < 50; i++) {
      await cache.verify(TOKEN);
      now += 1000;
    }
    // 50 requests over 50 seconds: one write.
    assert.deepEqual(calls.touches, [
      { id: ID, at: new Date(T0).toISOString(), since: new Date(T0 - KEY_USE_INTERVAL_MS).toISOString() },
    ]);
    now = T0 + KEY_USE_INTERVAL_MS;
    await cache.verify(TOKEN);
    assert.equal(calls.touches.length, 2);
    assert.equal(calls.touches[1]!.at, new Date(T0 + KEY_USE_INTERVAL_MS).toISOString());
  });
});

describe('stored keys and the credential rule', () => {
  const BEYOND: AccessConfig = { ...LOOPBACK, httpListen: '0.0.0.0:8025' };
  const TOKEN = `mr_RuleTestKey00000000000_${'k'.repeat(43)}`;

  it('lets stored keys stand in for credentials beyond loopback, but only when one is active', async () => {
    const { store } = fakeStore();
    await assert.rejects(createAccessPolicy(BEYOND, { keys: store }), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /mailroom keys create/);
      return true;
    });
    const { id, secret } = parseApiKey(TOKEN)!;
    await store.createApiKey(keyFor(id, secret, { scopes: ['read'] }), 1000);
    const policy = await createAccessPolicy(BEYOND, { keys: store });
    assert.equal(policy.credentialsRequired, true);
    const app = new Hono<AppEnv>();
    app.use('*', policy.middleware());
    app.get('/api/v1/messages', (c) => c.text('ok'));
    app.delete('/api/v1/messages', (c) => c.text('ok'));
    const none = await app.request('/api/v1/messages', { headers: { host: 'mail.example.com' } });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="Mailroom"');
    const keyed = { host: 'mail.example.com', authorization: `Bearer ${TOKEN}` };
    assert.equal((await app.request('/api/v1/messages', { headers: keyed })).status, 200);
    assert.equal((await app.request('/api/v1/messages', { method: 'DELETE', headers: keyed })).status, 403);
  });

  it('never makes credentials required where the settings serve without them', async () => {
    const { store } = fakeStore();
    const { id, secret } = parseApiKey(TOKEN)!;
    await store.createApiKey(keyFor(id, secret), 1000);
    assert.equal((await createAccessPolicy(LOOPBACK, { keys: store })).credentialsRequired, false);
    const open = await createAccessPolicy({ ...BEYOND, httpAllowUnauthenticated: true }, { keys: store });
    assert.equal(open.credentialsRequired, false);
  });

  it('checks bearer keys beside basic-auth users, offering both challenges', async () => {
    const { store } = fakeStore();
    const { id, secret } = parseApiKey(TOKEN)!;
    await store.createApiKey(keyFor(id, secret), 1000);
    const users = { size: 1, verify: async () => false };
    const policy = await createAccessPolicy(
      { ...LOOPBACK, httpAuthFile: '/dev/null' },
      { keys: store, loadUsers: async () => users as never },
    );
    const verdict = await policy.checkUpgrade({
      method: 'GET',
      url: '/api/events',
      headers: { host: 'localhost:8025', origin: 'http://localhost:8025', authorization: `Bearer ${TOKEN}` },
    } as never);
    assert.deepEqual(verdict, {
      ok: true,
      principal: { kind: 'token', name: `key:${id}`, scopes: ['read'] },
    });
    const missing = await policy.checkUpgrade({
      method: 'GET',
      url: '/api/events',
      headers: { host: 'localhost:8025', origin: 'http://localhost:8025' },
    } as never);
    assert.equal(missing.ok, false);
    if (!missing.ok) assert.deepEqual(missing.challenges.length, 2);
  });
});
