// The forward action: the received bytes, untouched below two prepended trace fields, queued to the
// route's addresses with an SRS envelope sender; the author's DKIM signature still verifies; loops,
// oversize messages and missing settings fail with a reason; a job run twice queues once. The last
// suite runs it through the action runner on a real SQLite store.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import type { ActionContext } from '../../src/actions/action.ts';
import { ActionRunner } from '../../src/actions/action-runner.ts';
import { type ForwardActionDeps, forwardAction } from '../../src/actions/forward/forward-action.ts';
import { newMessageId } from '../../src/domain/ids.ts';
import type { Envelope } from '../../src/domain/message.ts';
import type { ForwardAction } from '../../src/domain/route.ts';
import { parseMessage } from '../../src/mime/extract.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { type DkimKey, dnsRecord, generateKey, signMessage } from '../../src/outbound/dkim.ts';
import { srsReverse } from '../../src/outbound/srs.ts';
import type { ActionJob } from '../../src/storage/inbound-ports.ts';
import type { SqliteStorage } from '../../src/storage/sqlite/store.ts';
import { actionContext, actionJob, MemoryQueue } from '../helpers/action-context.ts';
import { sqliteForSuite } from '../helpers/backends.ts';
import { createFakeDns, txt } from '../helpers/fake-dns.ts';
import { envelope } from '../helpers/fixtures.ts';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const SECRET = 'srs-test-secret-0123456789abcdef';
const ORIGINAL = Buffer.from(
  'From: Ann <ann@origin.example>\r\nTo: support@in.example\r\nSubject: Help please\r\n' +
    'Date: Tue, 24 Nov 2026 09:59:00 +0000\r\nMessage-ID: <m1@origin.example>\r\nMIME-Version: 1.0\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n\r\nMy order is late.\r\n',
);
const ACTION: ForwardAction = {
  type: 'forward',
  to: ['team@out.example', 'lead@out.example', 'TEAM@out.example'],
};

function deps(queue: MemoryQueue, over: Partial<ForwardActionDeps> = {}) {
  const woken: string[] = [];
  const d: ForwardActionDeps = {
    queue,
    hostname: 'mx.in.example',
    lifetimeMs: 3 * 86_400_000,
    now: () => T0,
    onQueued: (id) => woken.push(id),
    forward: { domain: 'fwd.in.example', secrets: [SECRET], maxBytes: 1024 * 1024 },
    ...over,
  };
  return { d, woken };
}

function job(over: Partial<ActionJob> = {}): ActionJob {
  return actionJob(T0, { routeId: 'r-forward', action: ACTION, recipient: 'support@in.example', ...over });
}

function ctx(raw: Uint8Array, env: Partial<Envelope> = {}, j = job()): Promise<ActionContext> {
  return actionContext(raw, j, { mailFrom: 'ann@origin.example', rcptTo: ['support@in.example'], ...env });
}

/** Splits the queued bytes into what was prepended and the rest. */
function split(queued: Uint8Array, original: Uint8Array): { prepended: string; rest: Buffer } {
  const b = Buffer.from(queued);
  const cut = b.length - original.length;
  return { prepended: b.subarray(0, cut).toString('utf8'), rest: b.subarray(cut) };
}

