// The requests waiting at GET /api/v1/wait, and what wakes them. The local event bus says when a
// message was parsed or changed; that message is read once and matched in memory against every
// waiting search (search/match.ts, the SQL search's meaning), and only a waiter it could answer
// looks in the store (look-up.ts). Parses on other nodes never reach this bus, so with a shared
// store, or without a local worker, every waiter also looks once a second; otherwise once every
// few seconds, for changes no event announces (tags added by a route's store action, say).
import { inboxOf } from '../../../domain/inbox.ts';
import type { MessageSummary, StoredMessage } from '../../../domain/message.ts';
import type { EventBus } from '../../../events/bus.ts';
import type { Logger } from '../../../observability/logger.ts';
import type { SearchQuery } from '../../../search/ast.ts';
import { type MatchTarget, matchesSearch } from '../../../search/match.ts';
import { messageSearchDocument } from '../../../search/text.ts';
import type { Storage } from '../../../storage/ports.ts';
import { lookUp } from './look-up.ts';

const TICK_MS = 1000;
/** Ticks between looks when the local events see every parse. */
const QUIET_TICKS = 5;

export interface WaitRequest {
  query: SearchQuery;
  /** Only messages stored after this sequence number (oldest first); null: the newest match. */
  after: number | null;
  timeoutMs: number;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export type WaitOutcome =
  | { kind: 'found'; message: MessageSummary }
  | { kind: 'timeout' }
  /** The server is shutting down. */
  | { kind: 'closing' }
  | { kind: 'gone' };

export interface WaitersDeps {
  storage: Storage;
  events: EventBus;
  logger: Logger;
  /** False once the server is shutting down: waiters are let go at once. */
  ready: () => boolean;
  max: number;
  /** True when some parses never reach the local bus (another node, no local worker). */
  remoteParses: boolean;
  /** Between looks without an event, and checks of ready(); 1 s by default. */
  tickMs?: number;
}

interface Waiter {
  req: WaitRequest;
  /** A match is known, but an older message is still being parsed: any parse may release it. */
  held: boolean;
  looking: boolean;
  again: boolean;
  timedOut: boolean;
  finish(outcome: WaitOutcome): void;
}

function matchTarget(m: StoredMessage): MatchTarget | null {
  if (!m.parsed) return null;
  return {
    doc: messageSearchDocument(m.parsed),
    tags: m.tags,
    read: m.read,
    attachments: m.attachmentCount,
    inline: m.inlineCount,
    receivedAt: Date.parse(m.receivedAt),
    size: m.size,
    inbox: inboxOf(m.envelope),
  };
}

export class Waiters {
  private readonly deps: WaitersDeps;
  private readonly waiting = new Set<Waiter>();
  private unsubscribe: (() => void) | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private ticks = 0;

  constructor(deps: WaitersDeps) {
    this.deps = deps;
  }

  get size(): number {
    return this.waiting.size;
  }

  /** Waits for a match; null when `max` requests are waiting already. */
  wait(req: WaitRequest): Promise<WaitOutcome> | null {
    if (this.waiting.size >= this.deps.max) return null;
    return new Promise((resolve) => {
      const onAbort = () => w.finish({ kind: 'gone' });
      const timer = setTimeout(() => {
        w.timedOut = true;
        if (!w.looking) w.finish({ kind: 'timeout' });
      }, req.timeoutMs);
      // The server's sockets keep the process alive; a waiting request alone need not.
      timer.unref();
      const w: Waiter = {
        req,
        held: false,
        looking: false,
        again: false,
        timedOut: false,
        finish: (outcome) => {
          if (!this.waiting.delete(w)) return;
          clearTimeout(timer);
          req.signal.removeEventListener('abort', onAbort);
          if (this.waiting.size === 0) this.idle();
          resolve(outcome);
        },
      };
      this.waiting.add(w);
      if (this.waiting.size === 1) this.busy();
      req.signal.addEventListener('abort', onAbort, { once: true });
      if (req.signal.aborted) w.finish({ kind: 'gone' });
      // Subscribed before this first look, so nothing parsed during it goes unnoticed.
      else void this.look(w);
    });
  }

  /** Looks in the store; a wake-up during a look makes one more look after it. */
  private async look(w: Waiter): Promise<void> {
    if (w.looking) {
      w.again = true;
      return;
    }
    w.looking = true;
    try {
      do {
        w.again = false;
        const query = w.req.query.clauses.length > 0 ? w.req.query : undefined;
        const found = await lookUp(this.deps.storage, query, w.req.after);
        if (found.kind === 'found') return w.finish(found);
        w.held = found.kind === 'held';
      } while (w.again && !w.timedOut && this.waiting.has(w));
    } catch (err) {
      this.deps.logger.error({ err }, 'a wait could not look in the store');
    } finally {
      w.looking = false;
      if (w.timedOut) w.finish({ kind: 'timeout' });
    }
  }

  private busy(): void {
    const { events } = this.deps;
    const offs = [
      events.on('message:parsed', ({ id, ok }) => (ok ? this.changed(id) : this.wakeAll())),
      events.on('message:updated', ({ id }) => this.changed(id)),
      events.on('tags:changed', () => this.wakeAll()),
      // A held waiter may have been waiting for a message that is gone now.
      events.on('message:deleted', () => this.wakeHeld()),
      events.on('messages:pruned', () => this.wakeHeld()),
    ];
    this.unsubscribe = () => {
      for (const off of offs) off();
    };
    this.ticks = 0;
    this.ticker = setInterval(() => this.tick(), this.deps.tickMs ?? TICK_MS);
    this.ticker.unref();
  }

  private idle(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }

  private tick(): void {
    if (!this.deps.ready()) {
      for (const w of [...this.waiting]) w.finish({ kind: 'closing' });
      return;
    }
    this.ticks++;
    if (this.deps.remoteParses || this.ticks % QUIET_TICKS === 0) this.wakeAll();
  }

  private wakeAll(): void {
    for (const w of this.waiting) void this.look(w);
  }

  private wakeHeld(): void {
    for (const w of this.waiting) if (w.held) void this.look(w);
  }

  /** A message was parsed or changed: wakes the waiters it could answer (or release). */
  private changed(id: string): void {
    this.deps.storage.get(id).then(
      (m) => {
        if (!m) return this.wakeHeld();
        const target = matchTarget(m);
        for (const w of this.waiting) {
          const inRange = w.req.after === null || m.seq > w.req.after;
          if (w.held || target === null || (inRange && matchesSearch(w.req.query, target))) void this.look(w);
        }
      },
      (err: unknown) => {
        this.deps.logger.error({ err }, 'a wait could not read a changed message');
        this.wakeAll();
      },
    );
  }
}
