// The write side of the messages API (DELETE and PUT /api/v1/messages) and /api/v1/info,
// against every storage backend.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKENDS } from '../helpers/backends.ts';
import { simpleMessage } from './fixtures.ts';
import { backendSuite, json, type List, store } from './helpers.ts';

type Body = Record<string, unknown>;

for (const backend of BACKENDS) {
  describe(`messages API writes: ${backend.name}`, () => {
    const s = backendSuite(backend);

    it('deletes the given ids, then everything when no ids are given', async () => {
      const a = await store(s.storage, s.parser, simpleMessage('A'));
      const b = await store(s.storage, s.parser, simpleMessage('B'));
      const c = await store(s.storage, s.parser, simpleMessage('C'));
      const res = await s.send('DELETE', '/api/v1/messages', { IDs: [a, c] });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'ok');
      assert.deepEqual(
        (await json<List>(await s.get('/api/v1/messages'))).messages.map((m) => m.ID),
        [b],
      );
      assert.equal((await s.get(`/api/v1/message/${a}`)).status, 404);
      await store(s.storage, s.parser, simpleMessage('D'));
      assert.equal((await s.t.app.request('/api/v1/messages', { method: 'DELETE' })).status, 200);
      assert.equal((await json<List>(await s.get('/api/v1/messages'))).total, 0);
      await store(s.storage, s.parser, simpleMessage('E'));
      assert.equal((await s.send('DELETE', '/api/v1/messages', { IDs: [] })).status, 200);
      assert.equal((await json<List>(await s.get('/api/v1/messages'))).total, 0);
    });

    it('refuses a DELETE body that is not valid JSON instead of deleting everything', async () => {
      await store(s.storage, s.parser, simpleMessage('Keep'));
      const res = await s.t.app.request('/api/v1/messages', { method: 'DELETE', body: '{"IDs": [' });
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      assert.equal((await json<List>(await s.get('/api/v1/messages'))).total, 1);
    });

    it('sets read state for given ids or for all', async () => {
      const a = await store(s.storage, s.parser, simpleMessage('A'));
      await store(s.storage, s.parser, simpleMessage('B'));
      assert.equal((await s.send('PUT', '/api/v1/messages', { IDs: [a], Read: true })).status, 200);
      let list = await json<List>(await s.get('/api/v1/messages'));
      assert.equal(list.unread, 1);
      assert.equal(list.messages.find((m) => m.ID === a)?.Read, true);
      assert.equal((await s.send('PUT', '/api/v1/messages', { Read: true })).status, 200);
      assert.equal((await json<List>(await s.get('/api/v1/messages'))).unread, 0);
      assert.equal((await s.send('PUT', '/api/v1/messages', { IDs: [], Read: false })).status, 200);
      list = await json<List>(await s.get('/api/v1/messages'));
      assert.equal(list.unread, 2);
      const bad = await s.send('PUT', '/api/v1/messages', { IDs: [a], Read: 'yes' });
      assert.equal(bad.status, 400);
      assert.match(String((await json(bad)).detail), /Read/);
    });

    it('reports AppInformation with totals and runtime counters', async () => {
      const a = await store(s.storage, s.parser, simpleMessage('A'));
      await store(s.storage, s.parser, simpleMessage('B'));
      await s.get(`/api/v1/message/${a}`);
      s.t.deps.metrics.messagesAccepted.inc({ listener: 'smtp' }, 2);
      s.t.deps.metrics.messagesAccepted.inc({ listener: 'submission' });
      s.t.deps.metrics.bytesAccepted.inc({}, 1234);
      const before = (await json(await s.get('/api/v1/info'))).RuntimeStats as Body;
      await s.send('DELETE', '/api/v1/messages', { IDs: [a] });
      const info = await json(await s.get('/api/v1/info'));
      assert.equal(info.Version, '9.8.7-test');
      assert.equal(info.LatestVersion, '');
      assert.equal(info.Messages, 1);
      assert.equal(info.Unread, 1);
      assert.deepEqual(info.Tags, {});
      assert.equal(typeof info.Database, 'string');
      assert.ok((info.DatabaseSize as number) > 0);
      const rt = info.RuntimeStats as Body;
      assert.ok((rt.Uptime as number) >= 5);
      assert.ok((rt.Memory as number) > 0);
      assert.equal(rt.MessagesDeleted, (before.MessagesDeleted as number) + 1);
      assert.equal(rt.SMTPAccepted, 3);
      assert.equal(rt.SMTPAcceptedSize, 1234);
      assert.equal(rt.SMTPRejected, 0);
      assert.equal(rt.SMTPIgnored, 0);
    });
  });
}
