// Inboxes (--inbox) on a real process, on both engines: mail is filed by SMTP AUTH user, then by
// recipient pattern, else in `default`; credentials limited to one inbox (a `<secret>@team-a`
// token, a basic-auth user the inbox lists) list, search, read, wait for, mark, delete and hear
// live about that inbox's mail only, and are refused what concerns every inbox. Mail goes in over
// SMTP with real clients (swaks, and Python's smtplib for AUTH).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { hashPassword } from '../../src/smtp/auth-file.ts';
import { tempDir } from '../helpers/backends.ts';
import { BIN, type MailroomOnEngine, mailroomOn } from '../helpers/process.ts';
import { python, run } from '../smtp/clients.ts';

const INBOXES = ['team-a?users=alice&recipients=*@team-a.test', 'team-b?users=bob&recipients=*@team-b.test'];
const PASSWORDS = { alice: 'alice-pass-1', bob: 'bob-pass-2' } as const;
const ADMIN = randomBytes(18).toString('hex');
const TEAM_A = randomBytes(18).toString('hex');
/** HTML bodies, so that /view/{ID}.html has something to show. */
const HTML = 'Content-Type: text/html; charset=utf-8';

interface Summary {
  ID: string;
  Subject: string;
  Read: boolean;
  Envelope: { Inbox: string };
}
interface List {
  total: number;
  unread: number;
  messages_count: number;
  messages: Summary[];
}
interface Frame {
  Type: string;
  Data: Record<string, unknown> | null;
}

