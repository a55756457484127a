// The storage contract for inboxes, on both engines: the inbox stored with the envelope is what
// lists limited to an inbox, their totals, the `inbox:` search term, per-inbox counts and bulk
// changes through a mailbox limited to one inbox (http/mailbox.ts) all see.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mailboxOfInbox } from '../../src/http/mailbox.ts';
import { parseSearch } from '../../src/search/query.ts';
import type { Storage } from '../../src/storage/ports.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { spoolEntry } from '../helpers/fixtures.ts';

for (const backend of BACKENDS) {
  describe(`inboxes in storage: ${backend.name}`, () => {
    let storage: Storage;
    let cleanup: () => Promise<void>;
    const a1 = spoolEntry('alpha one', { inbox: 'team-a' });
    const a2 = spoolEntry('alpha two', { inbox: 'team-a' });
    const b1 = spoolEntry('beta one', { inbox: 'team-b' });
    // Stored before inboxes existed: no inbox in its envelope, so the default one.
    const d1 = spoolEntry('delta one');

    before(async () => {
      ({ storage, cleanup } = await backend.create());
      await storage.appendSpool([a1, b1, d1, a2]);
    });
    after(async () => cleanup());

    const subjects = (ids: { id: string }[]) => ids.map((m) => m.id);

    it('lists one inbox newest first, with that inbox’s totals', async () => {
      const r = await storage.list({ start: 0, limit: 10, inbox: 'team-a' });
      assert.deepEqual(subjects(r.messages), [a2.id, a1.id]);
      assert.equal(r.total, 2);
      assert.equal(r.unread, 2);
      assert.equal(r.matched, 2);
      const d = await storage.list({ start: 0, limit: 10, inbox: 'default' });
      assert.deepEqual(subjects(d.messages), [d1.id]);
      const none = await storage.list({ start: 0, limit: 10, inbox: 'nobody' });
      assert.equal(none.total, 0);
      assert.deepEqual(none.messages, []);
    });

    it('finds an inbox with inbox: and combines it with other terms and with an inbox limit', async () => {
      const r = await storage.list({ start: 0, limit: 10, query: parseSearch('inbox:team-b') });
      assert.deepEqual(subjects(r.messages), [b1.id]);
      assert.equal(r.total, 4, 'the mailbox totals stay the whole store’s');
      const not = await storage.list({ start: 0, limit: 10, query: parseSearch('-inbox:team-a') });
      assert.deepEqual(new Set(subjects(not.messages)), new Set([b1.id, d1.id]));
      const within = await storage.list({
        start: 0,
        limit: 10,
        inbox: 'team-a',
        query: parseSearch('inbox:team-b'),
      });
      assert.deepEqual(within.messages, []);
      assert.equal(within.total, 2);
    });

    it('counts messages per inbox', async () => {
      const counts = await storage.inboxCounts();
      assert.deepEqual(
        counts.map((c) => [c.inbox, c.messages, c.unread]),
        [
          ['default', 1, 1],
          ['team-a', 2, 2],
          ['team-b', 1, 1],
        ],
      );
    });

    it('keeps reads and changes of a mailbox limited to one inbox inside it', async () => {
      const box = mailboxOfInbox(storage, 'team-a');
      assert.equal(await box.get(b1.id), null);
      assert.equal(await box.getRaw(b1.id), null);
      assert.ok(await box.get(a1.id));
      assert.equal(await box.latestId(), a2.id);
      assert.deepEqual(await box.summaries([a1.id, b1.id, d1.id]).then(subjects), [a1.id]);
      assert.deepEqual(await box.setRead('all', true).then((ids) => new Set(ids)), new Set([a1.id, a2.id]));
      assert.equal((await storage.get(b1.id))?.read, false);
      assert.deepEqual(await box.setTags([b1.id, a1.id], ['x']).then((m) => [...m.keys()]), [a1.id]);
      assert.deepEqual(await box.delete([b1.id]), []);
      assert.deepEqual(await box.delete({ query: parseSearch('beta') }), []);
      assert.deepEqual(await box.delete('all').then((ids) => new Set(ids)), new Set([a1.id, a2.id]));
      const left = await storage.list({ start: 0, limit: 10 });
      assert.deepEqual(new Set(subjects(left.messages)), new Set([b1.id, d1.id]));
      assert.deepEqual(await box.stats(), { messages: 0, unread: 0, bytes: 0, databaseBytes: 0 });
    });
  });
}
