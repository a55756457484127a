// The routes in force: the routes file, the stored routes, and a router rebuilt when another node
// changes them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Route } from '../../src/domain/route.ts';
import { loadRoutesFile, RouteBook } from '../../src/routing/route-book.ts';
import type { SqliteStorage } from '../../src/storage/sqlite/store.ts';
import { sqliteForSuite, tempDir } from '../helpers/backends.ts';

const NOW = '2026-11-24T10:00:00.000Z';

function stored(id: string, priority: number): Route {
  return {
    id,
    name: id,
    priority,
    enabled: true,
    match: 'all',
    conditions: [],
    actions: [{ type: 'store', tags: [] }],
    source: 'api',
    createdAt: NOW,
    updatedAt: NOW,
  };
}

describe('routes file', () => {
  const dir = tempDir();
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, routes: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(routes));
    return file;
  };

  it('reads routes with the API shape, as read-only config routes', () => {
    const file = write('ok.json', [
      {
        ID: 'invoices',
        Name: 'invoices',
        Priority: 5,
        Conditions: [{ Field: 'recipient', Op: 'glob', Value: 'invoices@*' }],
        Actions: [
          {
            Type: 'publish',
            Target: { Kind: 'nats', Servers: 'nats://127.0.0.1:4222', Subject: 'mail.invoices' },
          },
        ],
      },
    ]);
    const [r] = loadRoutesFile(file, NOW);
    assert.equal(r?.source, 'config');
    assert.deepEqual(r?.conditions, [{ field: 'recipient', op: 'glob', value: 'invoices@*' }]);
    assert.deepEqual(r?.actions, [
      {
        type: 'publish',
        target: {
          kind: 'nats',
          servers: 'nats://127.0.0.1:4222',
          subject: 'mail.invoices',
          jetstream: false,
        },
      },
    ]);
  });

  it('names what is wrong: the place in the file, a repeated ID, bad JSON', () => {
    assert.throws(
      () => loadRoutesFile(write('a.json', [{ ID: 'x', Name: 'x', Actions: [{ Type: 'nope' }] }]), NOW),
      /at 0\.Actions\.0/,
    );
    const twice = [
      { ID: 'x', Name: 'x', Actions: [{ Type: 'stop' }] },
      { ID: 'x', Name: 'y', Actions: [{ Type: 'stop' }] },
    ];
    assert.throws(() => loadRoutesFile(write('b.json', twice), NOW), /route x appears twice/);
    fs.writeFileSync(path.join(dir, 'c.json'), '[{');
    assert.throws(() => loadRoutesFile(path.join(dir, 'c.json'), NOW), /routes file .*c\.json/);
  });
});

describe('route book', () => {
  const opened = sqliteForSuite();
  let storage: SqliteStorage;
  before(() => {
    storage = opened();
  });

  it('merges file and stored routes and rebuilds its router when the stored ones change', async () => {
    let now = 0;
    const file = { ...stored('from-file', 20), source: 'config' as const };
    const book = new RouteBook({
      store: storage.routes,
      fileRoutes: [file],
      budgetMs: 100,
      now: () => now,
      recheckMs: 1000,
    });
    await storage.routes.saveRoute(stored('early', 10), 100);
    const first = await book.router();
    assert.deepEqual(
      first.routes.map((r) => r.id),
      ['early', 'from-file'],
    );
    assert.equal(book.isFileRoute('from-file'), true);
    // Another node adds a route: seen once the recheck interval has passed.
    await storage.routes.saveRoute(stored('late', 30), 100);
    now += 500;
    assert.equal(await book.router(), first);
    now += 600;
    const second = await book.router();
    assert.notEqual(second, first);
    assert.deepEqual(
      second.routes.map((r) => r.id),
      ['early', 'from-file', 'late'],
    );
    // Unchanged: the same router.
    now += 2000;
    assert.equal(await book.router(), second);
  });
});
