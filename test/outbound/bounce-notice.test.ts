// After a delivery fails for good: the DSN to the sender is queued (never for a null sender), and
// only replies saying the address does not exist count as hard bounces.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import PostalMime from 'postal-mime';
import { isHardBounce, queueBounceNotice } from '../../src/outbound/bounce-notice.ts';
import type { SqliteStorage } from '../../src/storage/sqlite/store.ts';
import { sqliteForSuite } from '../helpers/backends.ts';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const ORIGINAL =
  'From: shop@shop.example\r\nTo: ann@one.example\r\nSubject: Your order\r\nMessage-ID: <o1@shop.example>\r\n\r\nsecret body\r\n';

describe('bounce notices', () => {
  const opened = sqliteForSuite();
  let storage: SqliteStorage;
  before(() => {
    storage = opened();
  });

  const failure = (mailFrom: string) => ({
    claimed: {
      delivery: {
        id: 'D'.repeat(22),
        outboundId: 'O'.repeat(22),
        domain: 'one.example',
        state: 'sending' as const,
        attempts: 1,
        nextAttemptAt: new Date(T0).toISOString(),
        expiresAt: new Date(T0 + 86_400_000).toISOString(),
        lastReply: null,
        createdAt: new Date(T0).toISOString(),
        updatedAt: new Date(T0).toISOString(),
        recipients: [],
      },
      mailFrom,
      queuedAt: new Date(T0).toISOString(),
      source: 'api' as const,
      client: { ip: '', authUser: null },
    },
    raw: Buffer.from(ORIGINAL),
    failed: [
      {
        address: 'ann@one.example',
        outcome: 'bounced' as const,
        reply: '550 5.1.1 <ann@one.example>: user unknown',
      },
    ],
    state: 'bounced' as const,
    now: T0 + 60_000,
  });

  it('queues a DSN from the null sender to the original sender, with the headers only', async () => {
    const woken: string[] = [];
    const deps = {
      queue: storage.outbound,
      hostname: 'mx.mailroom.test',
      lifetimeMs: 86_400_000,
      onQueued: (id: string) => woken.push(id),
    };
    const id = await queueBounceNotice(deps, failure('shop@shop.example'));
    assert.ok(id);
    assert.deepEqual(woken, [id]);
    const view = (await storage.outbound.get(id))!;
    assert.deepEqual(
      [view.mailFrom, view.rcptTo, view.source, view.metadata],
      ['', ['shop@shop.example'], 'system', { dsnFor: 'O'.repeat(22) }],
    );
    const parsed = await PostalMime.parse(Buffer.from((await storage.outbound.raw(id))!));
    assert.match(parsed.subject ?? '', /Undelivered/);
    assert.match(parsed.text ?? '', /ann@one\.example/);
    const all = Buffer.from((await storage.outbound.raw(id))!).toString('latin1');
    assert.match(all, /Status: 5\.1\.1/);
    assert.match(all, /Diagnostic-Code: smtp; 550 5\.1\.1/);
    assert.match(all, /Subject: Your order/);
    assert.doesNotMatch(all, /secret body/);
  });

  it('sends no DSN about a DSN (null sender) or to a mailer-daemon', async () => {
    const deps = {
      queue: storage.outbound,
      hostname: 'mx.mailroom.test',
      lifetimeMs: 86_400_000,
      onQueued: () => {},
    };
    assert.equal(await queueBounceNotice(deps, failure('')), null);
    assert.equal(await queueBounceNotice(deps, failure('MAILER-DAEMON@one.example')), null);
  });

  it('counts only a nonexistent address or domain as a hard bounce', () => {
    assert.equal(isHardBounce('550 5.1.1 <ann@one.example>: Recipient address rejected: User unknown'), true);
    assert.equal(isHardBounce('550 5.1.2 Host or domain name not found'), true);
    assert.equal(isHardBounce('552 5.2.2 Mailbox full'), false);
    assert.equal(isHardBounce('554 5.7.1 Message rejected as spam'), false);
    assert.equal(isHardBounce('450 4.1.1 try again'), false);
  });
});
