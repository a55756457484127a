// The suppression list endpoints, against every storage backend.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { suppression, suppressionList } from '../../src/http/routes/suppressions/schema.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { backendSuite, json } from './helpers.ts';

for (const backend of BACKENDS) {
  describe(`suppressions API: ${backend.name}`, () => {
    const s = backendSuite(backend);

    it('adds, lists and removes addresses, compared without case', async () => {
      const added = await s.send('PUT', '/api/v1/suppressions', {
        Address: 'Ann@One.example',
        Detail: 'asked us',
      });
      assert.equal(added.status, 200);
      const entry = suppression.parse(await json(added));
      assert.deepEqual(
        [entry.Address, entry.Reason, entry.Detail, entry.ExpiresAt],
        ['ann@one.example', 'manual', 'asked us', null],
      );
      const later = new Date(Date.now() + 3_600_000).toISOString();
      await s.send('PUT', '/api/v1/suppressions', {
        Address: 'bob@two.example',
        Reason: 'complaint',
        ExpiresAt: later,
      });
      const list = suppressionList.parse(await json(await s.get('/api/v1/suppressions')));
      assert.deepEqual(list.suppressions.map((x) => x.Address).sort(), [
        'ann@one.example',
        'bob@two.example',
      ]);
      const removed = await s.t.app.request('/api/v1/suppressions/ANN%40one.example', { method: 'DELETE' });
      assert.equal(removed.status, 200);
      const again = await s.t.app.request('/api/v1/suppressions/ann%40one.example', { method: 'DELETE' });
      assert.equal(again.status, 404);
      await s.t.app.request('/api/v1/suppressions/bob%40two.example', { method: 'DELETE' });
    });

    it('refuses what is not an address, an unknown reason or an unknown field', async () => {
      for (const body of [
        { Address: 'not an address' },
        { Address: 'a@b.example\r\nX: y' },
        { Address: 'a@b.example', Reason: 'because' },
        { Address: 'a@b.example', Until: 'tomorrow' },
        { Address: 'a@b.example', ExpiresAt: 'tomorrow' },
      ]) {
        const res = await s.send('PUT', '/api/v1/suppressions', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.headers.get('content-type'), 'application/problem+json');
      }
      assert.equal(
        suppressionList.parse(await json(await s.get('/api/v1/suppressions'))).suppressions.length,
        0,
      );
    });
  });
}
