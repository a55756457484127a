// The API key store contract: the same assertions against SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashSecret, type NewApiKey } from '../../src/domain/api-key.ts';
import { newMessageId } from '../../src/domain/ids.ts';
import type { ApiKeyStore, Storage } from '../../src/storage/ports.ts';
import { BACKENDS } from '../helpers/backends.ts';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const MINUTE = 60_000;

function newKey(over: Partial<NewApiKey> = {}): NewApiKey {
  return {
    id: newMessageId(),
    name: 'ci',
    scopes: ['send'],
    secretHash: hashSecret(`secret-${Math.random()}`),
    createdAt: at(0),
    expiresAt: null,
    ...over,
  };
}

for (const backend of BACKENDS) {
  describe(`API key store contract: ${backend.name}`, () => {
    let storage: Storage;
    let keys: ApiKeyStore;
    let cleanup: () => Promise<void>;

    before(async () => {
      const made = await backend.create();
      storage = made.storage;
      keys = storage.apiKeys;
      cleanup = made.cleanup;
    });
    after(() => cleanup());

    it('stores a key with its hash, and reads it back without it', async () => {
      const k = newKey({ name: 'deploy bot', scopes: ['send', 'read'], expiresAt: at(86_400_000) });
      assert.equal(await keys.createApiKey(k, 1000), true);
      const expected = {
        id: k.id,
        name: 'deploy bot',
        scopes: ['send', 'read'],
        createdAt: at(0),
        lastUsedAt: null,
        expiresAt: at(86_400_000),
        revokedAt: null,
      };
      assert.deepEqual(await keys.apiKey(k.id), expected);
      assert.deepEqual(await keys.apiKeyWithHash(k.id), { key: expected, secretHash: k.secretHash });
      assert.equal(await keys.apiKey(newMessageId()), null);
      assert.equal(await keys.apiKeyWithHash(newMessageId()), null);
    });

    it('lists keys newest first, revoked ones included, a page at a time', async () => {
      const older = newKey({ createdAt: at(1000), name: 'older' });
      const newer = newKey({ createdAt: at(2000), name: 'newer' });
      await keys.createApiKey(older, 1000);
      await keys.createApiKey(newer, 1000);
      await keys.revokeApiKey(older.id, at(3000));
      const all = await keys.apiKeys({ start: 0, limit: 100 });
      const names = all.map((k) => k.name);
      assert.ok(names.indexOf('newer') < names.indexOf('older'), names.join());
      assert.equal(all.find((k) => k.id === older.id)?.revokedAt, at(3000));
      const page = await keys.apiKeys({ start: 1, limit: 1 });
      assert.equal(page.length, 1);
      assert.equal(page[0]!.id, all[1]!.id);
    });

    it('revokes once: a second revocation keeps the first time; unknown ids give null', async () => {
      const k = newKey();
      await keys.createApiKey(k, 1000);
      assert.equal((await keys.revokeApiKey(k.id, at(5000)))?.revokedAt, at(5000));
      assert.equal((await keys.revokeApiKey(k.id, at(9000)))?.revokedAt, at(5000));
      assert.equal((await keys.apiKey(k.id))?.revokedAt, at(5000));
      assert.equal(await keys.revokeApiKey(newMessageId(), at(5000)), null);
    });

    it('records a use only when none is recorded after `since`', async () => {
      const k = newKey();
      await keys.createApiKey(k, 1000);
      await keys.touchApiKey(k.id, at(MINUTE), at(0));
      assert.equal((await keys.apiKey(k.id))?.lastUsedAt, at(MINUTE));
      // Thirty seconds later, with a minute's spacing asked for: not written.
      await keys.touchApiKey(k.id, at(MINUTE + 30_000), at(30_000));
      assert.equal((await keys.apiKey(k.id))?.lastUsedAt, at(MINUTE));
      await keys.touchApiKey(k.id, at(2 * MINUTE), at(MINUTE));
      assert.equal((await keys.apiKey(k.id))?.lastUsedAt, at(2 * MINUTE));
      // Unknown ids are ignored.
      await keys.touchApiKey(newMessageId(), at(0), at(0));
    });

    it('counts active keys and refuses a key beyond the cap, counting neither revoked nor expired ones', async () => {
      // Far in the future of the other tests' keys, so their expiries do not matter here.
      const base = 1000 * 86_400_000;
      const now = at(base);
      const before = await keys.countActiveApiKeys(now);
      const cap = before + 2;
      const a = newKey({ createdAt: now });
      const b = newKey({ createdAt: now, expiresAt: at(base + MINUTE) });
      assert.equal(await keys.createApiKey(a, cap), true);
      assert.equal(await keys.createApiKey(b, cap), true);
      assert.equal(await keys.countActiveApiKeys(now), cap);
      const c = newKey({ createdAt: now });
      assert.equal(await keys.createApiKey(c, cap), false);
      assert.equal(await keys.apiKey(c.id), null);
      // Once b has expired there is room again; revoking a makes more.
      const later = at(base + 2 * MINUTE);
      assert.equal(await keys.countActiveApiKeys(later), cap - 1);
      assert.equal(await keys.createApiKey({ ...c, createdAt: later }, cap), true);
      assert.equal(await keys.createApiKey(newKey({ createdAt: later }), cap), false);
      await keys.revokeApiKey(a.id, later);
      assert.equal(await keys.createApiKey(newKey({ createdAt: later }), cap), true);
    });

    it('holds the cap when keys are created at the same moment', async () => {
      // Several rounds: in the first, a connection pool may still be opening its connections one
      // by one, which would keep the creates apart.
      for (let round = 0; round < 5; round++) {
        const now = at((2000 + round) * 86_400_000);
        const cap = (await keys.countActiveApiKeys(now)) + 3;
        const results = await Promise.all(
          Array.from({ length: 8 }, () => keys.createApiKey(newKey({ createdAt: now }), cap)),
        );
        assert.equal(results.filter(Boolean).length, 3, `round ${round}`);
        assert.equal(await keys.countActiveApiKeys(now), cap);
      }
    });
  });
}
