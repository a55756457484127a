// Events learnt after a message was sent (reports, opens, clicks) and finding a message by its
// Message-ID: the same assertions against SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newMessageId } from '../../src/domain/ids.ts';
import type { OutboundStore } from '../../src/storage/ports.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { outboundMessage } from '../helpers/fixtures.ts';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');

for (const backend of BACKENDS) {
  describe(`outbound late events contract: ${backend.name}`, () => {
    let queue: OutboundStore;
    let cleanup: () => Promise<void>;

    before(async () => {
      const made = await backend.create();
      queue = made.storage.outbound;
      cleanup = made.cleanup;
    });
    after(() => cleanup());

    it('finds a queued message by its Message-ID header, the latest when reused', async () => {
      const headerMessageId = `<${newMessageId()}@shop.example>`;
      const first = outboundMessage(['ann@one.example'], 'Subject: a\r\n\r\na\r\n', T0, { headerMessageId });
      const second = outboundMessage(['bob@two.example'], 'Subject: b\r\n\r\nb\r\n', T0, { headerMessageId });
      await queue.enqueue(first);
      assert.equal(await queue.findByHeaderMessageId(headerMessageId), first.id);
      await queue.enqueue(second);
      assert.equal(await queue.findByHeaderMessageId(headerMessageId), second.id);
      assert.equal(await queue.findByHeaderMessageId('<nobody@nowhere.example>'), null);
    });

    it('adds events once per id, tied to the message and, when it is one of its own, the delivery', async () => {
      const m = outboundMessage(['ann@one.example', 'bob@two.example'], 'Subject: c\r\n\r\nc\r\n', T0);
      const other = outboundMessage(['cat@three.example'], 'Subject: d\r\n\r\nd\r\n', T0);
      await queue.enqueue(m);
      await queue.enqueue(other);
      const view = await queue.get(m.id);
      const otherView = await queue.get(other.id);
      assert.ok(view && otherView);
      const delivery = view.deliveries.find((d) => d.domain === 'two.example');
      assert.ok(delivery);
      const later = '2026-11-24T11:00:00.000Z';
      const events = [
        {
          id: `r-${m.id}-0`,
          type: 'delivery:bounced',
          at: later,
          deliveryId: delivery.id,
          data: { recipient: 'bob@two.example', status: '5.1.1' },
        },
        // Another message's delivery is not this message's: recorded without one.
        {
          id: `r-${m.id}-1`,
          type: 'message:complained',
          at: later,
          deliveryId: otherView.deliveries[0]!.id,
          data: {},
        },
      ];
      assert.equal(await queue.addEvents(m.id, events), 2);
      // The same report read again adds nothing.
      assert.equal(await queue.addEvents(m.id, events), 0);
      assert.equal(await queue.addEvents('no-such-message', [{ ...events[0]!, id: 'x-1' }]), 0);

      const recorded = (await queue.events(m.id)).filter((e) => e.id.startsWith('r-'));
      assert.deepEqual(
        recorded.map((e) => [e.id, e.type, e.at, e.deliveryId, e.outboundId]),
        [
          [`r-${m.id}-0`, 'delivery:bounced', later, delivery.id, m.id],
          [`r-${m.id}-1`, 'message:complained', later, null, m.id],
        ],
      );
      assert.deepEqual(recorded[0]!.data, { recipient: 'bob@two.example', status: '5.1.1' });
      assert.equal((await queue.events(other.id)).filter((e) => e.id.startsWith('r-')).length, 0);
    });
  });
}
