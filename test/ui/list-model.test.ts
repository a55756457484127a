// The web UI's sparse list model and page loader (ui/src/list-model.ts, list-loader.ts): rows
// keyed from the oldest so live mail on top costs nothing, deletions shift rows, stale pages are
// refetched, far pages aborted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FetchPage, ListLoader } from '../../ui/src/list-loader.ts';
import { ListModel } from '../../ui/src/list-model.ts';

interface Row {
  ID: string;
  n: number;
  Read?: boolean;
}

/** A server mailbox: ids m0 (oldest) … m{n-1} (newest), listed newest first. */
function mailbox(n: number) {
  const rows: Row[] = Array.from({ length: n }, (_, i) => ({ ID: `m${i}`, n: i }));
  const page = (start: number, limit: number) => {
    const newestFirst = [...rows].reverse();
    return { total: rows.length, items: newestFirst.slice(start, start + limit) };
  };
  return { rows, page };
}

function ids(model: ListModel<Row>, from = 0, to = model.total): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  for (let i = from; i < to; i++) out.push(model.itemAt(i)?.ID);
  return out;
}

describe('ListModel', () => {
  it('places a page by index, newest first', () => {
    const box = mailbox(10);
    const model = new ListModel<Row>();
    const p = box.page(0, 4);
    model.applyPage(0, p.total, p.items);
    assert.equal(model.total, 10);
    assert.deepEqual(ids(model, 0, 5), ['m9', 'm8', 'm7', 'm6', undefined]);
    assert.equal(model.indexOf('m7'), 2);
    assert.equal(model.isFresh(0), true);
    assert.equal(model.isFresh(4), false);
  });

  it('keeps loaded rows in place when mail arrives on top', () => {
    const box = mailbox(10);
    const model = new ListModel<Row>();
    const p = box.page(4, 3);
    model.applyPage(4, p.total, p.items);
    assert.deepEqual(ids(model, 4, 7), ['m5', 'm4', 'm3']);
    assert.equal(model.prepend({ ID: 'm10', n: 10 }), true);
    assert.equal(model.prepend({ ID: 'm10', n: 10 }), false, 'a known id is not added twice');
    assert.equal(model.total, 11);
    assert.equal(model.itemAt(0)?.ID, 'm10');
    assert.deepEqual(ids(model, 5, 8), ['m5', 'm4', 'm3']);
  });

  it('moves rows up when a row above them is deleted', () => {
    const box = mailbox(6);
    const model = new ListModel<Row>();
    const p = box.page(0, 6);
    model.applyPage(0, p.total, p.items);
    const r = model.remove(['m4', 'm1'], true);
    assert.deepEqual(r, { known: 2, unknown: 0 });
    assert.equal(model.total, 4);
    assert.deepEqual(ids(model), ['m5', 'm3', 'm2', 'm0']);
    assert.equal(model.indexOf('m4'), -1);
    assert.equal(model.isFresh(0), true, 'known deletions do not make rows stale');
  });

  it('counts a deletion it cannot place and marks rows stale', () => {
    const model = new ListModel<Row>();
    const box = mailbox(300);
    const p = box.page(0, 100);
    model.applyPage(0, p.total, p.items);
    const epoch = model.epoch;
    const r = model.remove(['m3'], true);
    assert.deepEqual(r, { known: 0, unknown: 1 });
    assert.equal(model.total, 299);
    assert.notEqual(model.epoch, epoch);
    assert.equal(model.isFresh(0), false);
    assert.equal(model.itemAt(0)?.ID, 'm299', 'stale rows stay visible');
    // A search list does not count ids it never held.
    const search = new ListModel<Row>();
    search.applyPage(0, 5, box.page(0, 5).items);
    search.remove(['m3'], false);
    assert.equal(search.total, 5);
  });

  it('adopts the total of a newer page and drops rows past it', () => {
    const model = new ListModel<Row>();
    model.applyPage(0, 5, [
      { ID: 'e', n: 4 },
      { ID: 'd', n: 3 },
      { ID: 'c', n: 2 },
      { ID: 'b', n: 1 },
      { ID: 'a', n: 0 },
    ]);
    // A phantom: counted by a live event that the page below already included.
    model.prepend({ ID: 'x', n: 9 });
    assert.equal(model.total, 6);
    model.applyPage(0, 5, [
      { ID: 'x', n: 9 },
      { ID: 'e', n: 4 },
      { ID: 'd', n: 3 },
    ]);
    assert.equal(model.total, 5);
    assert.deepEqual(ids(model, 0, 3), ['x', 'e', 'd']);
    assert.equal(model.indexOf('x'), 0, 'an id lives at one place only');
  });

  it('updates rows in place and reports the old row', () => {
    const model = new ListModel<Row>();
    model.applyPage(0, 1, [{ ID: 'a', n: 0, Read: false }]);
    const prev = model.update('a', { Read: true });
    assert.equal(prev?.Read, false);
    assert.equal(model.get('a')?.Read, true);
    assert.equal(model.update('zz', { Read: true }), undefined);
  });

  it('notifies subscribers and evicts far rows', () => {
    const box = mailbox(1000);
    const model = new ListModel<Row>();
    let calls = 0;
    const off = model.subscribe(() => calls++);
    model.applyPage(0, 1000, box.page(0, 500).items);
    model.applyPage(500, 1000, box.page(500, 500).items);
    assert.equal(calls, 2);
    model.evictOutside(400, 600);
    assert.equal(model.size, 200);
    assert.equal(model.itemAt(0), undefined);
    assert.equal(model.itemAt(450)?.ID, 'm549');
    off();
    model.invalidate();
    assert.equal(calls, 2);
  });
});

