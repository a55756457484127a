// Ticket events to a webhook: a real HTTP receiver on loopback gets each event once, in order,
// signed, with its stable id; answers it may take later are retried; one it refuses is skipped;
// a second node does not post what the first one holds.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { verifySignature } from '../../src/actions/webhook/sign.ts';
import { newMessageId } from '../../src/domain/ids.ts';
import { createAddressPolicy } from '../../src/net/address-policy.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { TicketFeed } from '../../src/tickets/feed.ts';
import { sqliteForSuite } from '../helpers/backends.ts';

const SECRET = 'a-webhook-secret-of-at-least-thirty-two-chars';

interface Received {
  id: string;
  type: string;
  seq: number;
  signed: boolean;
}

describe('ticket webhook feed', () => {
  const storage = sqliteForSuite();
  let server: http.Server;
  let url: string;
  const received: Received[] = [];
  /** Status answers to give, in order, before answering 204. */
  const answers: number[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const status = answers.shift() ?? 204;
        if (status === 204) {
          const e = JSON.parse(body) as { ID: string; Type: string; Seq: number };
          const check = verifySignature([SECRET], req.headers, body, Date.now(), 300);
          received.push({
            id: String(req.headers['mailroom-delivery-id']),
            type: e.Type,
            seq: e.Seq,
            signed: check.ok,
          });
          assert.equal(e.ID, req.headers['mailroom-delivery-id']);
        }
        res.writeHead(status, status === 503 ? { 'Retry-After': '0' } : {});
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const feed = (owner: string) =>
    new TicketFeed({
      store: storage().tickets,
      urls: [url],
      secrets: [SECRET],
      policy: createAddressPolicy({ allow: ['127.0.0.1/32'] }),
      resolver: { resolve4: async () => ['127.0.0.1'], resolve6: async () => [] },
      timeoutMs: 5000,
      userAgent: 'test',
      owner,
      logger: createLogger('silent'),
      now: Date.now,
      pollMs: 20,
      firstRetryMs: 10,
    });

  const open = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const id = newMessageId();
      await storage().tickets.open({
        id,
        desk: 'support.example',
        keyPrefix: 'SUPPORT',
        firstNumber: 1,
        subject: `Ticket ${i}`,
        requester: 'ann@example.org',
        requesterName: '',
        participants: ['ann@example.org'],
        tags: [],
        entry: {
          id: newMessageId(),
          kind: 'customer',
          messageId: newMessageId(),
          outboundId: null,
          headerMessageId: null,
          from: 'ann@example.org',
          fromName: '',
          to: ['new@support.example'],
          cc: [],
          subject: `Ticket ${i}`,
          text: 'Hello',
          strippedText: 'Hello',
          html: null,
          attachments: [],
          author: null,
          note: null,
        },
        references: '',
        raw: null,
        now: new Date().toISOString(),
        events: [{ id: `${id}:created`, type: 'ticket:created', ticketId: id, data: {} }],
      });
    }
  };

  const until = async (what: string, ok: () => boolean) => {
    for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(ok(), `${what}: ${JSON.stringify(received)}`);
  };

  it('posts what happens after it starts, in order, signed, retrying 5xx and skipping a refused event', async () => {
    await open(1); // before the feed exists: not sent
    const a = feed('node-a');
    const b = feed('node-b');
    a.start();
    await new Promise((r) => setTimeout(r, 100));
    b.start();
    answers.push(503, 503, 204, 410); // the first event is taken at its third try, the second refused
    await open(4);
    a.wake();
    b.wake();
    await until('three events delivered', () => received.length === 3);
    await new Promise((r) => setTimeout(r, 200));
    await Promise.all([a.stop(), b.stop()]);
    assert.equal(received.length, 3, 'the refused event was skipped, and nothing was posted twice');
    assert.ok(received.every((r) => r.signed && r.type === 'ticket:created'));
    const seqs = received.map((r) => r.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
      'in order',
    );
    assert.equal(new Set(received.map((r) => r.id)).size, 3);
    const all = await storage().tickets.events(0, 10);
    assert.equal(all.length, 5);
    assert.deepEqual(
      seqs,
      [all[1]!.seq, all[3]!.seq, all[4]!.seq],
      'the second event after the start was skipped',
    );
  });
});
