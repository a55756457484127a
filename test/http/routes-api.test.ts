// Inbound routes through the API: CRUD, validation, and the dry run on raw MIME and on a stored
// message, against every backend.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKENDS } from '../helpers/backends.ts';
import { backendSuite, json, store } from './helpers.ts';

const TICKETS = {
  Name: 'support tickets',
  Priority: 10,
  Conditions: [{ Field: 'recipient', Op: 'regex', Value: '^support-(?<ticket>\\d+)@' }],
  Actions: [
    { Type: 'webhook', URL: 'https://hooks.example/tickets' },
    { Type: 'auto-reply', Subject: 'We got it', Text: 'Thanks, we will answer soon.' },
    { Type: 'stop' },
  ],
};

const CATCH_ALL = {
  Name: 'everything else',
  Priority: 50,
  Actions: [{ Type: 'store', Tags: ['inbound'] }],
};

const MAIL = [
  'From: Nic <nic@ferrier.test>',
  'To: support-7102@support.example',
  'Subject: RE: I cannot login',
  'Message-ID: <a1@ferrier.test>',
  '',
  'Still broken.',
  '',
].join('\r\n');

type Routes = { routes: { ID: string; Name: string; Source: string; Priority: number }[] };
type Test = {
  Outcome: string;
  StoppedBy: string | null;
  Routes: {
    ID: string;
    Matched: boolean;
    Reason: string;
    Captures: Record<string, string>;
    Recipient: string | null;
    Actions: { Type: string; WouldDo: string }[];
  }[];
};