describe('ListLoader', () => {
  function harness(n: number, pageSize = 10) {
    const box = mailbox(n);
    const calls: number[] = [];
    const aborted: number[] = [];
    const pending: (() => void)[] = [];
    const fetchPage: FetchPage<Row> = (start, limit, signal) =>
      new Promise((resolve, reject) => {
        calls.push(start);
        signal.addEventListener('abort', () => {
          aborted.push(start);
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        });
        pending.push(() => resolve(box.page(start, limit)));
      });
    const model = new ListModel<Row>();
    const loader = new ListLoader(model, fetchPage, pageSize);
    const flush = async () => {
      while (pending.length) pending.shift()?.();
      await new Promise((r) => setImmediate(r));
    };
    return { box, model, loader, calls, aborted, flush };
  }

  it('fetches the first page, then only the pages a range lacks', async () => {
    const h = harness(100);
    h.loader.ensure(0, 15);
    assert.deepEqual(h.calls, [0], 'before the total is known, one page');
    await h.flush();
    assert.equal(h.model.total, 100);
    h.loader.ensure(0, 15);
    assert.deepEqual(h.calls, [0, 10]);
    h.loader.ensure(0, 15);
    assert.deepEqual(h.calls, [0, 10], 'a page on its way is not asked for twice');
    await h.flush();
    h.loader.ensure(0, 20);
    assert.deepEqual(h.calls, [0, 10], 'loaded pages are not fetched again');
    assert.equal(h.model.itemAt(19)?.ID, 'm80');
  });

  it('aborts pages the user scrolled far away from', async () => {
    const h = harness(10_000, 100);
    h.loader.ensure(0, 20);
    await h.flush();
    h.loader.ensure(5000, 5020);
    assert.deepEqual(h.calls, [0, 5000]);
    h.loader.ensure(9000, 9020);
    assert.deepEqual(h.aborted, [5000]);
    await h.flush();
    assert.equal(h.model.itemAt(9000)?.ID, 'm999');
    assert.equal(h.model.itemAt(5000), undefined);
  });

  it('refetches the visible range after refresh, keeping rows on screen', async () => {
    const h = harness(30);
    h.loader.ensure(0, 10);
    await h.flush();
    h.box.rows.push({ ID: 'm30', n: 30 });
    h.loader.refresh();
    assert.equal(h.model.itemAt(0)?.ID, 'm29', 'old rows stay until the new page lands');
    assert.deepEqual(h.calls, [0, 0]);
    await h.flush();
    assert.equal(h.model.total, 31);
    assert.equal(h.model.itemAt(0)?.ID, 'm30');
    assert.equal(h.model.isFresh(0), true);
  });

  it('reports failures but not aborts', async () => {
    const model = new ListModel<Row>();
    const loader = new ListLoader<Row>(model, () => Promise.reject(new Error('boom')), 10);
    const errors: string[] = [];
    loader.onError = (e) => errors.push(e.message);
    loader.ensure(0, 5);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(errors, ['boom']);
    loader.close();
    loader.ensure(0, 5);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(errors, ['boom'], 'a closed loader asks nothing');
  });
});
