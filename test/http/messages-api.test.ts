// The Mailpit-shaped read endpoints of the messages API (list, message, headers, raw, parts)
// against every storage backend, with messages parsed by the real parse pool.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKENDS } from '../helpers/backends.ts';
import { ATTACHMENT_BYTES, latin1Message, mixedMessage, simpleMessage } from './fixtures.ts';
import { backendSuite, json, type List, store } from './helpers.ts';

type Body = Record<string, unknown>;

for (const backend of BACKENDS) {
  describe(`messages API reads: ${backend.name}`, () => {
    const s = backendSuite(backend);

    it("lists newest first in Mailpit's MessagesSummary shape, with paging", async () => {
      const ids: string[] = [];
      for (let i = 1; i <= 5; i++) ids.push(await store(s.storage, s.parser, simpleMessage(`Message ${i}`)));
      const res = await s.get('/api/v1/messages?start=1&limit=2');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const body = await json<List>(res);
      assert.deepEqual(
        { ...body, messages: undefined },
        {
          total: 5,
          unread: 5,
          count: 2,
          messages_count: 5,
          messages_unread: 5,
          start: 1,
          tags: [],
          messages: undefined,
        },
      );
      assert.deepEqual(
        body.messages.map((m) => m.ID),
        [ids[3], ids[2]],
      );
      const m = body.messages[0]!;
      assert.deepEqual(Object.keys(m).sort(), [
        'Attachments',
        'Bcc',
        'Cc',
        'Created',
        'Envelope',
        'From',
        'ID',
        'MessageID',
        'ParseError',
        'ParseState',
        'Read',
        'ReplyTo',
        'Size',
        'Snippet',
        'Subject',
        'Tags',
        'To',
        'Username',
      ]);
      assert.equal(m.Subject, 'Message 4');
      assert.equal(m.MessageID, 'Message4@example.test');
      assert.deepEqual(m.From, { Name: 'Sender', Address: 'sender@example.test' });
      assert.deepEqual(m.To, [{ Name: '', Address: 'rcpt@example.test' }]);
      assert.equal(m.Read, false);
      assert.equal(m.Attachments, 0);
      assert.equal(m.Size, simpleMessage('Message 4').byteLength);
      assert.equal(m.Snippet, 'Body of Message 4.');
      assert.equal(m.ParseState, 'parsed');
      assert.equal(m.ParseError, null);
      assert.ok(!Number.isNaN(Date.parse(String(m.Created))));
      assert.deepEqual(Object.keys(m.Envelope as Body).sort(), [
        'AuthUser',
        'ClientIP',
        'ClientPort',
        'Helo',
        'Inbox',
        'Listener',
        'MailFrom',
        'RcptTo',
        'ReceivedAt',
        'SessionID',
        'TLS',
      ]);
      const defaults = await json<List>(await s.get('/api/v1/messages'));
      assert.equal(defaults.start, 0);
      assert.equal(defaults.messages.length, 5);
    });

    it('lists unparsed and failed messages with empty parsed fields', async () => {
      const pending = await store(s.storage, s.parser, simpleMessage('Pending'), { parse: false });
      const failed = await store(s.storage, s.parser, simpleMessage('Failed'), { parse: false });
      await s.storage.saveParsed([{ id: failed, result: { ok: false, error: 'parse budget exceeded' } }]);
      const body = await json<List>(await s.get('/api/v1/messages'));
      const byId = new Map(body.messages.map((m) => [m.ID, m]));
      assert.equal(byId.get(pending)?.ParseState, 'pending');
      assert.equal(byId.get(pending)?.Subject, '');
      assert.equal(byId.get(failed)?.ParseState, 'failed');
      assert.equal(byId.get(failed)?.ParseError, 'parse budget exceeded');
    });

    it('returns the Message shape with attachments and the envelope, and marks it read', async () => {
      const id = await store(s.storage, s.parser, mixedMessage(), {
        envelope: { authUser: 'alice', tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' } },
      });
      const res = await s.get(`/api/v1/message/${id}`);
      assert.equal(res.status, 200);
      const m = await json(res);
      assert.equal(m.ID, id);
      assert.equal(m.MessageID, 'mixed-1@example.test');
      assert.equal(m.Subject, 'Quarterly report');
      assert.equal(m.Date, '2026-11-24T09:30:00.000Z');
      assert.equal(m.Username, 'alice');
      assert.deepEqual(m.Cc, [{ Name: '', Address: 'dave@example.test' }]);
      assert.deepEqual(m.ReplyTo, [{ Name: '', Address: 'replies@example.test' }]);
      assert.equal(m.Text, 'Please find the report attached.\n');
      assert.deepEqual(m.ListUnsubscribe, { Header: '', Links: [], Errors: '', HeaderPost: '' });
      assert.deepEqual(m.Inline, []);
      assert.equal(m.Size, mixedMessage().byteLength);
      const attachments = m.Attachments as Body[];
      assert.deepEqual(
        attachments.map((a) => [a.PartID, a.FileName, a.ContentType, a.Size]),
        [
          ['2', '../../evil\u202efdp.exe', 'application/pdf', ATTACHMENT_BYTES.byteLength],
          ['3', 'résumé.txt', 'text/plain', 6],
        ],
      );
      assert.deepEqual(Object.keys(attachments[0]!.Checksums as Body), ['MD5', 'SHA1', 'SHA256']);
      assert.deepEqual(m.Envelope, {
        MailFrom: 'sender@example.test',
        RcptTo: ['rcpt@example.test'],
        ClientIP: '127.0.0.1',
        ClientPort: 40000,
        Helo: 'client.example.test',
        TLS: { Protocol: 'TLSv1.3', Cipher: 'TLS_AES_256_GCM_SHA384' },
        AuthUser: 'alice',
        Listener: 'smtp',
        ReceivedAt: (m.Envelope as Body).ReceivedAt,
        SessionID: 'test-session',
        Inbox: 'default',
      });
      assert.equal(m.ParseState, 'parsed');
      assert.equal(m.ParseError, null);
      const list = await json<List>(await s.get('/api/v1/messages'));
      assert.equal(list.messages[0]!.Read, true);
      assert.equal(list.unread, 0);
    });

    it('resolves latest, and parses a pending message on demand without saving it', async () => {
      await store(s.storage, s.parser, simpleMessage('Older'));
      const id = await store(s.storage, s.parser, simpleMessage('Newest'), { parse: false });
      const m = await json(await s.get('/api/v1/message/latest'));
      assert.equal(m.ID, id);
      assert.equal(m.Subject, 'Newest');
      assert.equal(m.ParseState, 'pending');
      assert.deepEqual(await s.storage.pendingParse(10), [id]);
    });

    it('returns a failed message with its ParseError', async () => {
      const id = await store(s.storage, s.parser, simpleMessage('Broken'), { parse: false });
      await s.storage.saveParsed([{ id: id, result: { ok: false, error: 'MIME nesting too deep' } }]);
      const res = await s.get(`/api/v1/message/${id}`);
      assert.equal(res.status, 200);
      const m = await json(res);
      assert.equal(m.ParseError, 'MIME nesting too deep');
      assert.equal(m.ParseState, 'failed');
      assert.equal(m.Text, '');
      assert.deepEqual(m.Attachments, []);
    });

    it('returns 404 problem JSON for unknown and malformed ids, and for latest of an empty mailbox', async () => {
      for (const path of [
        '/api/v1/message/AAAAAAAAAAAAAAAAAAAAAA',
        '/api/v1/message/not-an-id',
        '/api/v1/message/latest',
        '/api/v1/message/AAAAAAAAAAAAAAAAAAAAAA/raw',
        '/api/v1/message/AAAAAAAAAAAAAAAAAAAAAA/headers',
      ]) {
        const res = await s.get(path);
        assert.equal(res.status, 404, path);
        assert.equal(res.headers.get('content-type'), 'application/problem+json');
        const p = await json(res);
        assert.equal(p.status, 404);
        assert.equal(p.type, 'urn:mailroom:problem:message-not-found');
        assert.equal(typeof p.title, 'string');
        assert.equal(typeof p.detail, 'string');
      }
    });

    it('returns headers as name → values, unfolded, from the raw bytes', async () => {
      const id = await store(s.storage, s.parser, mixedMessage());
      const h = await json<Record<string, string[]>>(await s.get(`/api/v1/message/${id}/headers`));
      assert.equal(h.Received?.length, 2);
      assert.match(h.Received![0]!, /^from relay-b/);
      assert.deepEqual(h['X-Folded'], ['first part second part']);
      assert.deepEqual(h['Message-Id'], ['<mixed-1@example.test>']);
      assert.deepEqual(h['Mime-Version'], ['1.0']);
      assert.deepEqual(Object.keys(h), [...Object.keys(h)].sort());
    });

    it('returns the exact stored bytes of a non-UTF-8 message, and a download on ?dl=1', async () => {
      const raw = latin1Message();
      const id = await store(s.storage, s.parser, raw);
      const res = await s.get(`/api/v1/message/${id}/raw`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.equal(res.headers.get('content-disposition'), null);
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), raw);
      const dl = await s.get(`/api/v1/message/${id}/raw?dl=1`);
      assert.equal(dl.headers.get('content-disposition'), `attachment; filename="${id}.eml"`);
      assert.deepEqual(new Uint8Array(await dl.arrayBuffer()), raw);
      const h = await json<Record<string, string[]>>(await s.get(`/api/v1/message/${id}/headers`));
      assert.deepEqual(h.Subject, ['caf\ufffd']);
    });

    it('serves a part with a sanitised file name, its type and nosniff; 404 for unknown parts', async () => {
      const id = await store(s.storage, s.parser, mixedMessage());
      const res = await s.get(`/api/v1/message/${id}/part/2`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/pdf');
      assert.equal(res.headers.get('content-disposition'), 'inline; filename="_.._evilfdp.exe"');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), ATTACHMENT_BYTES);
      const utf8 = await s.get(`/api/v1/message/latest/part/3`);
      assert.equal(
        utf8.headers.get('content-disposition'),
        `inline; filename="r_sum_.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt`,
      );
      assert.equal(await utf8.text(), 'hello\n');
      for (const part of ['9', '1.7', '..%2F..%2Fetc']) {
        const missing = await s.get(`/api/v1/message/${id}/part/${part}`);
        assert.equal(missing.status, 404, part);
        assert.equal((await json(missing)).type, 'urn:mailroom:problem:part-not-found');
      }
    });
  });
}
