// The live-update WebSocket (/api/events, as in Mailpit): parses each event and reconnects with
// exponential backoff when the connection drops, telling the app so it can resynchronise.
import { urls } from './api.ts';
import type { LiveEvent } from './types.ts';

export type LiveStatus = 'connecting' | 'live' | 'offline';

export interface LiveHandlers {
  onEvent(ev: LiveEvent): void;
  onStatus(status: LiveStatus): void;
  /** Called whenever a connection opens: events may have been missed before it. */
  onResync(): void;
}

const MIN_DELAY = 500;
const MAX_DELAY = 15_000;
/** A connection that stays up this long resets the backoff. */
const STABLE_MS = 5_000;

/** Connects and keeps reconnecting until the returned function is called. */
export function connectLive(h: LiveHandlers): () => void {
  let ws: WebSocket | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let openedAt = 0;
  let stopped = false;

  const schedule = () => {
    if (stopped) return;
    const base = Math.min(MAX_DELAY, MIN_DELAY * 2 ** attempt);
    attempt++;
    // Jitter, so many tabs do not reconnect in lockstep after a restart.
    timer = setTimeout(open, base / 2 + Math.random() * (base / 2));
  };

  const open = () => {
    if (stopped) return;
    h.onStatus('connecting');
    try {
      ws = new WebSocket(urls.events());
    } catch {
      h.onStatus('offline');
      schedule();
      return;
    }
    ws.onopen = () => {
      openedAt = Date.now();
      h.onStatus('live');
      // The list was loaded before this connection: mail may have arrived in between (or while
      // the connection was down), so the app refetches what it shows.
      h.onResync();
    };
    ws.onmessage = (m) => {
      if (typeof m.data !== 'string') return;
      let ev: LiveEvent;
      try {
        ev = JSON.parse(m.data) as LiveEvent;
      } catch {
        return;
      }
      if (ev && typeof ev.Type === 'string') h.onEvent(ev);
    };
    ws.onclose = () => {
      ws = null;
      if (stopped) return;
      if (openedAt && Date.now() - openedAt > STABLE_MS) attempt = 0;
      openedAt = 0;
      h.onStatus('offline');
      schedule();
    };
  };

  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (ws) {
      ws.onclose = null;
      ws.close();
    }
  };
}
