// The route store contract: the same assertions against SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Route } from '../../src/domain/route.ts';
import type { Storage } from '../../src/storage/ports.ts';
import { BACKENDS } from '../helpers/backends.ts';

const at = (s: number) => new Date(Date.parse('2026-11-24T10:00:00.000Z') + s * 1000).toISOString();

function route(id: string, over: Partial<Route> = {}): Route {
  return {
    id,
    name: `route ${id}`,
    priority: 10,
    enabled: true,
    match: 'all',
    conditions: [{ field: 'recipient', op: 'regex', value: '^support-(?<ticket>\\d+)@' }],
    actions: [{ type: 'webhook', url: 'https://hooks.example/in', attachments: 'url' }, { type: 'stop' }],
    source: 'api',
    createdAt: at(0),
    updatedAt: at(0),
    ...over,
  };
}

for (const backend of BACKENDS) {
  describe(`route store contract: ${backend.name}`, () => {
    let storage: Storage;
    let cleanup: () => Promise<void>;
    before(async () => {
      const made = await backend.create();
      storage = made.storage;
      cleanup = made.cleanup;
    });
    after(() => cleanup());

    it('saves, lists by priority then id, replaces, and deletes routes', async () => {
      const store = storage.routes;
      const v0 = await store.routesVersion();
      assert.equal(await store.saveRoute(route('b', { priority: 5 }), 10), true);
      assert.equal(
        await store.saveRoute(route('a', { priority: 5, enabled: false, match: 'any' }), 10),
        true,
      );
      assert.equal(await store.saveRoute(route('c', { priority: 1 }), 10), true);
      const v1 = await store.routesVersion();
      assert.notEqual(v1, v0);
      assert.deepEqual(
        (await store.routes()).map((r) => r.id),
        ['c', 'a', 'b'],
      );
      assert.deepEqual(await store.route('b'), route('b', { priority: 5 }));
      const a = await store.route('a');
      assert.equal(a?.enabled, false);
      assert.equal(a?.match, 'any');

      // A replacement keeps its creation time.
      const changed = route('b', {
        name: 'renamed',
        priority: 50,
        actions: [{ type: 'store', tags: ['x'] }],
        updatedAt: at(60),
        createdAt: at(60),
      });
      assert.equal(await store.saveRoute(changed, 10), true);
      const b = await store.route('b');
      assert.equal(b?.name, 'renamed');
      assert.equal(b?.createdAt, at(0));
      assert.equal(b?.updatedAt, at(60));
      assert.deepEqual(b?.actions, [{ type: 'store', tags: ['x'] }]);
      assert.notEqual(await store.routesVersion(), v1);

      const v2 = await store.routesVersion();
      assert.equal(await store.deleteRoute('a'), true);
      assert.equal(await store.deleteRoute('a'), false);
      assert.equal(await store.route('a'), null);
      assert.notEqual(await store.routesVersion(), v2);
    });

    it('refuses a new route beyond the limit, but still replaces existing ones', async () => {
      const store = storage.routes;
      for (const r of await store.routes()) await store.deleteRoute(r.id);
      assert.equal(await store.saveRoute(route('one'), 2), true);
      assert.equal(await store.saveRoute(route('two'), 2), true);
      assert.equal(await store.saveRoute(route('three'), 2), false);
      assert.equal(await store.route('three'), null);
      assert.equal(await store.saveRoute(route('two', { name: 'again', updatedAt: at(5) }), 2), true);
      // Concurrent creations do not pass the limit together.
      await store.deleteRoute('two');
      const results = await Promise.all(['p', 'q', 'r'].map((id) => store.saveRoute(route(id), 2)));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await store.routes()).length, 2);
    });
  });
}
