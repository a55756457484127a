// Retention applied continuously: a burst of mail is pruned to the cap soon after it arrives, on
// both engines, and the live UI hears of it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventBus } from '../../src/events/bus.ts';
import { Retention } from '../../src/ingest/retention.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { Storage } from '../../src/storage/ports.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { spoolEntry } from '../helpers/fixtures.ts';

for (const backend of BACKENDS) {
  describe(`retention: ${backend.name}`, () => {
    let storage: Storage;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ storage, cleanup } = await backend.create());
    });
    after(async () => cleanup());

    it('prunes to the count cap after new mail, oldest first, and emits messages:pruned', async () => {
      const events = new EventBus();
      const pruned: number[] = [];
      events.on('messages:pruned', ({ count }) => pruned.push(count));
      const retention = new Retention({
        storage,
        events,
        logger: createLogger('silent'),
        config: { retainMessages: 5, retainAge: 0, retainSize: 0 },
      });
      retention.start();
      try {
        const entries = Array.from({ length: 12 }, (_, i) => spoolEntry(`m${i}`));
        await storage.appendSpool(entries);
        for (const e of entries) events.emit('message:stored', { id: e.id });
        // The pass scheduled by new mail runs within a second; pruneNow joins or starts one.
        await new Promise((r) => setTimeout(r, 1200));
        await retention.pruneNow();
        const left = await storage.list({ start: 0, limit: 100 });
        assert.equal(left.total, 5);
        assert.deepEqual(
          left.messages.map((m) => m.id),
          entries
            .slice(7)
            .map((e) => e.id)
            .reverse(),
        );
        assert.equal(
          pruned.reduce((a, b) => a + b, 0),
          7,
        );
      } finally {
        await retention.stop();
      }
    });

    it('does nothing when no cap is set', async () => {
      const retention = new Retention({
        storage,
        events: new EventBus(),
        logger: createLogger('silent'),
        config: { retainMessages: 0, retainAge: 0, retainSize: 0 },
      });
      assert.equal(retention.enabled, false);
      await storage.appendSpool([spoolEntry('kept')]);
      assert.equal(await retention.pruneNow(), 0);
    });
  });
}