describe('forward action', () => {
  it('queues the original bytes under the trace fields, to each address once, from an SRS sender', async () => {
    const queue = new MemoryQueue();
    const { d, woken } = deps(queue);
    const result = await forwardAction(d).execute(ACTION, await ctx(ORIGINAL));
    const m = queue.queued[0]!;
    assert.deepEqual(result, {
      outcome: 'succeeded',
      detail: `forwarded to team@out.example, lead@out.example: queued as outbound message ${m.id}`,
    });
    assert.deepEqual(woken, [m.id]);
    assert.deepEqual(m.rcptTo, ['team@out.example', 'lead@out.example']);
    assert.match(m.mailFrom, /^SRS0=[A-Z2-7]{4}=[A-Z2-7]{2}=origin\.example=ann@fwd\.in\.example$/);
    assert.deepEqual(srsReverse(m.mailFrom, { secrets: [SECRET], now: T0 }), {
      ok: true,
      original: 'ann@origin.example',
    });
    const { prepended, rest } = split(m.raw, ORIGINAL);
    assert.ok(rest.equals(ORIGINAL), 'the original bytes changed');
    assert.equal(
      prepended,
      'X-Mailroom-Forwarded: by=mx.in.example; route=r-forward; for=support@in.example\r\n' +
        'X-Forwarded-To: team@out.example, lead@out.example\r\n',
    );
    assert.equal(m.source, 'system');
    assert.equal(m.headerMessageId, '<m1@origin.example>');
    assert.equal(m.expiresAt, new Date(T0 + 3 * 86_400_000).toISOString());
  });

  it('folds a long X-Forwarded-To at commas', async () => {
    const queue = new MemoryQueue();
    const to = Array.from({ length: 8 }, (_, i) => `team-member-number-${i}@out.example`);
    await forwardAction(deps(queue).d).execute({ type: 'forward', to }, await ctx(ORIGINAL));
    const { prepended } = split(queue.queued[0]!.raw, ORIGINAL);
    const lines = prepended.split('\r\n').slice(1, -1);
    assert.ok(lines.length > 2, prepended);
    for (const l of lines) assert.ok(l.length <= 78, l);
    assert.ok(lines.slice(1).every((l) => l.startsWith(' ')));
    assert.deepEqual(
      lines
        .join('')
        .replace(/^X-Forwarded-To:/, '')
        .split(',')
        .map((a) => a.trim()),
      to,
    );
  });

  it('keeps the null sender of a bounce null', async () => {
    const queue = new MemoryQueue();
    const result = await forwardAction(deps(queue).d).execute(ACTION, await ctx(ORIGINAL, { mailFrom: '' }));
    assert.equal(result.outcome, 'succeeded');
    assert.equal(queue.queued[0]!.mailFrom, '');
  });

  it('queues once however often the job runs, and again on a replay', async () => {
    const queue = new MemoryQueue();
    const { d, woken } = deps(queue);
    const first = await forwardAction(d).execute(ACTION, await ctx(ORIGINAL));
    const again = await forwardAction({ ...d, now: () => T0 + 60_000 }).execute(
      ACTION,
      await ctx(ORIGINAL, {}, job({ attempts: 2 })),
    );
    assert.equal(queue.queued.length, 1);
    assert.equal(woken.length, 1);
    assert.equal(again.outcome, 'succeeded');
    assert.match((again as { detail: string }).detail, / by an earlier run$/);
    assert.ok((first as { detail: string }).detail.endsWith(queue.queued[0]!.id));
    // A replay gives the job a fresh lifetime: that is a request to send again.
    const replay = job({ expiresAt: new Date(T0 + 50 * 3_600_000).toISOString() });
    await forwardAction(d).execute(ACTION, await ctx(ORIGINAL, {}, replay));
    assert.equal(queue.queued.length, 2);
  });

  it('refuses to forward round a loop', async () => {
    const queue = new MemoryQueue();
    const { d } = deps(queue);
    const marker = (route: string, host = 'mx.in.example') =>
      `X-Mailroom-Forwarded: by=${host}; route=${route}; for=x@in.example\r\n`;
    const back = Buffer.concat([Buffer.from(marker('r-forward')), ORIGINAL]);
    const looped = await forwardAction(d).execute(ACTION, await ctx(back));
    assert.equal(looped.outcome, 'failed');
    assert.match((looped as { reason: string }).reason, /forwarded by this route on mx\.in\.example before/);
    // Another host's marker, or another route's, is not a loop by itself...
    const elsewhere = Buffer.concat([
      Buffer.from(marker('r-forward', 'mx.other.example') + marker('r-2')),
      ORIGINAL,
    ]);
    assert.equal((await forwardAction(d).execute(ACTION, await ctx(elsewhere))).outcome, 'succeeded');
    // ...but five forwards here already are.
    const many = Buffer.concat([
      Buffer.from(['a', 'b', 'c', 'd', 'e'].map((r) => marker(r)).join('')),
      ORIGINAL,
    ]);
    const refused = await forwardAction(d).execute(ACTION, await ctx(many));
    assert.match((refused as { reason: string }).reason, /forwarded 5 times/);
    const hops = Buffer.concat([Buffer.from('Received: from x by y\r\n'.repeat(101)), ORIGINAL]);
    assert.match(
      ((await forwardAction(d).execute(ACTION, await ctx(hops))) as { reason: string }).reason,
      /101 Received fields/,
    );
    assert.equal(queue.queued.length, 1);
  });

  it('fails, with the reason, what can never be forwarded', async () => {
    const queue = new MemoryQueue();
    const c = await ctx(ORIGINAL);
    const run = (over: Partial<ForwardActionDeps>, action = ACTION, context = c) =>
      forwardAction(deps(queue, over).d).execute(action, context);
    const forward = { domain: 'fwd.in.example', secrets: [SECRET], maxBytes: 1024 * 1024 };
    const big = await run({ forward: { ...forward, maxBytes: ORIGINAL.length } });
    assert.equal(big.outcome, 'failed');
    assert.match((big as { reason: string }).reason, /more than the limit of \d+/);
    assert.match(
      ((await run({ forward: { ...forward, secrets: [] } })) as { reason: string }).reason,
      /SRS secret/,
    );
    assert.match(
      ((await run({ forward: { ...forward, domain: '' } })) as { reason: string }).reason,
      /forward domain/,
    );
    const gone = await run({}, ACTION, { ...c, raw: async () => null });
    assert.deepEqual(gone, {
      outcome: 'failed',
      reason: 'the message bytes are gone (the message was deleted)',
    });
    const noDomain = await run({}, ACTION, await ctx(ORIGINAL, { mailFrom: 'localonly' }));
    assert.match((noDomain as { reason: string }).reason, /has no domain to rewrite/);
    assert.equal(queue.queued.length, 0);
  });

  it('retries when the queue cannot be written', async () => {
    const queue = new MemoryQueue();
    queue.fail = new Error('database is locked');
    const result = await forwardAction(deps(queue).d).execute(ACTION, await ctx(ORIGINAL));
    assert.deepEqual(result, { outcome: 'retry', reason: 'could not queue the message: database is locked' });
  });

  it('leaves the author DKIM signature valid, and adds ours for the forward domain on top', async () => {
    const author = dkimKey('origin.example');
    const ours = dkimKey('fwd.in.example');
    const signed = await signMessage(ORIGINAL, author.key, { now: new Date(T0) });
    const queue = new MemoryQueue();
    const signedFor: string[] = [];
    const sign = async (raw: Buffer, from: string) => {
      signedFor.push(from);
      return signMessage(raw, ours.key, { now: new Date(T0) });
    };
    await forwardAction(deps(queue, { sign }).d).execute(ACTION, await ctx(signed));
    const out = queue.queued[0]!;
    assert.deepEqual(signedFor, [out.mailFrom]);
    assert.ok(Buffer.from(out.raw).subarray(-signed.length).equals(signed));
    const dns = createFakeDns({
      [author.record.name]: { TXT: txt(author.record.value) },
      [ours.record.name]: { TXT: txt(ours.record.value) },
    });
    const verified = await dkimVerify(Buffer.from(out.raw), {
      resolver: dns.resolve as (name: string, rrtype: string) => Promise<string[][]>,
    });
    const results = verified.results.map((r) => [r.signingDomain, r.status.result]);
    assert.deepEqual(results, [
      ['fwd.in.example', 'pass'],
      ['origin.example', 'pass'],
    ]);
  });
});

