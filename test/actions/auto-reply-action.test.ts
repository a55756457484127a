// The auto-reply action (RFC 3834): one reply to the return path, from the null sender, marked
// Auto-Submitted and threaded to the original; none to automatic, bulk or list mail; one per sender
// and route in the period, while a retry of the same job still completes its reply. The last
// suite queues on a real SQLite store and reads the messages back from it.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { ActionContext } from '../../src/actions/action.ts';
import { type AutoReplyActionDeps, autoReplyAction } from '../../src/actions/auto-reply/auto-reply-action.ts';
import { replySubject } from '../../src/actions/auto-reply/compose-reply.ts';
import type { AutoReplyClaim } from '../../src/actions/forward/outbound-deps.ts';
import { newMessageId } from '../../src/domain/ids.ts';
import type { Envelope } from '../../src/domain/message.ts';
import type { AutoReplyAction } from '../../src/domain/route.ts';
import { parseMessage } from '../../src/mime/extract.ts';
import type { ActionJob } from '../../src/storage/inbound-ports.ts';
import type { SqliteStorage } from '../../src/storage/sqlite/store.ts';
import { actionContext, actionJob, MemoryQueue } from '../helpers/action-context.ts';
import { sqliteForSuite } from '../helpers/backends.ts';
import { envelope } from '../helpers/fixtures.ts';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const DAY = 86_400_000;
const ACTION: AutoReplyAction = {
  type: 'auto-reply',
  from: 'help@in.example',
  subject: 'Re: {{subject}}',
  text: 'Thanks, we got your message.\nWe answer within a day.',
  periodSeconds: 86_400,
};

function original(extra = '', from = 'Ann <ann@origin.example>'): Buffer {
  return Buffer.from(
    `From: ${from}\r\nReply-To: other@elsewhere.example\r\nTo: support@in.example\r\n` +
      'Subject: Order 42 is late\r\nDate: Tue, 24 Nov 2026 09:59:00 +0000\r\n' +
      `Message-ID: <m1@origin.example>\r\nReferences: <a0@origin.example>\r\n ${'<a1@origin.example>'}\r\n` +
      `${extra}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nWhere is it?\r\n`,
  );
}

/** What storage.inbound.claimAutoReply promises, kept in memory. */
function claimFake() {
  const last = new Map<string, { jobId: string; at: number }>();
  const calls: AutoReplyClaim[] = [];
  const claim = async (req: AutoReplyClaim): Promise<boolean> => {
    calls.push(req);
    const key = `${req.scope}\n${req.sender}`;
    const prev = last.get(key);
    const now = Date.parse(req.now);
    if (prev && prev.jobId !== req.jobId && now < prev.at + req.periodMs) return false;
    if (!prev || prev.jobId !== req.jobId) last.set(key, { jobId: req.jobId, at: now });
    return true;
  };
  return { claim, calls };
}

function setup(over: Partial<AutoReplyActionDeps> = {}) {
  const queue = new MemoryQueue();
  const fake = claimFake();
  let now = T0;
  const woken: string[] = [];
  const setNow = (t: number): void => {
    now = t;
  };
  const deps: AutoReplyActionDeps = {
    queue,
    hostname: 'mx.in.example',
    lifetimeMs: DAY,
    now: () => now,
    onQueued: (id) => woken.push(id),
    claimAutoReply: fake.claim,
    ...over,
  };
  return { exec: autoReplyAction(deps), queue, fake, woken, setNow };
}

function job(n = 1, over: Partial<ActionJob> = {}): ActionJob {
  return actionJob(T0, {
    messageId: `M${n}`,
    routeId: 'r-reply',
    action: ACTION,
    recipient: 'support@in.example',
    ...over,
  });
}

function ctx(raw: Uint8Array, env: Partial<Envelope> = {}, j = job()): Promise<ActionContext> {
  return actionContext(raw, j, {
    mailFrom: 'bounces+ann@origin.example',
    rcptTo: ['support@in.example'],
    ...env,
  });
}

