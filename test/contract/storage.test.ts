// The storage contract: the same assertions against every backend (SQLite and PostgreSQL).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { ParsedMessage } from '../../src/domain/message.ts';
import { parseSearch } from '../../src/search/query.ts';
import type { Storage } from '../../src/storage/ports.ts';
import { PostgresStorage } from '../../src/storage/postgres/store.ts';
import { storedParse } from '../../src/storage/rows.ts';
import { SqliteStorage } from '../../src/storage/sqlite/store.ts';
import { BACKENDS, type Backend, freshPostgresDatabase, tempDir } from '../helpers/backends.ts';
import { spoolEntry } from '../helpers/fixtures.ts';

/** A second handle on the same store, as another process (or node) would open it. */
function openPeer(backend: Backend, at: { dataDir: string; databaseUrl: string }): Promise<Storage> {
  return backend.name === 'postgres' ? PostgresStorage.open(at.databaseUrl) : SqliteStorage.open(at.dataDir);
}

function parsed(subject: string): ParsedMessage {
  return {
    messageId: `${subject}@example.test`,
    subject,
    date: '2026-11-23T10:00:00.000Z',
    from: { Name: 'Sender', Address: 'sender@example.test' },
    to: [{ Name: '', Address: 'rcpt@example.test' }],
    cc: [],
    bcc: [],
    replyTo: [],
    returnPath: 'sender@example.test',
    text: `text of ${subject}`,
    html: `<p>${subject}</p>`,
    snippet: `text of ${subject}`,
    attachments: [
      {
        PartID: '2',
        FileName: 'a.txt',
        ContentType: 'text/plain',
        ContentID: '',
        Size: 3,
        Checksums: { MD5: 'm', SHA1: 's1', SHA256: 's256' },
      },
    ],
    inline: [],
    listUnsubscribe: { header: '', links: [], post: '', errors: '' },
  };
}

