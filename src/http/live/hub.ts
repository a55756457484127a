// Live updates for the web UI over WebSocket at /api/events, in Mailpit's shape: each frame is
// `{"Type": ..., "Data": ...}` with Type `new` (a message summary), `update` ({ID, Read} or
// {ID, Tags}), `delete` ({ID}), `truncate`, `prune` (many changed: reload) and `stats`
// ({Total, Unread, Version}). Events come from the in-process bus; nothing is sent while no client
// is connected, and bursts are coalesced so a flood of mail cannot flood the browsers.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { inboxOf } from '../../domain/inbox.ts';
import type { EventBus } from '../../events/bus.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Storage } from '../../storage/ports.ts';
import { mailboxOfInbox } from '../mailbox.ts';
import { type UpgradeVerdict, writeUpgradeRefusal } from '../middleware/access.ts';
import { presentSummary } from '../routes/messages/presenter.ts';

export const EVENTS_PATH = '/api/events';

/** New messages announced one by one per flush; beyond this the UI is told to reload instead. */
const MAX_NEW_PER_FLUSH = 50;
const FLUSH_MS = 100;
const STATS_MS = 250;
const PING_MS = 30_000;
const MAX_CLIENTS = 500;
/** A client this far behind (bytes queued) is disconnected rather than buffered without end. */
const MAX_BUFFERED = 8 * 1024 * 1024;

/** The access policy's check of an upgrade (Host, credentials, Origin). */
export type UpgradeCheck = (req: IncomingMessage) => Promise<UpgradeVerdict>;

export interface LiveHubDeps {
  storage: Storage;
  events: EventBus;
  logger: Logger;
  version: string;
}

