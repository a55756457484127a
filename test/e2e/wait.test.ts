// GET /api/v1/wait on a real process, on both engines: a long poll that answers when a matching
// message has been received and parsed, at once for one already there, 408 when none came, and a
// cursor that walks successive matches once each, in order. Mail goes in over SMTP (swaks and
// Python's smtplib); on SQLite the parse events wake waiters, on PostgreSQL also the look a second
// that covers parses on other nodes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitResult } from '../../src/http/routes/wait/schema.ts';
import { type MailroomOnEngine, mailroomOn } from '../helpers/process.ts';
import { python, run } from '../smtp/clients.ts';

const PROBLEM = 'application/problem+json';

async function send(port: number, subject: string, to = 'ann@example.test'): Promise<void> {
  const r = await run('swaks', [
    '--server',
    `127.0.0.1:${port}`,
    '--from',
    'app@example.test',
    '--to',
    to,
    '--header',
    `Subject: ${subject}`,
    '--body',
    `This is ${subject}.`,
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
}

/** The number of requests waiting, as /metrics says. */
async function waiting(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^mailroom_api_waiters (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
}

/** Polls until `n` requests wait (for up to 20 s, a bound on a hang, not a measurement). */
async function untilWaiting(base: string, n: number): Promise<void> {
  for (let i = 0; i < 800; i++) {
    if ((await waiting(base)) === n) return;
    await sleep(25);
  }
  throw new Error(`never saw ${n} waiting requests (last ${await waiting(base)})`);
}

function waitUrl(base: string, params: Record<string, string>): string {
  return `${base}/api/v1/wait?${new URLSearchParams(params)}`;
}

async function cursorOf(base: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/wait/cursor`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { Cursor: string }).Cursor;
}

async function found(res: Response) {
  assert.equal(res.status, 200, await res.clone().text());
  return waitResult.parse(await res.json());
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`GET /api/v1/wait: ${engine}`, () => {
    let server: MailroomOnEngine;
    before(async () => {
      server = await mailroomOn(engine, ['--wait-max-waiters', '2']);
    });
    after(() => server.dispose());

    it('waits for a message sent while it waits, and answers once it is parsed', async () => {
      const tag = `race-${randomUUID()}`;
      const start = await cursorOf(server.base);
      const pending = fetch(
        waitUrl(server.base, { query: `subject:"${tag}"`, timeout: '60s', after: start }),
      );
      await untilWaiting(server.base, 1);
      // smtplib this time: any client's mail wakes the waiter.
      const sent = await python(
        [
          's = smtplib.SMTP("127.0.0.1", ARGS["port"])',
          's.sendmail("app@example.test", ["bob@example.test"], ARGS["msg"].encode())',
          's.quit()',
        ].join('\n'),
        { port: server.smtpPort, msg: `Subject: ${tag}\r\nTo: bob@example.test\r\n\r\nhello\r\n` },
      );
      assert.equal(sent.code, 0, sent.stderr);
      const r = await found(await pending);
      assert.equal(r.Message.Subject, tag);
      assert.equal(r.Message.ParseState, 'parsed');
      assert.deepEqual(r.Message.Envelope.RcptTo, ['bob@example.test']);
      assert.ok(Number(r.Cursor) > Number(start), `${r.Cursor} after ${start}`);
      assert.equal(await waiting(server.base), 0);
    });

    it('answers at once for a message already there, even with no time to wait', async () => {
      const tag = `there-${randomUUID()}`;
      await send(server.smtpPort, tag);
      const first = await found(
        await fetch(waitUrl(server.base, { query: `subject:"${tag}"`, timeout: '60s' })),
      );
      const again = await found(
        await fetch(waitUrl(server.base, { query: `subject:"${tag}"`, timeout: '0s' })),
      );
      assert.equal(again.Message.ID, first.Message.ID);
      assert.equal(again.Cursor, first.Cursor);
    });

    it('408 with a problem JSON when nothing matching arrives in time', async () => {
      const res = await fetch(
        waitUrl(server.base, { query: `subject:"never-${randomUUID()}"`, timeout: '300ms' }),
      );
      assert.equal(res.status, 408);
      assert.equal(res.headers.get('content-type'), PROBLEM);
      const p = (await res.json()) as { type: string; status: number; detail: string };
      assert.equal(p.type, 'urn:mailroom:problem:wait-timeout');
      assert.equal(p.status, 408);
      assert.match(p.detail, /within 300ms/);
      assert.equal(await waiting(server.base), 0);
    });

    it('walks successive matches once each with the cursor; without one, the newest', async () => {
      const series = `series-${randomUUID()}`;
      const start = await cursorOf(server.base);
      for (const n of [1, 2, 3]) await send(server.smtpPort, `${series} number ${n}`);
      const seen: string[] = [];
      let cursor = start;
      for (let i = 0; i < 3; i++) {
        const r = await found(
          await fetch(waitUrl(server.base, { query: `subject:"${series}"`, timeout: '60s', after: cursor })),
        );
        seen.push(r.Message.Subject);
        assert.ok(Number(r.Cursor) > Number(cursor));
        cursor = r.Cursor;
      }
      assert.deepEqual(
        seen,
        [1, 2, 3].map((n) => `${series} number ${n}`),
      );
      const past = await fetch(
        waitUrl(server.base, { query: `subject:"${series}"`, timeout: '0s', after: cursor }),
      );
      assert.equal(past.status, 408);
      const newest = await found(
        await fetch(waitUrl(server.base, { query: `subject:"${series}"`, timeout: '0s' })),
      );
      assert.equal(newest.Message.Subject, `${series} number 3`);
      assert.equal(newest.Cursor, cursor);
      // The cursor taken now is past all of them.
      assert.equal(await cursorOf(server.base), cursor);
    });

    it('400 for a search, timeout or cursor it cannot read', async () => {
      const unreadable: Record<string, string>[] = [
        { query: 'after:someday' },
        { query: 'x', timeout: '30' },
        { query: 'x', timeout: '6m' },
        { query: 'x', after: 'yesterday' },
      ];
      for (const params of unreadable) {
        const res = await fetch(waitUrl(server.base, params));
        assert.equal(res.status, 400, JSON.stringify(params));
        assert.equal(res.headers.get('content-type'), PROBLEM);
        const p = (await res.json()) as { type: string; detail: string };
        assert.equal(p.type, 'urn:mailroom:problem:bad-request');
      }
      assert.equal(await waiting(server.base), 0);
    });

    it('503 with Retry-After past --wait-max-waiters, and a client that leaves frees its place', async () => {
      const never = `subject:"never-${randomUUID()}"`;
      const leaving = new AbortController();
      const held = [
        fetch(waitUrl(server.base, { query: never, timeout: '60s' }), { signal: leaving.signal }),
        fetch(waitUrl(server.base, { query: never, timeout: '60s' }), { signal: leaving.signal }),
      ];
      await untilWaiting(server.base, 2);
      const refused = await fetch(waitUrl(server.base, { query: never, timeout: '60s' }));
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.equal(
        ((await refused.json()) as { type: string }).type,
        'urn:mailroom:problem:too-many-waiters',
      );
      leaving.abort();
      await Promise.allSettled(held);
      await untilWaiting(server.base, 0);
    });
  });
}
