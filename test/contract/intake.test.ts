// The storage contract of polled imports, automatic-reply periods and webhook endpoint health:
// the same assertions against SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newMessageId } from '../../src/domain/ids.ts';
import type { SpoolEntry } from '../../src/domain/message.ts';
import type { Storage } from '../../src/storage/ports.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { envelope } from '../helpers/fixtures.ts';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function entry(subject: string): SpoolEntry {
  return {
    id: newMessageId(),
    envelope: envelope({ listener: 'imap' }),
    raw: new TextEncoder().encode(`Subject: ${subject}\r\n\r\nbody\r\n`),
  };
}

for (const backend of BACKENDS) {
  describe(`intake contract: ${backend.name}`, () => {
    let storage: Storage;
    let cleanup: () => Promise<void>;
    before(async () => {
      const made = await backend.create();
      storage = made.storage;
      cleanup = made.cleanup;
    });
    after(() => cleanup());

    it('stores a polled message once, whichever of its keys comes back', async () => {
      const first = entry('imported');
      assert.equal(
        await storage.inbound.importMessage(first, ['imap:a:INBOX:1:7', 'content:a:h1'], at(0)),
        'stored',
      );
      assert.deepEqual(
        await storage.inbound.importedAmong(['imap:a:INBOX:1:7', 'imap:a:INBOX:2:1', 'content:a:h1']),
        new Set(['imap:a:INBOX:1:7', 'content:a:h1']),
      );
      const stored = await storage.get(first.id);
      assert.equal(stored?.envelope.listener, 'imap');

      // UIDVALIDITY changed: new position key, same content key.
      const again = entry('imported');
      assert.equal(
        await storage.inbound.importMessage(again, ['imap:a:INBOX:2:1', 'content:a:h1'], at(1000)),
        'duplicate',
      );
      assert.equal(await storage.get(again.id), null, 'the duplicate is not stored');
      // The new key is remembered, so the next pass skips the message without fetching it.
      assert.deepEqual(
        await storage.inbound.importedAmong(['imap:a:INBOX:2:1']),
        new Set(['imap:a:INBOX:2:1']),
      );
    });

    it('keeps import keys after the message is deleted, so it is not imported again', async () => {
      const e = entry('deleted later');
      assert.equal(await storage.inbound.importMessage(e, ['pop3:b:uidl-1'], at(0)), 'stored');
      await storage.delete([e.id]);
      assert.equal(
        await storage.inbound.importMessage(entry('deleted later'), ['pop3:b:uidl-1'], at(5)),
        'duplicate',
      );
    });

    it('stores exactly one of two concurrent imports of the same message', async () => {
      const keys = ['pop3:c:same', 'content:c:same'];
      const outcomes = await Promise.all([
        storage.inbound.importMessage(entry('race'), keys, at(0)),
        storage.inbound.importMessage(entry('race'), keys, at(0)),
      ]);
      assert.deepEqual(outcomes.sort(), ['duplicate', 'stored']);
    });

    it('allows one automatic reply per sender and scope in a period, and lets the same job retry', async () => {
      const claim = (jobId: string, ms: number, sender = 'Ann@Example.org', scope = 'r1') =>
        storage.inbound.claimAutoReply({ scope, sender, jobId, now: at(ms), periodMs: 3_600_000 });
      assert.equal(await claim('j1', 0), true);
      assert.equal(await claim('j1', 10), true, 'a retry of the same job');
      assert.equal(await claim('j2', 60_000, 'ann@example.org'), false, 'another message inside the period');
      assert.equal(await claim('j3', 60_000, 'ann@example.org', 'r2'), true, 'another route');
      assert.equal(await claim('j4', 60_000, 'bob@example.org'), true, 'another sender');
      assert.equal(await claim('j5', 3_600_001), true, 'after the period');
      assert.equal(await claim('j1', 3_600_002), false, 'the first job lost the row to the later one');
    });

    it('disables a webhook endpoint after N failures in a row, once, and a success resets the count', async () => {
      const url = 'https://hooks.example/a';
      const fail = (ms: number, n = 3) =>
        storage.inbound.recordWebhookOutcome({
          url,
          ok: false,
          error: '500: boom',
          now: at(ms),
          disableAfter: n,
        });
      assert.equal((await fail(0)).disabledNow, false);
      const ok = await storage.inbound.recordWebhookOutcome({
        url,
        ok: true,
        error: null,
        now: at(1),
        disableAfter: 3,
      });
      assert.equal(ok.endpoint.consecutiveFailures, 0);
      assert.equal(ok.endpoint.lastSuccessAt, at(1));
      await fail(2);
      assert.equal((await fail(3)).endpoint.consecutiveFailures, 2);
      const third = await fail(4);
      assert.equal(third.disabledNow, true);
      assert.equal(third.endpoint.disabledAt, at(4));
      assert.equal(third.endpoint.lastError, '500: boom');
      const fourth = await fail(5);
      assert.equal(fourth.disabledNow, false, 'disabled once');
      assert.equal(fourth.endpoint.disabledAt, at(4));

      await storage.inbound.recordWebhookOutcome({
        url: 'https://hooks.example/b',
        ok: false,
        error: 'x',
        now: at(6),
        disableAfter: 0,
      });
      const list = await storage.inbound.webhookEndpoints();
      assert.deepEqual(
        list.map((e) => [e.url, e.disabledAt !== null]),
        [
          [url, true],
          ['https://hooks.example/b', false],
        ],
      );
      const enabled = await storage.inbound.enableWebhookEndpoint(url, at(7));
      assert.equal(enabled?.disabledAt, null);
      assert.equal(enabled?.consecutiveFailures, 0);
      assert.equal((await storage.inbound.webhookEndpoint(url))?.disabledAt, null);
      assert.equal(await storage.inbound.enableWebhookEndpoint('https://nowhere.example/', at(8)), null);
      assert.equal((await fail(9, 1)).disabledNow, true, 'a threshold of 1 disables at the first failure');
    });
  });
}