export class LiveHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly deps: LiveHubDeps;
  private readonly unsubscribe: (() => void)[] = [];
  private pendingNew: string[] = [];
  private overflow = false;
  private flushTimer: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private readonly pingTimer: NodeJS.Timeout;
  private readonly alive = new WeakSet<WebSocket>();
  /** The inbox each client is limited to (its credentials'), or null for every inbox. */
  private readonly scopes = new WeakMap<WebSocket, string | null>();

  constructor(deps: LiveHubDeps) {
    this.deps = deps;
    const { events } = deps;
    this.unsubscribe.push(
      events.on('message:parsed', ({ id }) => this.queueNew(id)),
      events.on('message:deleted', ({ ids }) => {
        // Clients limited to an inbox reload instead: "all" of the store is not theirs to know.
        if (ids === 'all') {
          this.send({ Type: 'truncate', Data: null }, (inbox) => inbox === null);
          this.send({ Type: 'prune', Data: null }, (inbox) => inbox !== null);
        } else if (ids.length > MAX_NEW_PER_FLUSH) this.send({ Type: 'prune', Data: null });
        else for (const id of ids) this.send({ Type: 'delete', Data: { ID: id } });
        this.scheduleStats();
      }),
      events.on('message:updated', ({ id, read, tags }) => {
        if (read !== undefined) this.send({ Type: 'update', Data: { ID: id, Read: read } });
        if (tags !== undefined) this.send({ Type: 'update', Data: { ID: id, Tags: tags } });
        this.scheduleStats();
      }),
      events.on('messages:pruned', () => {
        this.send({ Type: 'prune', Data: null });
        this.scheduleStats();
      }),
      events.on('tags:changed', () => this.send({ Type: 'prune', Data: null })),
    );
    this.pingTimer = setInterval(() => this.ping(), PING_MS);
    this.pingTimer.unref();
  }

  get clients(): number {
    return this.wss.clients.size;
  }

  /** Serves WebSocket upgrades on `server` at EVENTS_PATH after `check` accepts them. */
  attach(server: Server, check: UpgradeCheck): void {
    server.on('upgrade', async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      const path = (req.url ?? '').split('?')[0];
      if (path !== EVENTS_PATH) return refuse(socket, 404, 'Not Found');
      const verdict = await check(req).catch(() => null);
      if (!verdict) return refuse(socket, 500, 'Internal Server Error');
      // The policy's own refusal: problem JSON, and the challenges a 401 needs.
      if (!verdict.ok) return writeUpgradeRefusal(socket, verdict);
      if (this.wss.clients.size >= MAX_CLIENTS) return refuse(socket, 503, 'Too many live connections');
      const p = verdict.principal;
      const inbox = p.kind !== 'anonymous' ? (p.inbox ?? null) : null;
      this.wss.handleUpgrade(req, socket, head, (ws) => this.welcome(ws, inbox));
    });
  }

  close(): void {
    for (const u of this.unsubscribe) u();
    clearInterval(this.pingTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.statsTimer) clearTimeout(this.statsTimer);
    for (const ws of this.wss.clients) ws.close(1001, 'server shutting down');
    this.wss.close();
  }

  private welcome(ws: WebSocket, inbox: string | null): void {
    this.scopes.set(ws, inbox);
    this.alive.add(ws);
    ws.on('pong', () => this.alive.add(ws));
    ws.on('error', () => ws.terminate());
    // The UI only listens; anything it sends is ignored.
    ws.on('message', () => {});
    void this.statsFrame(inbox).then((frame) => {
      if (frame && ws.readyState === ws.OPEN) ws.send(frame);
    });
  }

  private scopeOf(ws: WebSocket): string | null {
    return this.scopes.get(ws) ?? null;
  }

  private ping(): void {
    for (const ws of this.wss.clients) {
      if (!this.alive.has(ws)) {
        ws.terminate();
        continue;
      }
      this.alive.delete(ws);
      ws.ping();
    }
  }

  /** Sends a frame to every client, or to those whose inbox scope `to` accepts. */
  private send(message: { Type: string; Data: unknown }, to?: (inbox: string | null) => boolean): void {
    if (this.wss.clients.size === 0) return;
    const frame = JSON.stringify(message);
    for (const ws of this.wss.clients) {
      if (ws.readyState !== ws.OPEN) continue;
      if (to && !to(this.scopeOf(ws))) continue;
      if (ws.bufferedAmount > MAX_BUFFERED) {
        ws.terminate();
        continue;
      }
      ws.send(frame);
    }
  }

  private queueNew(id: string): void {
    if (this.wss.clients.size === 0) return;
    if (this.pendingNew.length < MAX_NEW_PER_FLUSH) this.pendingNew.push(id);
    else this.overflow = true;
    this.flushTimer ??= setTimeout(() => void this.flushNew(), FLUSH_MS);
  }

  private async flushNew(): Promise<void> {
    this.flushTimer = null;
    const ids = this.pendingNew;
    const overflow = this.overflow;
    this.pendingNew = [];
    this.overflow = false;
    try {
      if (overflow) {
        this.send({ Type: 'prune', Data: null });
      } else {
        // Oldest first, so a UI that prepends each one ends with the newest on top.
        const summaries = await this.deps.storage.summaries(ids);
        for (const m of summaries.reverse()) {
          const inbox = inboxOf(m.envelope);
          this.send({ Type: 'new', Data: presentSummary(m) }, (scope) => scope === null || scope === inbox);
        }
      }
    } catch (err) {
      this.deps.logger.warn({ err }, 'live update failed');
    }
    this.scheduleStats();
  }

  private scheduleStats(): void {
    if (this.statsTimer || this.wss.clients.size === 0) return;
    this.statsTimer = setTimeout(() => {
      this.statsTimer = null;
      // One frame per inbox scope among the clients (the whole store's for unlimited ones).
      const scopes = new Set([...this.wss.clients].map((ws) => this.scopeOf(ws)));
      for (const scope of scopes) {
        void this.statsFrame(scope).then((frame) => {
          if (!frame) return;
          for (const ws of this.wss.clients)
            if (ws.readyState === ws.OPEN && this.scopeOf(ws) === scope) ws.send(frame);
        });
      }
    }, STATS_MS);
  }

  private async statsFrame(inbox: string | null): Promise<string | null> {
    try {
      const s = await mailboxOfInbox(this.deps.storage, inbox).stats();
      return JSON.stringify({
        Type: 'stats',
        Data: { Total: s.messages, Unread: s.unread, Version: this.deps.version },
      });
    } catch (err) {
      this.deps.logger.warn({ err }, 'live stats failed');
      return null;
    }
  }
}

/** Refusals that are the hub's own (no such path, too many sockets, a failed check). */
function refuse(socket: Duplex, status: number, reason: string): void {
  const body = JSON.stringify({ title: reason, status });
  socket.end(
    `HTTP/1.1 ${status} ${reason.replace(/[\r\n]/g, ' ')}\r\nConnection: close\r\n` +
      `Content-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
