// The queue endpoints: list deliveries, operator actions, and one outbound message with its
// events, against every storage backend (no worker runs here, so deliveries stay queued).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  deliveryList,
  delivery as deliveryShape,
  outboundMessage,
} from '../../src/http/routes/queue/schema.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { backendSuite, json } from './helpers.ts';

for (const backend of BACKENDS) {
  describe(`queue API: ${backend.name}`, () => {
    const s = backendSuite(backend);

    async function sendOne(subject: string): Promise<string> {
      const res = await s.send('POST', '/api/v1/send', {
        From: { Email: 'app@shop.example' },
        To: [{ Email: 'ann@one.example' }, { Email: 'bob@two.example' }],
        Subject: subject,
        Text: 'hello',
      });
      assert.equal(res.status, 200);
      return (await json<{ ID: string }>(res)).ID;
    }

    it('lists deliveries and shows a message with its deliveries and events', async () => {
      const id = await sendOne('Listed');
      const list = deliveryList.parse(await json(await s.get('/api/v1/queue?state=queued&limit=1000')));
      const mine = list.deliveries.filter((d) => d.MessageID === id);
      assert.deepEqual(mine.map((d) => d.Domain).sort(), ['one.example', 'two.example']);
      assert.ok(mine.every((d) => d.State === 'queued' && d.Recipients[0]?.State === 'pending'));
      const shown = outboundMessage.parse(await json(await s.get(`/api/v1/outbound/${id}`)));
      assert.deepEqual(shown.RcptTo, ['ann@one.example', 'bob@two.example']);
      assert.equal(shown.Source, 'api');
      assert.deepEqual(
        shown.Events.map((e) => e.Type),
        ['message:queued'],
      );
      assert.equal((await s.get('/api/v1/outbound/nope')).status, 404);
      assert.equal((await s.get('/api/v1/queue?state=lost')).status, 400);
    });

    it('holds, releases and cancels a delivery, and refuses what its state forbids', async () => {
      const id = await sendOne('Acted on');
      const shown = outboundMessage.parse(await json(await s.get(`/api/v1/outbound/${id}`)));
      const target = shown.Deliveries[0]!.ID;
      const act = (action: string, on = target) =>
        s.t.app.request(`/api/v1/queue/${on}/${action}`, { method: 'POST' });

      const held = await act('hold');
      assert.equal(held.status, 200);
      assert.equal(deliveryShape.parse(await json(held)).State, 'held');
      const again = await act('hold');
      assert.equal(again.status, 409);
      assert.equal(again.headers.get('content-type'), 'application/problem+json');

      const due: string[] = [];
      const stop = s.t.deps.events.on('outbound:queued', (p) => due.push(p.id));
      const released = await act('release');
      stop();
      assert.equal(deliveryShape.parse(await json(released)).State, 'queued');
      assert.deepEqual(due, [id]);

      assert.equal((await act('cancel')).status, 200);
      assert.equal((await act('retry')).status, 409);
      assert.equal((await act('explode')).status, 400);
      assert.equal((await act('hold', 'A'.repeat(22))).status, 404);
      assert.equal((await act('hold', '../etc')).status, 404);

      const events = outboundMessage.parse(await json(await s.get(`/api/v1/outbound/${id}`))).Events;
      assert.deepEqual(
        events.filter((e) => e.DeliveryID === target).map((e) => e.Type),
        ['delivery:held', 'delivery:released', 'delivery:cancelled'],
      );
      // Every event has its own stable ID.
      assert.equal(new Set(events.map((e) => e.ID)).size, events.length);
    });
  });
}
