// Waiting for a captured message to reach the inbox: the local worker's 'message:stored' event
// answers at once; a poll of the store covers a worker on another node, whose events never reach
// this process.
import type { EventBus } from '../events/bus.ts';
import type { Storage } from '../storage/ports.ts';

const POLL_MS = 100;

export function captureWaiter(storage: Storage, events: EventBus) {
  return (id: string, timeoutMs: number): Promise<boolean> =>
    new Promise((resolve) => {
      let settled = false;
      const finish = (captured: boolean) => {
        if (settled) return;
        settled = true;
        off();
        clearInterval(poll);
        clearTimeout(timer);
        resolve(captured);
      };
      const check = () =>
        storage.summaries([id]).then(
          (rows) => rows.length > 0 && finish(true),
          () => {},
        );
      const off = events.on('message:stored', (p) => p.id === id && finish(true));
      const poll = setInterval(check, POLL_MS);
      const timer = setTimeout(() => finish(false), timeoutMs);
      void check();
    });
}
