// ParsePool: size and shape extremes, the time and memory budgets, recovery after a budget trips,
// MIME errors, and the ownership of the bytes handed to it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ParsePool } from '../../src/mime/parse-pool.ts';
import { digests, fixture, manyParts, singleLineHtml } from './corpus.ts';

const MiB = 1024 * 1024;

function deeplyNested(depth: number): Buffer {
  let head = 'Subject: nested\r\n';
  let tail = '';
  for (let i = 0; i < depth; i++) {
    head += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
    tail = `\r\n--b${i}--${tail}`;
  }
  return Buffer.from(`${head}Content-Type: text/plain\r\n\r\ndeep${tail}\r\n`);
}

describe('ParsePool with a generous budget', () => {
  let pool: ParsePool;
  before(() => {
    pool = ParsePool.start({ workers: 2, timeoutMs: 30_000, memoryBytes: 256 * MiB });
  });
  after(() => pool.close());

  it('a message with 2000 attachments lists them all with part paths', async () => {
    const m = await pool.parse(manyParts(2000));
    assert.equal(m.subject, '2000 attachments');
    assert.equal(m.text, 'Many parts follow.\n');
    assert.equal(m.attachments.length, 2000);
    const last = m.attachments[1999];
    assert.equal(last?.PartID, '2001');
    assert.equal(last?.FileName, 'part-2000.txt');
    assert.deepEqual(last?.Checksums, digests(Buffer.from('content of part 2000')));
    const part = await pool.extractPart(manyParts(2000), '1500');
    assert.equal(Buffer.from(part?.content ?? []).toString(), 'content of part 1499');
  });

  it('a 10 MB single-line HTML body is parsed and reduced to text', async () => {
    const raw = singleLineHtml(10 * MiB);
    assert.ok(raw.length > 10 * MiB);
    const m = await pool.parse(raw);
    assert.equal(m.subject, 'Big HTML');
    assert.ok(m.html.length > 10 * MiB - 100);
    assert.ok(m.text.startsWith('Start of a long table.\n\ncafé & crème café & crème'));
    assert.equal(m.snippet.length, 253);
    assert.ok(m.snippet.startsWith('Start of a long table. café & crème'));
    assert.ok(m.snippet.endsWith('...'));
  });

  it('a MIME error rejects with the parser message and the pool keeps working', async () => {
    await assert.rejects(pool.parse(deeplyNested(150)), /Maximum MIME nesting depth of 100 levels exceeded/);
    assert.equal((await pool.parse(fixture('plain.eml'))).subject, 'Quarterly report');
  });

  it('takes whole buffers by transfer, and copies views so their neighbours are untouched', async () => {
    const whole = new Uint8Array(fixture('plain.eml'));
    await pool.parse(whole);
    assert.equal(whole.byteLength, 0, 'a whole ArrayBuffer is transferred, not copied');
    const backing = Buffer.concat([Buffer.from('HEAD'), fixture('plain.eml'), Buffer.from('TAIL')]);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, backing.length - 8);
    assert.equal((await pool.parse(view)).subject, 'Quarterly report');
    assert.equal(view.byteLength, backing.length - 8);
    assert.equal(backing.subarray(0, 4).toString(), 'HEAD');
  });

  it('parses many messages concurrently, each with its own result', async () => {
    const subjects = Array.from({ length: 40 }, (_, i) => `message ${i}`);
    const results = await Promise.all(
      subjects.map((s) =>
        pool.parse(Buffer.from(`Subject: ${s}\r\nFrom: a@example.test\r\n\r\nbody ${s}\r\n`)),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.subject),
      subjects,
    );
  });
});

describe('ParsePool budgets', () => {
  it('a job over its time budget is rejected; its worker is replaced and queued jobs still run', async () => {
    // 20,000 parts take about 250 ms on a fast machine: three times the budget.
    const pool = ParsePool.start({ workers: 1, timeoutMs: 80, memoryBytes: 256 * MiB });
    try {
      // Queued behind the slow job on the only worker: must be unaffected by its timeout.
      const slow = pool.parse(manyParts(20_000));
      const next = pool.parse(fixture('latin1.eml'));
      await assert.rejects(slow, { message: 'parse timed out after 80 ms' });
      assert.equal((await next).subject, 'Grüße aus Köln');
      assert.equal((await pool.parse(fixture('plain.eml'))).subject, 'Quarterly report');
    } finally {
      await pool.close();
    }
  });

  it('a job over its memory budget is rejected; the pool recovers', async () => {
    const pool = ParsePool.start({ workers: 1, timeoutMs: 30_000, memoryBytes: 16 * MiB });
    try {
      const next = pool.parse(fixture('shift-jis.eml'));
      await assert.rejects(pool.parse(singleLineHtml(30 * MiB)), {
        message: 'parse exceeded the memory budget of 16 MiB',
      });
      assert.equal((await next).subject, '会議のお知らせ');
      const m = await pool.parse(fixture('attachments.eml'));
      assert.equal(m.attachments.length, 2);
    } finally {
      await pool.close();
    }
  });
});