/** The header block of a queued message, unfolded, as name (lower case) → values. */
function headersOf(raw: Uint8Array): Map<string, string[]> {
  const text = Buffer.from(raw).toString('latin1');
  const block = text.slice(0, text.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  const out = new Map<string, string[]>();
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    out.set(name, [...(out.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return out;
}

/** The refusals of RFC 3834 §2 as messages: [what, extra header lines, envelope]. */
const REFUSED: [string, string, Partial<Envelope>][] = [
  ['Precedence: bulk', 'Precedence: bulk\r\n', {}],
  ['List-Id', 'List-Id: <news.origin.example>\r\n', {}],
  ['a null sender', '', { mailFrom: '' }],
  ['Auto-Submitted: auto-generated', 'Auto-Submitted: auto-generated\r\n', {}],
  ['a MAILER-DAEMON sender', '', { mailFrom: 'MAILER-DAEMON@origin.example' }],
];

describe('auto-reply action', () => {
  it('replies to the return path from the null sender, marked, threaded and dated', async () => {
    const { exec, queue, woken, fake } = setup();
    const result = await exec.execute(ACTION, await ctx(original()));
    const m = queue.queued[0]!;
    assert.deepEqual(result, {
      outcome: 'succeeded',
      detail: `replied to bounces+ann@origin.example: queued as outbound message ${m.id}`,
    });
    assert.deepEqual(woken, [m.id]);
    assert.equal(m.mailFrom, '');
    assert.deepEqual(m.rcptTo, ['bounces+ann@origin.example']);
    assert.equal(m.source, 'system');
    const h = headersOf(m.raw);
    assert.deepEqual(h.get('from'), ['help@in.example']);
    assert.deepEqual(h.get('to'), ['bounces+ann@origin.example']);
    assert.deepEqual(h.get('subject'), ['Re: Order 42 is late']);
    assert.deepEqual(h.get('auto-submitted'), ['auto-replied']);
    assert.deepEqual(h.get('x-auto-response-suppress'), ['All']);
    assert.equal(h.get('precedence'), undefined);
    assert.deepEqual(h.get('in-reply-to'), ['<m1@origin.example>']);
    assert.deepEqual(h.get('references'), ['<a0@origin.example> <a1@origin.example> <m1@origin.example>']);
    assert.deepEqual(h.get('date'), ['Tue, 24 Nov 2026 10:00:00 +0000']);
    assert.match(h.get('message-id')![0]!, /^<[0-9a-f-]{36}@mx\.in\.example>$/);
    assert.equal(m.headerMessageId, h.get('message-id')![0]);
    const back = await parseMessage(m.raw);
    assert.equal(back.text.trim(), 'Thanks, we got your message.\nWe answer within a day.');
    assert.deepEqual(fake.calls, [
      {
        scope: 'r-reply',
        sender: 'bounces+ann@origin.example',
        jobId: 'M1:r-reply:0',
        now: '2026-11-24T10:00:00.000Z',
        periodMs: DAY,
      },
    ]);
  });

  it('comes from the address the message came to when the action names none', async () => {
    const { exec, queue } = setup();
    const action = { ...ACTION, from: '' };
    await exec.execute(action, await ctx(original()));
    const other = { mailFrom: 'bob@origin.example', rcptTo: ['first@in.example', 'second@in.example'] };
    await exec.execute(action, await ctx(original(), other, job(2, { recipient: null })));
    assert.deepEqual(
      queue.queued.map((m) => headersOf(m.raw).get('from')),
      [['support@in.example'], ['first@in.example']],
    );
  });

  it('encodes non-ASCII subjects and text, keeping the message 7-bit', async () => {
    const { exec, queue } = setup();
    const action = {
      ...ACTION,
      subject: 'Réponse automatique : {{subject}}',
      text: 'Merci — nous répondons vite.\n日本語も',
    };
    const raw = Buffer.from(
      original().toString('latin1').replace('Order 42 is late', '=?UTF-8?Q?Caf=C3=A9?='),
      'latin1',
    );
    await exec.execute(action, await ctx(raw));
    const out = queue.queued[0]!.raw;
    assert.doesNotMatch(Buffer.from(out).toString('latin1'), /[^\x00-\x7f]/);
    const h = headersOf(out);
    assert.match(h.get('subject')![0]!, /^=\?UTF-8\?[QB]\?/i);
    assert.match(h.get('content-type')![0]!, /^text\/plain; charset=utf-8/i);
    assert.match(h.get('content-transfer-encoding')![0]!, /^(quoted-printable|base64)$/);
    const back = await parseMessage(out);
    assert.equal(back.subject, 'Réponse automatique : Café');
    assert.equal(back.text.trim(), 'Merci — nous répondons vite.\n日本語も');
  });

  it('keeps line breaks of the original subject out of ours', () => {
    assert.equal(replySubject('Re: {{subject}}', 'a\r\nBcc: x@y.example'), 'Re: a Bcc: x@y.example');
    assert.equal(replySubject('Out of office', 'anything'), 'Out of office');
  });

  for (const [what, extra, env] of REFUSED) {
    it(`does not answer a message with ${what}, and says why`, async () => {
      const { exec, queue, fake } = setup();
      const result = await exec.execute(ACTION, await ctx(original(extra), env));
      assert.equal(result.outcome, 'succeeded');
      assert.match((result as { detail: string }).detail, /^skipped: /);
      assert.equal(queue.queued.length, 0);
      assert.equal(fake.calls.length, 0, 'the period was claimed for a message that gets no reply');
    });
  }

  it('reads the header fields from the bytes when the stored parse has none (older parses)', async () => {
    const { exec, queue } = setup();
    const c = await ctx(original('List-Id: <news.origin.example>\r\n'));
    const { headers: _h, ...older } = c.message.parsed!;
    const result = await exec.execute(ACTION, { ...c, message: { ...c.message, parsed: older } });
    assert.deepEqual(result, {
      outcome: 'succeeded',
      detail: 'skipped: it came through a mailing list (list-id present)',
    });
    assert.equal(queue.queued.length, 0);
  });

  it('does not answer itself', async () => {
    const { exec, queue } = setup();
    const result = await exec.execute(ACTION, await ctx(original(), { mailFrom: 'HELP@in.example' }));
    assert.deepEqual(result, {
      outcome: 'succeeded',
      detail: 'skipped: the sender HELP@in.example is the address the reply would come from',
    });
    assert.equal(queue.queued.length, 0);
  });

  it('replies once per sender and period, while a retry of the same job completes', async () => {
    const { exec, queue, setNow } = setup();
    await exec.execute(ACTION, await ctx(original()));
    setNow(T0 + 3_600_000);
    const second = await exec.execute(ACTION, await ctx(original(), {}, job(2)));
    assert.deepEqual(second, {
      outcome: 'succeeded',
      detail: 'skipped: already replied to bounces+ann@origin.example within 1 day',
    });
    // The first job again (its success was not recorded): it still holds the period.
    const retry = await exec.execute(ACTION, await ctx(original(), {}, job(1, { attempts: 2 })));
    assert.equal(retry.outcome, 'succeeded');
    assert.match((retry as { detail: string }).detail, /^replied to .* by an earlier run$/);
    assert.equal(queue.queued.length, 1);
    setNow(T0 + DAY + 1);
    assert.match(
      ((await exec.execute(ACTION, await ctx(original(), {}, job(3)))) as { detail: string }).detail,
      /^replied to /,
    );
    assert.equal(queue.queued.length, 2);
  });

  it('retries when the period cannot be checked, and signs for the From domain', async () => {
    const failing = setup({ claimAutoReply: async () => Promise.reject(new Error('database is locked')) });
    assert.deepEqual(await failing.exec.execute(ACTION, await ctx(original())), {
      outcome: 'retry',
      reason: 'could not check earlier replies: database is locked',
    });
    const signedFor: string[] = [];
    const signing = setup({
      sign: async (raw, from) => {
        signedFor.push(from);
        return Buffer.concat([Buffer.from('DKIM-Signature: test\r\n'), raw]);
      },
    });
    await signing.exec.execute(ACTION, await ctx(original()));
    assert.deepEqual(signedFor, ['help@in.example']);
    assert.match(Buffer.from(signing.queue.queued[0]!.raw).toString(), /^DKIM-Signature: test\r\n/);
  });
});

describe('auto-reply action on SQLite', () => {
  const opened = sqliteForSuite();
  let storage: SqliteStorage;
  before(() => {
    storage = opened();
  });

  /** Stores and parses a message as the pipeline would, and returns the context a job gets. */
  async function received(raw: Buffer, env: Partial<Envelope>, n: number): Promise<ActionContext> {
    const id = newMessageId();
    const e = envelope({ mailFrom: 'ann@origin.example', rcptTo: ['support@in.example'], ...env });
    await storage.appendSpool([{ id, envelope: e, raw }]);
    await storage.saveParsed([{ id, result: { ok: true, parsed: await parseMessage(raw) } }]);
    return {
      job: job(n, { id: `${id}:r-reply:0`, messageId: id }),
      message: (await storage.get(id))!,
      raw: () => storage.getRaw(id),
      signal: new AbortController().signal,
    };
  }

  it('queues the reply with its headers and a null MAIL FROM, once per sender and period', async () => {
    const fake = claimFake();
    let now = T0;
    const exec = autoReplyAction({
      queue: storage.outbound,
      hostname: 'mx.in.example',
      lifetimeMs: DAY,
      now: () => now,
      onQueued: () => {},
      claimAutoReply: fake.claim,
    });
    const first = await received(original(), {}, 1);
    const result = await exec.execute(ACTION, first);
    const outId = /queued as outbound message (\w+)$/.exec((result as { detail: string }).detail)?.[1];
    assert.ok(outId, JSON.stringify(result));
    const view = (await storage.outbound.get(outId))!;
    assert.equal(view.mailFrom, '');
    assert.deepEqual(view.rcptTo, ['ann@origin.example']);
    assert.equal(view.source, 'system');
    const h = headersOf((await storage.outbound.raw(outId))!);
    assert.deepEqual(h.get('auto-submitted'), ['auto-replied']);
    assert.deepEqual(h.get('in-reply-to'), ['<m1@origin.example>']);
    assert.deepEqual(h.get('to'), ['ann@origin.example']);
    assert.equal(view.headerMessageId, h.get('message-id')![0]);

    for (const [what, extra, env] of REFUSED) {
      const c = await received(original(extra), env, 10);
      const r = await exec.execute(ACTION, c);
      assert.match((r as { detail: string }).detail, /^skipped: /, what);
    }
    now = T0 + 60_000;
    const second = await exec.execute(ACTION, await received(original(), {}, 2));
    assert.match((second as { detail: string }).detail, /^skipped: already replied to ann@origin\.example/);
    // The first job run again: the reply it queued is the one that stands.
    const retry = await exec.execute(ACTION, { ...first, job: { ...first.job, attempts: 2 } });
    assert.match((retry as { detail: string }).detail, new RegExp(`${outId} by an earlier run$`));
    assert.equal((await storage.outbound.deliveries({ start: 0, limit: 50 })).length, 1);
  });
});
