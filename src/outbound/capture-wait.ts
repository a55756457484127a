// Waiting for captured messages to reach the inbox: the local worker's 'message:stored' events
// answer at once; one poll of the store for all that are still missing covers a worker on another
// node, whose events never reach this process. A batch of 500 is one query per poll, not 500.
import type { EventBus } from '../events/bus.ts';
import type { Storage } from '../storage/ports.ts';

const POLL_MS = 100;

export function captureWaiter(storage: Storage, events: EventBus) {
  return (ids: readonly string[], timeoutMs: number): Promise<boolean> =>
    new Promise((resolve) => {
      const missing = new Set(ids);
      let settled = false;
      const finish = (captured: boolean) => {
        if (settled) return;
        settled = true;
        off();
        clearInterval(poll);
        clearTimeout(timer);
        resolve(captured);
      };
      const arrived = (id: string) => {
        missing.delete(id);
        if (missing.size === 0) finish(true);
      };
      const check = () =>
        storage.summaries([...missing]).then(
          (rows) => {
            for (const r of rows) arrived(r.id);
          },
          () => {},
        );
      const off = events.on('message:stored', (p) => missing.has(p.id) && arrived(p.id));
      const poll = setInterval(check, POLL_MS);
      const timer = setTimeout(() => finish(false), timeoutMs);
      if (missing.size === 0) finish(true);
      else void check();
    });
}