/** Sends one message: with AUTH through smtplib, without through swaks. */
async function send(port: number, subject: string, to: string, user?: keyof typeof PASSWORDS) {
  const r = user
    ? await python(
        [
          's = smtplib.SMTP("127.0.0.1", ARGS["port"])',
          's.login(ARGS["user"], ARGS["password"])',
          's.sendmail(ARGS["user"] + "@example.test", [ARGS["to"]], ARGS["msg"].encode())',
          's.quit()',
        ].join('\n'),
        {
          port,
          user,
          password: PASSWORDS[user],
          to,
          msg: `Subject: ${subject}\r\nTo: ${to}\r\n${HTML}\r\n\r\n<p>hi</p>\r\n`,
        },
      )
    : await run('swaks', [
        ...['--server', `127.0.0.1:${port}`, '--from', 'app@example.test', '--to', to],
        ...['--header', `Subject: ${subject}`, '--header', HTML, '--body', '<p>hi</p>'],
      ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`inboxes: ${engine}`, () => {
    const dir = tempDir();
    const tag = `r${randomUUID().slice(0, 8)}`;
    const ids: Record<'a1' | 'b1' | 'b2' | 'd1', string> = { a1: '', b1: '', b2: '', d1: '' };
    let server: MailroomOnEngine;

    const auth = {
      admin: `Bearer ${ADMIN}`,
      token: `Bearer ${TEAM_A}`,
      alice: `Basic ${Buffer.from(`alice:${PASSWORDS.alice}`).toString('base64')}`,
    };
    const call = (who: keyof typeof auth, p: string, init: RequestInit = {}) =>
      fetch(`${server.base}${p}`, {
        ...init,
        headers: { authorization: auth[who], 'content-type': 'application/json' },
      });
    const json = async <T>(who: keyof typeof auth, p: string): Promise<T> => {
      const res = await call(who, p);
      assert.equal(res.status, 200, `${p}: ${await res.clone().text()}`);
      return (await res.json()) as T;
    };
    const search = (who: keyof typeof auth, q: string) =>
      json<List>(who, `/api/v1/search?${new URLSearchParams({ query: q, limit: '100' })}`);
    /** The message with this subject once parsed, found by the admin's wait. */
    const arrived = async (subject: string): Promise<Summary> =>
      (await json<{ Message: Summary }>('admin', `/api/v1/wait?query=subject:"${subject}"&timeout=20s`))
        .Message;
    const inbox = async (name: string) => (await search('admin', `inbox:${name}`)).messages.map((m) => m.ID);

    before(async () => {
      const users = path.join(dir, 'users');
      const lines = await Promise.all(
        Object.entries(PASSWORDS).map(async ([u, pw]) => `${u}:${await hashPassword(pw)}`),
      );
      fs.writeFileSync(users, `${lines.join('\n')}\n`);
      server = await mailroomOn(engine, [
        ...INBOXES.flatMap((i) => ['--inbox', i]),
        ...['--smtp-auth-file', users, '--smtp-auth-allow-insecure', '--http-auth-file', users],
        ...['--http-tokens', `${ADMIN},${TEAM_A}@team-a`],
      ]);
    });
    after(async () => {
      await server?.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('files mail by SMTP user, then by recipient, else in default', async () => {
      const sent = [
        ['a1', 'x@elsewhere.test', 'alice', 'team-a'],
        ['b1', 'someone@team-b.test', undefined, 'team-b'],
        // The user's inbox wins over a recipient pattern.
        ['b2', 'y@team-a.test', 'bob', 'team-b'],
        ['d1', 'nobody@other.test', undefined, 'default'],
      ] as const;
      for (const [key, to, user, expected] of sent) {
        await send(server.smtpPort, `${key} ${tag}`, to, user);
        const m = await arrived(`${key} ${tag}`);
        assert.equal(m.Envelope.Inbox, expected, key);
        ids[key] = m.ID;
      }
      assert.deepEqual(await inbox('team-a'), [ids.a1]);
      assert.deepEqual(await inbox('team-b'), [ids.b2, ids.b1]);
      assert.deepEqual(await inbox('default'), [ids.d1]);
      assert.equal((await search('admin', tag)).messages_count, 4);
    });

    it('lists, searches and counts only its inbox', async () => {
      for (const who of ['token', 'alice'] as const) {
        const list = await json<List>(who, '/api/v1/messages');
        assert.deepEqual(
          list.messages.map((m) => m.ID),
          [ids.a1],
          who,
        );
        assert.equal(list.total, 1, who);
        const found = await search(who, tag);
        assert.deepEqual(
          found.messages.map((m) => m.ID),
          [ids.a1],
          who,
        );
        assert.equal(found.total, 1, who);
        assert.equal((await search(who, 'inbox:team-b')).messages_count, 0, who);
        assert.equal((await json<{ Messages: number }>(who, '/api/v1/info')).Messages, 1, who);
        assert.deepEqual(await json(who, '/api/v1/inboxes'), {
          Inboxes: [
            { Name: 'team-a', Users: ['alice'], Recipients: ['*@team-a.test'], Messages: 1, Unread: 1 },
          ],
          Scoped: true,
        });
      }
      const all = await json<{ Inboxes: { Name: string; Messages: number }[]; Scoped: boolean }>(
        'admin',
        '/api/v1/inboxes',
      );
      assert.equal(all.Scoped, false);
      assert.deepEqual(
        all.Inboxes.map((i) => [i.Name, i.Messages]),
        [
          ['default', 1],
          ['team-a', 1],
          ['team-b', 2],
        ],
      );
    });

    it("answers 404 for another inbox's message, and resolves latest within its own", async () => {
      for (const who of ['token', 'alice'] as const) {
        for (const p of ['', '/raw', '/headers', '/part/1']) {
          assert.equal((await call(who, `/api/v1/message/${ids.b1}${p}`)).status, 404, `${who} ${p}`);
        }
        assert.equal((await call(who, `/view/${ids.b1}.html`)).status, 404, who);
        const latest = await json<{ Subject: string[] }>(who, '/api/v1/message/latest/headers');
        assert.deepEqual(latest.Subject, [`a1 ${tag}`], who);
      }
      // The newest message of the store is another inbox's.
      const newest = await json<{ Subject: string[] }>('admin', '/api/v1/message/latest/headers');
      assert.deepEqual(newest.Subject, [`d1 ${tag}`]);
      assert.equal((await call('admin', `/api/v1/message/${ids.b1}/raw`)).status, 200);
      assert.equal((await call('admin', `/view/${ids.b1}.html`)).status, 200);
      assert.equal((await call('token', `/view/${ids.a1}.html`)).status, 200);
    });

    it('refuses with 403 what concerns every inbox', async () => {
      for (const who of ['token', 'alice'] as const) {
        for (const p of ['/api/v1/queue', '/api/v1/routes', '/api/v1/keys', '/metrics']) {
          assert.equal((await call(who, p)).status, 403, `${who} ${p}`);
        }
        const rename = await call(who, '/api/v1/tags/old', { method: 'PUT', body: '{"Name":"new"}' });
        assert.equal(rename.status, 403, who);
      }
      assert.equal((await call('admin', '/api/v1/queue')).status, 200);
    });

    it('marks read only its own messages', async () => {
      const put = (who: keyof typeof auth, body: unknown) =>
        call(who, '/api/v1/messages', { method: 'PUT', body: JSON.stringify(body) });
      assert.equal((await put('admin', { Read: false })).status, 200);
      assert.equal((await put('token', { Read: true })).status, 200);
      // IDs of another inbox are not its own either.
      assert.equal((await put('token', { IDs: [ids.b1], Read: true })).status, 200);
      const read = (await search('admin', tag)).messages.filter((m) => m.Read).map((m) => m.ID);
      assert.deepEqual(read, [ids.a1]);
      assert.equal((await search('admin', tag)).unread, 3);
    });

    it('waits for its own mail only', async () => {
      const subject = `wait ${tag}`;
      const waitFor = (timeout: string) =>
        call('token', `/api/v1/wait?${new URLSearchParams({ query: `subject:"${subject}"`, timeout })}`);
      await send(server.smtpPort, subject, 'w@team-b.test');
      const theirs = await arrived(subject);
      assert.equal(theirs.Envelope.Inbox, 'team-b');
      // Already there, but not in team-a.
      assert.equal((await waitFor('1s')).status, 408);
      const pending = waitFor('30s');
      await untilWaiting(server.base, 1);
      await send(server.smtpPort, subject, 'w@elsewhere.test', 'alice');
      const res = await pending;
      assert.equal(res.status, 200, await res.clone().text());
      const { Message } = (await res.json()) as { Message: Summary };
      assert.notEqual(Message.ID, theirs.ID);
      assert.equal(Message.Envelope.Inbox, 'team-a');
    });

    it('sends live "new" frames for its own inbox only', async () => {
      const ws = new WebSocket(`${server.base.replace('http', 'ws')}/api/events`, {
        origin: server.base,
        headers: { authorization: auth.token },
      });
      const frames: Frame[] = [];
      ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      try {
        const stats = await until(() => frames.find((f) => f.Type === 'stats'), 'stats frame');
        // team-a so far: a1 and the waited-for message.
        assert.equal(stats.Data?.Total, 2);
        // team-b first, parsed before team-a's is even sent.
        await send(server.smtpPort, `live-b ${tag}`, 'live@team-b.test');
        await arrived(`live-b ${tag}`);
        await send(server.smtpPort, `live-a ${tag}`, 'live@team-a.test');
        await until(
          () => frames.find((f) => f.Type === 'new' && f.Data?.Subject === `live-a ${tag}`),
          'new frame for team-a',
        );
        const news = frames.filter((f) => f.Type === 'new').map((f) => f.Data?.Subject);
        assert.deepEqual(news, [`live-a ${tag}`]);
      } finally {
        ws.close();
      }
    });

    it("routing details of another inbox's message are not its business", async () => {
      assert.equal((await call('token', `/api/v1/message/${ids.b1}/routing`)).status, 404);
    });

    it('deletes only its own messages', async () => {
      // `{}`: no IDs, so every message of the inbox (a DELETE without a body is the last case).
      const del = (body: unknown) =>
        call('token', '/api/v1/messages', { method: 'DELETE', body: JSON.stringify(body) });
      const teamB = await inbox('team-b');
      const others = [...teamB, ...(await inbox('default'))];
      assert.equal(teamB.length, 4);
      assert.equal((await del({ IDs: [ids.b1] })).status, 200);
      assert.deepEqual(await inbox('team-b'), teamB);
      assert.equal((await del({})).status, 200);
      assert.equal((await json<List>('token', '/api/v1/messages')).total, 0);
      assert.deepEqual(await inbox('team-a'), []);
      assert.deepEqual([...(await inbox('team-b')), ...(await inbox('default'))], others);
    });

    // A request without Content-Length gets a new Request object from the body limit: the scope
    // must survive that (it once did not, and this emptied every inbox).
    it('deletes only its own messages when the DELETE has no body', async () => {
      const before = [...(await inbox('team-b')), ...(await inbox('default'))];
      assert.equal((await call('token', '/api/v1/messages', { method: 'DELETE' })).status, 200);
      assert.deepEqual([...(await inbox('team-b')), ...(await inbox('default'))], before);
    });
  });
}

describe('inbox settings that stop start-up', () => {
  const cases: [string, string[], RegExp][] = [
    ['the built-in inbox name', ['--inbox', 'default'], /--inbox: "default" is the built-in inbox/],
    [
      'a token naming an undefined inbox',
      ['--inbox', INBOXES[0]!, '--http-tokens', `${TEAM_A}@team-c`],
      /--http-tokens: token 1 of 1 names inbox "team-c", which --inbox does not define/,
    ],
  ];
  for (const [what, args, message] of cases) {
    it(`exits with 2 for ${what}`, () => {
      const dataDir = tempDir();
      try {
        const r = spawnSync(
          process.execPath,
          [
            BIN,
            'start',
            '--data-dir',
            dataDir,
            '--smtp-listen',
            '127.0.0.1:0',
            '--http-listen',
            '127.0.0.1:0',
            ...args,
          ],
          { encoding: 'utf8', timeout: 20_000 },
        );
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, message);
        assert.doesNotMatch(r.stderr, new RegExp(TEAM_A));
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    });
  }
});

/** Polls until `find` returns something (for up to 10 s, a bound on a hang, not a measurement). */
async function until<T>(find: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const found = await find();
    if (found !== undefined) return found;
    await sleep(25);
  }
  throw new Error(`no ${what}`);
}

/** Polls /metrics until `n` requests wait at /api/v1/wait. */
async function untilWaiting(base: string, n: number): Promise<void> {
  const waiting = async () => {
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } });
    return Number(/^mailroom_api_waiters (\d+)$/m.exec(await res.text())?.[1] ?? Number.NaN);
  };
  await until(async () => ((await waiting()) === n ? true : undefined), `${n} waiting requests`);
}