function dkimKey(domain: string): { key: DkimKey; record: { name: string; value: string } } {
  const { privateKeyPem, publicKeyBase64 } = generateKey('ed25519-sha256');
  const key: DkimKey = { domain, selector: 's1', algorithm: 'ed25519-sha256', privateKeyPem };
  return { key, record: dnsRecord({ domain, selector: 's1', algorithm: 'ed25519-sha256', publicKeyBase64 }) };
}

describe('forward action through the action runner, on SQLite', () => {
  const opened = sqliteForSuite();
  let storage: SqliteStorage;
  before(() => {
    storage = opened();
  });

  it('queues the forwarded message durably, once, and records the job as succeeded', async () => {
    const id = newMessageId();
    const env = envelope({ mailFrom: 'ann@origin.example', rcptTo: ['support@in.example'] });
    await storage.appendSpool([{ id, envelope: env, raw: ORIGINAL }]);
    await storage.saveParsed([{ id, result: { ok: true, parsed: await parseMessage(ORIGINAL) } }]);
    const now = new Date(T0).toISOString();
    await storage.inbound.takeRouting({ owner: 'test', now, leaseMs: 60_000, limit: 10 });
    const committed = await storage.inbound.commitRouting({
      owner: 'test',
      now,
      throughSeq: (await storage.get(id))!.seq,
      events: [],
      jobs: [
        {
          id: `${id}:r-forward:0`,
          messageId: id,
          routeId: 'r-forward',
          actionIndex: 0,
          action: ACTION,
          captures: {},
          recipient: 'support@in.example',
          dueAt: now,
          expiresAt: new Date(T0 + 26 * 3_600_000).toISOString(),
        },
      ],
    });
    assert.equal(committed, true);
    const { d } = deps(new MemoryQueue(), { queue: storage.outbound });
    const runner = new ActionRunner({
      storage,
      executors: [forwardAction(d)],
      logger: createLogger('silent'),
      owner: 'test',
      concurrency: 1,
      leaseMs: 60_000,
      now: () => T0,
    });
    await runner.runOnce();
    const done = await storage.inbound.actionJob(`${id}:r-forward:0`);
    assert.equal(done?.state, 'succeeded', done?.lastError ?? '');
    const events = await storage.inbound.inboundEvents(id);
    const detail = String(events.find((e) => e.type === 'action:succeeded')?.data.detail);
    const outId = /queued as outbound message (\w+)$/.exec(detail)?.[1];
    assert.ok(outId, detail);

    const view = await storage.outbound.get(outId);
    assert.match(view!.mailFrom, /^SRS0=[A-Z2-7]{4}=[A-Z2-7]{2}=origin\.example=ann@fwd\.in\.example$/);
    assert.deepEqual(view!.rcptTo, ['team@out.example', 'lead@out.example']);
    assert.equal(view!.source, 'system');
    assert.deepEqual(view!.metadata, { forwardOf: id, route: 'r-forward', job: `${id}:r-forward:0` });
    assert.deepEqual(
      view!.deliveries.map((x) => x.domain),
      ['out.example'],
    );
    const raw = Buffer.from((await storage.outbound.raw(outId))!);
    const { prepended, rest } = split(raw, ORIGINAL);
    assert.ok(rest.equals(ORIGINAL), 'the original bytes changed');
    assert.match(
      prepended,
      /^X-Mailroom-Forwarded: by=mx\.in\.example; route=r-forward; for=support@in\.example\r\n/,
    );
    assert.match(prepended, /\r\nX-Forwarded-To: team@out\.example, lead@out\.example\r\n$/);

    // The same job once more (a lease lost after the queue's commit): nothing new is queued.
    const again = await forwardAction(d).execute(ACTION, {
      job: done!,
      message: (await storage.get(id))!,
      raw: () => storage.getRaw(id),
      signal: new AbortController().signal,
    });
    assert.equal(again.outcome, 'succeeded');
    assert.ok((again as { detail: string }).detail.includes(outId));
    assert.equal((await storage.outbound.deliveries({ start: 0, limit: 10 })).length, 1);
  });
});