for (const backend of BACKENDS) {
  describe(`routes API: ${backend.name}`, () => {
    const s = backendSuite(backend);

    it('creates, lists in order, replaces and deletes routes', async () => {
      const put = await s.send('PUT', '/api/v1/routes/tickets', TICKETS);
      assert.equal(put.status, 201);
      const created = await s.send('POST', '/api/v1/routes', CATCH_ALL);
      assert.equal(created.status, 201);
      const other = await json<{ ID: string; Actions: unknown[]; Enabled: boolean; Match: string }>(created);
      assert.match(other.ID, /^[0-9A-Za-z]{22}$/);
      assert.deepEqual(other.Actions, [{ Type: 'store', Tags: ['inbound'] }]);
      assert.equal(other.Enabled, true);
      assert.equal(other.Match, 'all');

      const list = await json<Routes>(await s.get('/api/v1/routes'));
      assert.deepEqual(
        list.routes.map((r) => r.ID),
        ['tickets', other.ID],
      );
      const again = await s.send('PUT', '/api/v1/routes/tickets', { ...TICKETS, Priority: 90 });
      assert.equal(again.status, 200);
      const listed = await json<Routes>(await s.get('/api/v1/routes'));
      assert.deepEqual(
        listed.routes.map((r) => r.ID),
        [other.ID, 'tickets'],
      );
      assert.equal((await json<{ Priority: number }>(await s.get('/api/v1/routes/tickets'))).Priority, 90);

      assert.equal((await s.t.app.request(`/api/v1/routes/${other.ID}`, { method: 'DELETE' })).status, 200);
      assert.equal((await s.t.app.request(`/api/v1/routes/${other.ID}`, { method: 'DELETE' })).status, 404);
      assert.equal((await s.get(`/api/v1/routes/${other.ID}`)).status, 404);
      await s.t.app.request('/api/v1/routes/tickets', { method: 'DELETE' });
    });

    it('refuses bad routes with a problem that names the field', async () => {
      const cases: [unknown, RegExp][] = [
        [
          { ...TICKETS, Conditions: [{ Field: 'subject', Op: 'regex', Value: '(open' }] },
          /regular expression/,
        ],
        [{ ...TICKETS, Actions: [] }, /Actions/],
        [{ ...TICKETS, Actions: [{ Type: 'webhook', URL: 'ftp://hooks.example/' }] }, /URL/],
        [{ ...TICKETS, Actions: [{ Type: 'webhook', URL: 'https://u:p@hooks.example/' }] }, /password/],
        [{ ...TICKETS, Actions: [{ Type: 'forward', To: ['a%b@example.com'] }] }, /deliverable/],
        [{ ...TICKETS, Actions: [{ Type: 'reject', Code: 250, Text: 'no' }] }, /550-559/],
        [{ ...TICKETS, Actions: [{ Type: 'reject', Code: 550, Text: 'bad\r\nRCPT TO:<x@y>' }] }, /one line/],
        [{ ...TICKETS, Conditions: [{ Field: 'header', Name: 'X-A', Op: 'contains' }] }, /needs a Value/],
        [{ ...TICKETS, Unknown: 1 }, /Unknown|unrecognized/i],
      ];
      for (const [body, detail] of cases) {
        const res = await s.send('PUT', '/api/v1/routes/bad', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.match(res.headers.get('content-type') ?? '', /problem\+json/);
        assert.match(String((await json(res)).detail), detail, JSON.stringify(body));
      }
      assert.equal((await s.get('/api/v1/routes/bad')).status, 404);
      assert.equal((await s.send('PUT', '/api/v1/routes/no%20spaces', TICKETS)).status, 400);
    });

    it('dry-runs raw MIME: the route matched, its captures, and what each action would do', async () => {
      await s.send('PUT', '/api/v1/routes/tickets', TICKETS);
      await s.send('PUT', '/api/v1/routes/rest', CATCH_ALL);
      const res = await s.send('POST', '/api/v1/routes/test', { Raw: MAIL });
      assert.equal(res.status, 200);
      const t = await json<Test>(res);
      assert.equal(t.StoppedBy, 'tickets');
      const [tickets, rest] = t.Routes;
      assert.equal(tickets?.Matched, true);
      assert.deepEqual(tickets?.Captures, { ticket: '7102' });
      assert.equal(tickets?.Recipient, 'support-7102@support.example');
      assert.deepEqual(
        tickets?.Actions.map((a) => a.Type),
        ['webhook', 'auto-reply', 'stop'],
      );
      assert.match(tickets!.Actions[0]!.WouldDo, /POST .* https:\/\/hooks\.example\/tickets/);
      assert.match(
        tickets!.Actions[1]!.WouldDo,
        /reply "We got it" from support-7102@support\.example to nic@ferrier\.test/,
      );
      assert.equal(rest?.Matched, false);
      assert.match(rest!.Reason, /route tickets stopped/);
      assert.match(t.Outcome, /1 route matched/);

      // Automatic mail gets no automatic reply; the envelope can be given.
      const auto = await json<Test>(
        await s.send('POST', '/api/v1/routes/test', {
          Raw: `Auto-Submitted: auto-replied\r\n${MAIL}`,
          From: 'nic@ferrier.test',
          To: ['support-9@support.example'],
        }),
      );
      assert.deepEqual(auto.Routes[0]?.Captures, { ticket: '9' });
      assert.match(auto.Routes[0]!.Actions[1]!.WouldDo, /no reply: .*Auto-Submitted: auto-replied/);
      await s.t.app.request('/api/v1/routes/tickets', { method: 'DELETE' });
      await s.t.app.request('/api/v1/routes/rest', { method: 'DELETE' });
    });

    it('dry-runs a stored message, or one unsaved route', async () => {
      const id = await store(s.storage, s.parser, new TextEncoder().encode(MAIL), {
        envelope: { mailFrom: 'bounce@ferrier.test', rcptTo: ['support-55@support.example'] },
      });
      const reject = {
        Name: 'no bounces',
        Conditions: [{ Field: 'sender', Op: 'glob', Value: 'bounce@*' }],
        Actions: [{ Type: 'reject', Code: 550, Text: 'No thanks' }],
      };
      const t = await json<Test>(await s.send('POST', '/api/v1/routes/test', { ID: id, Route: reject }));
      assert.equal(t.Routes.length, 1);
      assert.equal(t.Routes[0]?.Matched, true);
      assert.match(t.Outcome, /refuses it: 550 No thanks/);
      const missing = await s.send('POST', '/api/v1/routes/test', { ID: 'A'.repeat(22) });
      assert.equal(missing.status, 404);
      const neither = await s.send('POST', '/api/v1/routes/test', {});
      assert.equal(neither.status, 400);
    });
  });
}