for (const backend of BACKENDS) {
  describe(`storage contract: ${backend.name}`, () => {
    let storage: Storage;
    let cleanup: () => Promise<void>;
    let location: { dataDir: string; databaseUrl: string };

    before(async () => {
      const created = await backend.create();
      storage = created.storage;
      cleanup = created.cleanup;
      location = { dataDir: created.dataDir, databaseUrl: created.databaseUrl };
    });
    after(async () => {
      await cleanup();
    });

    it('reports its engine', () => {
      assert.equal(storage.capabilities.engine, backend.name);
    });

    it('commits spool entries and returns the exact raw bytes', async () => {
      await storage.delete('all');
      const e = spoolEntry('bytes');
      // Every byte value, to catch any text conversion of the BLOB/BYTEA column.
      const raw = new Uint8Array(512);
      for (let i = 0; i < raw.length; i++) raw[i] = i % 256;
      await storage.appendSpool([{ ...e, raw }]);
      const back = await storage.getRaw(e.id);
      assert.ok(back);
      assert.deepEqual(Buffer.from(back), Buffer.from(raw));
      assert.equal(await storage.getRaw('nope'), null);
    });

    it('keeps the envelope and lists newest first with totals', async () => {
      await storage.delete('all');
      const a = spoolEntry('a', { rcptTo: ['x@example.test', 'y@example.test'], authUser: 'alice' });
      const b = spoolEntry('b');
      await storage.appendSpool([a]);
      await storage.appendSpool([b]);
      const res = await storage.list({ start: 0, limit: 10 });
      assert.equal(res.total, 2);
      assert.equal(res.unread, 2);
      assert.deepEqual(
        res.messages.map((m) => m.id),
        [b.id, a.id],
      );
      const m = res.messages[1]!;
      assert.deepEqual(m.envelope.rcptTo, ['x@example.test', 'y@example.test']);
      assert.equal(m.envelope.authUser, 'alice');
      assert.equal(m.parseState, 'pending');
      assert.equal(m.size, a.raw.byteLength);
      assert.equal(await storage.latestId(), b.id);
      const page = await storage.list({ start: 1, limit: 1 });
      assert.deepEqual(
        page.messages.map((x) => x.id),
        [a.id],
      );
    });

    it('commits a batch all together, and concurrent appends all land', async () => {
      await storage.delete('all');
      const entries = Array.from({ length: 50 }, (_, i) => spoolEntry(`c${i}`));
      await Promise.all(entries.map((e) => storage.appendSpool([e])));
      const res = await storage.list({ start: 0, limit: 100 });
      assert.equal(res.total, 50);
      assert.deepEqual(new Set(res.messages.map((m) => m.id)), new Set(entries.map((e) => e.id)));
    });

    it('shares commits between concurrent appends (group commit)', async () => {
      await storage.delete('all');
      const batches: number[] = [];
      const adapter = storage as Storage & { onCommit: ((size: number, ms: number) => void) | null };
      adapter.onCommit = (size) => batches.push(size);
      try {
        await Promise.all(Array.from({ length: 100 }, (_, i) => storage.appendSpool([spoolEntry(`g${i}`)])));
      } finally {
        adapter.onCommit = null;
      }
      // 100 appends issued together need far fewer than 100 commits (fsyncs).
      assert.ok(batches.length < 50, `${batches.length} commits for 100 appends`);
      assert.ok(Math.max(...batches) > 1);
    });

    it('rejects a duplicate id without touching the stored message', async () => {
      await storage.delete('all');
      const e = spoolEntry('dup');
      await storage.appendSpool([e]);
      await assert.rejects(storage.appendSpool([{ ...e, raw: new Uint8Array([1, 2, 3]) }]));
      assert.equal((await storage.getRaw(e.id))?.byteLength, e.raw.byteLength);
      // A failed batch leaves no half: the good entry next to the duplicate is not stored either.
      const good = spoolEntry('good');
      await assert.rejects(storage.appendSpool([good, e]));
      assert.equal(await storage.get(good.id), null);
    });

    it('tracks parsing: pending, parsed, failed', async () => {
      await storage.delete('all');
      const ok = spoolEntry('ok');
      const bad = spoolEntry('bad');
      await storage.appendSpool([ok, bad]);
      assert.deepEqual(await storage.pendingParse(10), [ok.id, bad.id]);
      await storage.saveParsed([{ id: ok.id, result: { ok: true, parsed: parsed('ok') } }]);
      await storage.saveParsed([{ id: bad.id, result: { ok: false, error: 'boundary never closed' } }]);
      assert.deepEqual(await storage.pendingParse(10), []);
      const got = await storage.get(ok.id);
      assert.equal(got?.parseState, 'parsed');
      assert.equal(got?.subject, 'ok');
      assert.equal(got?.from?.Address, 'sender@example.test');
      assert.equal(got?.attachmentCount, 1);
      assert.equal(got?.parsed?.html, '<p>ok</p>');
      assert.equal(got?.parsed?.attachments[0]?.FileName, 'a.txt');
      const failed = await storage.get(bad.id);
      assert.equal(failed?.parseState, 'failed');
      assert.equal(failed?.parseError, 'boundary never closed');
      assert.equal(failed?.parsed, null);
      // Saving a result for a message deleted meanwhile is harmless.
      await storage.delete([ok.id]);
      await storage.saveParsed([{ id: ok.id, result: { ok: true, parsed: parsed('ok') } }]);
      assert.equal(await storage.get(ok.id), null);
    });

    it('gives a parse its messages in one read, and stores a parse in its stored form', async () => {
      await storage.delete('all');
      const [a, b, gone] = [spoolEntry('a'), spoolEntry('b'), spoolEntry('gone')];
      await storage.appendSpool([a, b, gone]);
      await storage.delete([gone.id]);
      const got = await storage.toParse([b.id, gone.id, a.id, 'no-such-id']);
      assert.deepEqual(got.map((e) => e.id).sort(), [a.id, b.id].sort());
      for (const e of got) {
        const sent = e.id === a.id ? a : b;
        assert.deepEqual(Buffer.from(e.raw), Buffer.from(sent.raw));
        assert.deepEqual(e.envelope, sent.envelope);
      }
      assert.deepEqual(await storage.toParse([]), []);
      // The parse pipeline's form: JSON, search document and listing columns made elsewhere.
      await storage.saveParsed([
        { id: a.id, result: { ok: true, stored: storedParse(parsed('stored form')) } },
      ]);
      const saved = await storage.get(a.id);
      assert.equal(saved?.parseState, 'parsed');
      assert.equal(saved?.subject, 'stored form');
      assert.equal(saved?.parsed?.attachments[0]?.FileName, 'a.txt');
      const q = parseSearch('subject:"stored form"');
      assert.equal((await storage.list({ start: 0, limit: 10, query: q })).matched, 1);
    });

    it('marks read and unread, and deletes some or all', async () => {
      await storage.delete('all');
      const es = [spoolEntry('1'), spoolEntry('2'), spoolEntry('3')];
      await storage.appendSpool(es);
      assert.equal((await storage.setRead([es[0]!.id], true)).length, 1);
      assert.equal((await storage.setRead([es[0]!.id], true)).length, 0);
      assert.equal((await storage.list({ start: 0, limit: 10 })).unread, 2);
      assert.equal((await storage.setRead('all', true)).length, 2);
      assert.equal((await storage.stats()).unread, 0);
      assert.equal((await storage.setRead('all', false)).length, 3);
      assert.equal((await storage.delete([es[1]!.id, 'missing'])).length, 1);
      assert.equal(await storage.getRaw(es[1]!.id), null);
      const stats = await storage.stats();
      assert.equal(stats.messages, 2);
      assert.equal(stats.bytes, es[0]!.raw.byteLength + es[2]!.raw.byteLength);
      assert.equal((await storage.delete('all')).length, 2);
      assert.equal((await storage.list({ start: 0, limit: 10 })).total, 0);
      assert.equal(await storage.latestId(), null);
    });

    it('fails only the bad call among appends that share a commit', async () => {
      await storage.delete('all');
      const first = spoolEntry('first');
      await storage.appendSpool([first]);
      const lonelyGood = spoolEntry('lonely good');
      // Fired together, so group-committing adapters put them in one shared transaction.
      const calls = [
        ...Array.from({ length: 10 }, (_, i) => [spoolEntry(`before ${i}`)]),
        [{ ...first, raw: new Uint8Array([9]) }],
        [lonelyGood, { ...first, raw: new Uint8Array([9]) }],
        ...Array.from({ length: 10 }, (_, i) => [spoolEntry(`after ${i}`)]),
      ];
      const outcomes = await Promise.allSettled(calls.map((c) => storage.appendSpool(c)));
      assert.deepEqual(
        outcomes.flatMap((o, i) => (o.status === 'rejected' ? [i] : [])),
        [10, 11],
      );
      assert.equal((await storage.list({ start: 0, limit: 100 })).total, 21);
      assert.equal(await storage.get(lonelyGood.id), null);
      assert.equal((await storage.getRaw(first.id))?.byteLength, first.raw.byteLength);
    });

    it('shares one store between two handles appending at once', async () => {
      await storage.delete('all');
      const peer = await openPeer(backend, location);
      try {
        const mine = Array.from({ length: 40 }, (_, i) => spoolEntry(`mine ${i}`));
        const theirs = Array.from({ length: 40 }, (_, i) => spoolEntry(`theirs ${i}`));
        await Promise.all([
          ...mine.map((e) => storage.appendSpool([e])),
          ...theirs.map((e) => peer.appendSpool([e])),
        ]);
        const seen = await peer.list({ start: 0, limit: 100 });
        assert.equal(seen.total, 80);
        const seqs = seen.messages.map((m) => m.seq);
        assert.ok(seqs.every((n) => typeof n === 'number' && Number.isInteger(n)));
        assert.equal(new Set(seqs).size, 80);
        assert.deepEqual(
          seqs,
          [...seqs].sort((a, b) => b - a),
        );
        // An id taken through one handle is taken for the other.
        await assert.rejects(peer.appendSpool([mine[0]!]));
        assert.equal((await peer.setRead([mine[0]!.id], true)).length, 1);
        assert.equal((await storage.get(mine[0]!.id))?.read, true);
      } finally {
        await peer.close();
      }
    });

    it('migrates once when several processes open a new store together', async () => {
      // Four handles racing on an empty store: every one must open, and the schema applies once.
      const pgdb = backend.name === 'postgres' ? await freshPostgresDatabase() : null;
      const dir = tempDir();
      const open = () => (pgdb ? PostgresStorage.open(pgdb.url) : SqliteStorage.open(dir));
      try {
        const nodes: Storage[] = await Promise.all(Array.from({ length: 4 }, open));
        const e = spoolEntry('after migration');
        await nodes[0]!.appendSpool([e]);
        assert.equal(await nodes[3]!.latestId(), e.id);
        await Promise.all(nodes.map((n) => n.close()));
      } finally {
        await pgdb?.drop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('stores NUL characters from the wire and from decoded parts', async () => {
      await storage.delete('all');
      const e = spoolEntry('nul', { helo: 'bad\u0000helo' });
      await storage.appendSpool([e]);
      const p = parsed('nul');
      await storage.saveParsed([
        { id: e.id, result: { ok: true, parsed: { ...p, subject: 'a\u0000b', text: 'x\u0000y' } } },
      ]);
      const got = await storage.get(e.id);
      // The parsed body is exact; summary copies may carry U+FFFD where the engine's text type
      // cannot hold NUL (PostgreSQL).
      assert.equal(got?.parsed?.text, 'x\u0000y');
      assert.equal(got?.parsed?.subject, 'a\u0000b');
      assert.match(got?.subject ?? '', /^a[\u0000\uFFFD]b$/);
      assert.match(got?.envelope.helo ?? '', /^bad[\u0000\uFFFD]helo$/);
    });

    it('reports sizes and counts as numbers', async () => {
      await storage.delete('all');
      const es = [spoolEntry('n1'), spoolEntry('n2')];
      await storage.appendSpool(es);
      const stats = await storage.stats();
      assert.deepEqual(
        { messages: stats.messages, unread: stats.unread, bytes: stats.bytes },
        { messages: 2, unread: 2, bytes: es[0]!.raw.byteLength + es[1]!.raw.byteLength },
      );
      assert.equal(typeof stats.databaseBytes, 'number');
      assert.ok(stats.databaseBytes > 0);
      const m = (await storage.list({ start: 0, limit: 1 })).messages[0]!;
      assert.equal(typeof m.size, 'number');
      assert.equal(typeof m.attachmentCount, 'number');
    });

    it('takes any number of ids in one call', async () => {
      await storage.delete('all');
      const kept = spoolEntry('kept');
      const gone = spoolEntry('gone');
      await storage.appendSpool([kept, gone]);
      // More ids than SQLite accepts as separate statement variables (32,766).
      const many = Array.from({ length: 40_000 }, (_, i) => `missing-${i}`);
      assert.equal((await storage.setRead([...many, gone.id], true)).length, 1);
      assert.equal((await storage.delete([...many, gone.id])).length, 1);
      assert.deepEqual(
        (await storage.list({ start: 0, limit: 10 })).messages.map((m) => m.id),
        [kept.id],
      );
    });

    it('returns listing rows for given ids, newest first, skipping unknown ones', async () => {
      await storage.delete('all');
      const es = [spoolEntry('S1'), spoolEntry('S2'), spoolEntry('S3')];
      await storage.appendSpool(es);
      const rows = await storage.summaries([es[0]!.id, es[2]!.id, 'missing']);
      assert.deepEqual(
        rows.map((r) => r.id),
        [es[2]!.id, es[0]!.id],
      );
      assert.deepEqual(await storage.summaries([]), []);
    });

    it('answers ping', async () => {
      await storage.ping();
    });
  });
}