describe('ParsePool batches', () => {
  it('parses a batch in order, with a bad message failing alone, and keeps the caller buffers', async () => {
    const pool = ParsePool.start({ workers: 1, timeoutMs: 30_000, memoryBytes: 128 * MiB });
    try {
      const raws = [fixture('plain.eml'), deeplyNested(150), fixture('latin1.eml')];
      const sizes = raws.map((r) => r.byteLength);
      const results = await pool.parseBatch(raws);
      assert.equal(results.length, 3);
      assert.equal(results[0]!.ok && results[0]!.stored.columns.subject, 'Quarterly report');
      assert.equal(results[1]!.ok, false);
      assert.match(!results[1]!.ok ? results[1]!.error : '', /nesting/i);
      assert.equal(results[2]!.ok && results[2]!.stored.columns.subject, 'Grüße aus Köln');
      assert.deepEqual(
        raws.map((r) => r.byteLength),
        sizes,
      );
    } finally {
      await pool.close();
    }
  });

  it('a batch that trips a budget is re-parsed one by one, so only the guilty message fails', async () => {
    // 20,000 parts take about 250 ms on a fast machine (then the header-size limit stops them),
    // well past the batch budget (3 × 50 ms): each message then runs alone, the small ones well
    // within 50 ms each. (With 100 ms a fast machine finished the batch inside its budget.)
    const pool = ParsePool.start({ workers: 1, timeoutMs: 50, memoryBytes: 256 * MiB });
    try {
      const results = await pool.parseBatch([fixture('plain.eml'), manyParts(20_000), fixture('groups.eml')]);
      assert.equal(results[0]!.ok && results[0]!.stored.columns.subject, 'Quarterly report');
      assert.deepEqual(results[1], { ok: false, error: 'parse timed out after 50 ms', retryable: true });
      assert.equal(results[2]!.ok && results[2]!.stored.columns.subject, 'Group addressing');
    } finally {
      await pool.close();
    }
  });

  it('a closed pool refuses a batch instead of reporting parse failures', async () => {
    const pool = ParsePool.start({ workers: 1, timeoutMs: 1000, memoryBytes: 64 * MiB });
    await pool.close();
    await assert.rejects(pool.parseBatch([fixture('plain.eml')]), { name: 'ParserUnavailableError' });
  });
});

describe('ParsePool lifecycle', () => {
  it('close() lets running jobs finish, rejects waiting ones and refuses new ones', async () => {
    const pool = ParsePool.start({ workers: 1, timeoutMs: 30_000, memoryBytes: 128 * MiB });
    // Let the worker come up so the first job is running, not waiting, when close() is called.
    await pool.parse(fixture('plain.eml'));
    const running = pool.parse(fixture('groups.eml'));
    const waiting = assert.rejects(pool.parse(fixture('plain.eml')), /parse pool is closed/);
    await pool.close();
    assert.equal((await running).subject, 'Group addressing');
    await waiting;
    await assert.rejects(pool.parse(fixture('plain.eml')), /parse pool is closed/);
  });

  it('retires workers idle for idleMs and starts them again for the next job', async () => {
    const pool = ParsePool.start({ workers: 2, timeoutMs: 30_000, memoryBytes: 64 * MiB, idleMs: 50 });
    try {
      assert.equal(pool.liveWorkers, 2, 'started with the pool');
      await pool.parse(fixture('plain.eml'));
      const waitRetired = async () => {
        for (let i = 0; i < 200 && pool.liveWorkers > 0; i++) await new Promise((r) => setTimeout(r, 10));
      };
      await waitRetired();
      assert.equal(pool.liveWorkers, 0, 'every worker exited once idle');
      assert.equal(pool.stats.retired, 2);
      // Jobs of every kind start workers again, and a batch and single jobs run side by side.
      const [single, batch, part] = await Promise.all([
        pool.parse(fixture('groups.eml')),
        pool.parseBatch([fixture('plain.eml'), fixture('groups.eml')]),
        pool.extractPart(manyParts(3), '2'),
      ]);
      assert.equal(single.subject, 'Group addressing');
      assert.deepEqual(
        batch.map((r) => r.ok),
        [true, true],
      );
      assert.equal(Buffer.from(part?.content ?? []).toString(), 'content of part 1');
      assert.ok(pool.stats.started >= 3, `workers were started again (${pool.stats.started})`);
      await waitRetired();
      assert.equal(pool.liveWorkers, 0, 'and retired again');
    } finally {
      await pool.close();
    }
  });

  it('keeps its workers when idleMs is 0', async () => {
    const pool = ParsePool.start({ workers: 1, timeoutMs: 30_000, memoryBytes: 64 * MiB, idleMs: 0 });
    try {
      await pool.parse(fixture('plain.eml'));
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(pool.liveWorkers, 1);
      assert.equal(pool.stats.retired, 0);
    } finally {
      await pool.close();
    }
  });

  it('rejects nonsensical options', () => {
    assert.throws(
      () => ParsePool.start({ workers: 0, timeoutMs: 1000, memoryBytes: 64 * MiB }),
      /workers >= 1/,
    );
  });
});
