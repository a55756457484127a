// Cross-cutting behaviour of the HTTP app: probes, metrics, problem JSON, security headers,
// body limits, request logging, and one round trip over a real listening socket.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHttp } from '../../src/http/server.ts';
import type { ParsePool } from '../../src/mime/parse-pool.ts';
import type { Storage } from '../../src/storage/ports.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { latin1Message } from './fixtures.ts';
import { json, makeApp, startParser, store, type TestApp } from './helpers.ts';

const sqlite = BACKENDS.find((b) => b.name === 'sqlite')!;

describe('HTTP app', () => {
  let storage: Storage;
  let cleanup: () => Promise<void>;
  let parser: ParsePool;
  let at: { dataDir: string; databaseUrl: string };
  let t: TestApp;

  before(async () => {
    const created = await sqlite.create();
    ({ storage, cleanup } = created);
    at = created;
    parser = startParser();
    t = await makeApp(storage, parser, at);
  });
  after(async () => {
    await parser.close();
    await cleanup();
  });

  it('answers /livez always and /readyz only when ready', async () => {
    assert.equal((await t.app.request('/livez')).status, 200);
    assert.equal((await t.app.request('/readyz')).status, 200);
    t.setReady(false);
    try {
      assert.equal((await t.app.request('/livez')).status, 200);
      const res = await t.app.request('/readyz');
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      const p = await json(res);
      assert.equal(p.status, 503);
      assert.equal(p.type, 'urn:mailroom:problem:not-ready');
    } finally {
      t.setReady(true);
    }
  });

  it('answers /readyz with 503 when the database does not respond', async () => {
    const down = Object.create(storage, {
      ping: { value: () => Promise.reject(new Error('connection refused')) },
    }) as Storage;
    const res = await (await makeApp(down, parser, at)).app.request('/readyz');
    assert.equal(res.status, 503);
    assert.match(String((await json(res)).detail), /database/);
  });

  it('serves Prometheus text on /metrics', async () => {
    t.deps.metrics.messagesAccepted.inc({ listener: 'smtp' });
    const res = await t.app.request('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^# TYPE mailroom_messages_accepted_total counter$/m);
    assert.match(text, /^mailroom_messages_accepted_total\{listener="smtp"\} 1$/m);
  });

  it('answers unknown routes with 404 problem JSON', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['GET', '/api/v1/unknown'],
      ['POST', '/api/v1/messages'],
    ] as const) {
      const res = await t.app.request(path, { method });
      assert.equal(res.status, 404, path);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      const p = await json(res);
      assert.deepEqual(Object.keys(p).sort(), ['detail', 'status', 'title', 'type']);
      assert.equal(p.type, 'urn:mailroom:problem:not-found');
    }
  });

  it('answers bad list query values with 400 problem JSON', async () => {
    for (const q of [
      'start=-1',
      'start=abc',
      'limit=0',
      'limit=1e3',
      'limit=999999',
      'limit=',
      'start=1.5',
    ]) {
      const res = await t.app.request(`/api/v1/messages?${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      const p = await json(res);
      assert.equal(p.type, 'urn:mailroom:problem:bad-request');
      assert.match(String(p.detail), /start|limit/);
    }
    assert.equal((await t.app.request('/api/v1/messages?start=0&limit=1&other=x')).status, 200);
  });

  it('puts the security headers on every response, errors included', async () => {
    for (const path of ['/livez', '/api/v1/messages', '/api/v1/message/latest', '/missing']) {
      const res = await t.app.request(path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, path);
    }
  });

  it('refuses bodies over 1 MiB with 413, declared or streamed', async () => {
    const big = JSON.stringify({ IDs: ['x'.repeat(1024 * 1024)] });
    const declared = await t.app.request('/api/v1/messages', {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(big.length) },
      body: big,
    });
    assert.equal(declared.status, 413);
    assert.equal(declared.headers.get('content-type'), 'application/problem+json');
    assert.equal((await json(declared)).status, 413);
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 64 * 1024)
          controller.enqueue(bytes.subarray(i, i + 64 * 1024));
        controller.close();
      },
    });
    const streamed = await t.app.request('/api/v1/messages', {
      method: 'DELETE',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    assert.equal(streamed.status, 413);
  });

  it('logs each request at debug level with an id, never its Authorization header or body', async () => {
    t.logs.lines.length = 0;
    t.logs.text.length = 0;
    const res = await t.app.request('/api/v1/messages', {
      method: 'PUT',
      headers: {
        Authorization: 'Bearer s3cret-token',
        'Content-Type': 'application/json',
        'X-Request-Id': 'req-42',
      },
      body: JSON.stringify({ IDs: ['body-marker-xyz'], Read: true }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'req-42');
    const line = t.logs.lines.find((l) => l.msg === 'http request');
    assert.ok(line, 'a request log line');
    assert.equal(line.level, 'debug');
    assert.equal(line.reqId, 'req-42');
    assert.equal(line.method, 'PUT');
    assert.equal(line.path, '/api/v1/messages');
    assert.equal(line.status, 200);
    assert.equal(typeof line.ms, 'number');
    const all = t.logs.text.join('');
    assert.doesNotMatch(all, /s3cret-token/);
    assert.doesNotMatch(all, /body-marker-xyz/);
    const generated = await t.app.request('/livez', { headers: { 'X-Request-Id': 'bad id <with spaces>' } });
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('serves over a real listening socket', async () => {
    const raw = latin1Message();
    const id = await store(storage, parser, raw);
    const server = await startHttp(t.app, '127.0.0.1:0');
    try {
      assert.ok(server.address.port > 0);
      const base = `http://127.0.0.1:${server.address.port}`;
      const list = await fetch(`${base}/api/v1/messages`);
      assert.equal(list.status, 200);
      assert.ok((await json<{ messages: { ID: string }[] }>(list)).messages.some((m) => m.ID === id));
      const res = await fetch(`${base}/api/v1/message/${id}/raw`);
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), raw);
      const missing = await fetch(`${base}/api/v1/message/latest/part/99`);
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get('content-type'), 'application/problem+json');
    } finally {
      await server.close();
    }
    await assert.rejects(fetch(`http://127.0.0.1:${server.address.port}/livez`));
  });
});
