// Routes every received message once, in arrival order: after it is parsed, the routes in force
// are evaluated and the outcome — events, and one job per action to run — is committed together
// with the move of the routing cursor. A crash between evaluation and commit leaves the cursor
// where it was, and the next pass routes the same messages again; job and event ids are derived
// from the message, route and action, so nothing is started or recorded twice.
import { DESK_ROUTE_PREFIX } from '../actions/ticket/ticket-action.ts';
import type { Listener } from '../domain/message.ts';
import type { Logger } from '../observability/logger.ts';
import type { RouteBook } from '../routing/route-book.ts';
import type { Evaluation } from '../routing/router.ts';
import { routingMessage } from '../routing/routing-message.ts';
import { WakeLoop } from '../runtime/wake-loop.ts';
import type { InboundEventInput, NewActionJob, RoutingCandidate } from '../storage/inbound-ports.ts';
import type { Storage } from '../storage/ports.ts';
import { readOwnResults } from './auth-results-read.ts';

/** Doors whose mail is routed: the MX listener and the pollers, not authenticated submission or the API. */
export const ROUTED_LISTENERS: ReadonlySet<Listener> = new Set<Listener>(['smtp', 'smtps', 'imap', 'pop3']);

export interface RouteRunnerDeps {
  storage: Storage;
  book: RouteBook;
  logger: Logger;
  owner: string;
  /** Our host name: the authserv-id of the Authentication-Results header route conditions read. */
  hostname: string;
  now?: () => number;
  /** How long an action keeps being retried (webhooks: at least 24 hours). */
  actionLifetimeMs: number;
  leaseMs?: number;
  batch?: number;
  pollMs?: number;
  /** How long wake() waits for more parsed messages before a pass (0: at once). */
  settleMs?: number;
  /**
   * The sender an SRS address of ours stands for (mail we forwarded bounced back to it), or null.
   * Mail to such an address goes back to that sender, whatever the routes say.
   */
  returnPath?: (rcpt: string) => string | null;
  /** The name of the desk an address belongs to (its intake or a ticket's address), or null. */
  deskOf?: (rcpt: string) => string | null;
  /** Told when a pass committed action jobs (the action runner takes them at once). */
  onJobs?: () => void;
}

/** The built-in route that returns bounces of forwarded mail (not a valid route id: no clash). */
export const SRS_RETURN_ROUTE = '@srs-return';

const DEFAULTS = { leaseMs: 60_000, batch: 100, pollMs: 2000, settleMs: 10 };
const NOTHING = { moved: 0, more: false };

/** What routing a batch leads to, committed with the cursor's move. */
type Outcome = { events: InboundEventInput[]; jobs: NewActionJob[]; now: number };

export class RouteRunner {
  private readonly d: RouteRunnerDeps & typeof DEFAULTS;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private settle: NodeJS.Timeout | null = null;
  private readonly loop: WakeLoop;

  constructor(deps: RouteRunnerDeps) {
    this.d = { ...DEFAULTS, ...deps };
    this.now = deps.now ?? Date.now;
    this.loop = new WakeLoop(
      () => this.drain(),
      (err) => this.d.logger.error({ err }, 'routing failed; the messages are tried again'),
    );
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), this.d.pollMs);
    this.timer.unref();
    this.wake();
  }

  /**
   * Looks for work soon (messages were parsed): after a short settling pause, so that mail
   * arriving one message at a time is routed in batches (each pass is two writes, the lease and
   * the cursor) rather than one pass per message. Calls during a pass make it look once more.
   */
  wake(): void {
    if (this.d.settleMs <= 0) {
      this.loop.wake();
      return;
    }
    this.settle ??= setTimeout(() => {
      this.settle = null;
      this.loop.wake();
    }, this.d.settleMs).unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.settle) clearTimeout(this.settle);
    this.settle = null;
    await this.loop.stop();
  }

  /** Routes until nothing routable is left (tests call it directly); returns how many were routed. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const { moved, more } = await this.pass();
      total += moved;
      if (moved === 0 || !more) return total;
    }
  }

  /**
   * One batch: how many messages the cursor moved past, and whether more may be waiting behind
   * them (the batch was full and all of it was routed).
   */
  private async pass(): Promise<{ moved: number; more: boolean }> {
    const now = this.now();
    const at = new Date(now).toISOString();
    const candidates = await this.d.storage.inbound.takeRouting({
      owner: this.d.owner,
      now: at,
      leaseMs: this.d.leaseMs,
      limit: this.d.batch,
    });
    if (!candidates || candidates.length === 0) return NOTHING;
    // In order, up to the first message still waiting for its parse.
    const ready: RoutingCandidate[] = [];
    for (const c of candidates) {
      if (c.parseState === 'pending') break;
      ready.push(c);
    }
    if (ready.length === 0) return NOTHING;
    const router = await this.d.book.router();
    const events: InboundEventInput[] = [];
    const jobs: NewActionJob[] = [];
    for (const c of ready) {
      if (!ROUTED_LISTENERS.has(c.listener)) continue;
      // Without routes only the built-in ones (SRS returns, desks) can apply, and they go by the
      // envelope recipients alone: the stored message is read only when one of them matches.
      if (router.routes.length === 0 && !this.builtInApplies(c.rcptTo)) continue;
      await this.route(c, router, { events, jobs, now });
    }
    const committed = await this.d.storage.inbound.commitRouting({
      owner: this.d.owner,
      now: at,
      throughSeq: ready.at(-1)!.seq,
      events,
      jobs,
    });
    if (!committed) {
      this.d.logger.warn('routing: lost the routing lease before committing; another node routes these');
      return NOTHING;
    }
    if (jobs.length > 0) {
      this.d.logger.info({ messages: ready.length, jobs: jobs.length }, 'messages routed');
      this.d.onJobs?.();
    }
    return {
      moved: ready.length,
      more: ready.length === candidates.length && candidates.length === this.d.batch,
    };
  }

  private builtInApplies(rcptTo: readonly string[]): boolean {
    return rcptTo.some(
      (r) => (this.d.returnPath?.(r) ?? null) !== null || (this.d.deskOf?.(r) ?? null) !== null,
    );
  }

  private async route(
    c: RoutingCandidate,
    router: Awaited<ReturnType<RouteBook['router']>>,
    out: Outcome,
  ): Promise<void> {
    const stored = await this.d.storage.get(c.id);
    if (!stored) return; // deleted before it was routed
    if (!stored.parsed) {
      out.events.push({
        id: `${c.id}:routing:unparsed`,
        type: 'route:skipped',
        messageId: c.id,
        routeId: null,
        data: {
          reason: `the message could not be parsed (${stored.parseError ?? 'unknown error'}), so no route was evaluated`,
        },
      });
      return;
    }
    const m = routingMessage({
      mailFrom: stored.envelope.mailFrom,
      rcptTo: stored.envelope.rcptTo,
      size: stored.size,
      parsed: stored.parsed,
      auth: readOwnResults(stored.parsed.headers ?? [], this.d.hostname),
    });
    this.returnForwarded(c.id, stored.envelope.rcptTo, out);
    this.toDesks(c.id, stored.envelope.rcptTo, out);
    if (router.routes.length === 0) return;
    const evaluation = router.evaluate(m);
    this.record(c.id, evaluation, router.routes, out);
  }

  /** A bounce (or any reply) to an SRS address of ours is forwarded to the sender it stands for. */
  private returnForwarded(messageId: string, rcptTo: readonly string[], out: Outcome): void {
    const to = [...new Set(rcptTo.flatMap((r) => this.d.returnPath?.(r) ?? []))];
    if (to.length === 0) return;
    this.builtIn(
      messageId,
      SRS_RETURN_ROUTE,
      { type: 'forward', to },
      { reason: 'sent to an SRS address of mail forwarded from here: returned to its sender', to },
      out,
    );
  }

  /** Mail to a desk's addresses goes to that desk once, however many of them it was sent to. */
  private toDesks(messageId: string, rcptTo: readonly string[], out: Outcome): void {
    const desks = [...new Set(rcptTo.flatMap((r) => this.d.deskOf?.(r) ?? []))];
    for (const desk of desks) {
      this.builtIn(
        messageId,
        `${DESK_ROUTE_PREFIX}${desk}`,
        { type: 'ticket', desk },
        { reason: `sent to an address of the desk ${desk}` },
        out,
      );
    }
  }

  /** A built-in route's match: its event and its one action's job. */
  private builtIn(
    messageId: string,
    routeId: string,
    action: NewActionJob['action'],
    data: Record<string, unknown>,
    out: Outcome,
  ): void {
    out.events.push({
      id: `${messageId}:${routeId}:matched`,
      type: 'route:matched',
      messageId,
      routeId,
      data,
    });
    out.jobs.push({
      id: `${messageId}:${routeId}:0`,
      messageId,
      routeId,
      actionIndex: 0,
      action,
      captures: {},
      recipient: null,
      dueAt: new Date(out.now).toISOString(),
      expiresAt: new Date(out.now + this.d.actionLifetimeMs).toISOString(),
    });
  }

  private record(
    messageId: string,
    e: Evaluation,
    routes: readonly { id: string; actions: readonly NewActionJob['action'][] }[],
    out: Outcome,
  ): void {
    const byId = new Map(routes.map((r) => [r.id, r]));
    const due = new Date(out.now).toISOString();
    const expires = new Date(out.now + this.d.actionLifetimeMs).toISOString();
    for (const v of e.verdicts) {
      if (v.timedOut) {
        out.events.push({
          id: `${messageId}:${v.routeId}:timed-out`,
          type: 'route:timed-out',
          messageId,
          routeId: v.routeId,
          data: { reason: v.reason },
        });
      }
      if (!v.matched) continue;
      out.events.push({
        id: `${messageId}:${v.routeId}:matched`,
        type: 'route:matched',
        messageId,
        routeId: v.routeId,
        data: { reason: v.reason, captures: v.captures, recipient: v.recipient },
      });
      byId.get(v.routeId)!.actions.forEach((action, i) => {
        if (action.type === 'stop') return;
        out.jobs.push({
          id: `${messageId}:${v.routeId}:${i}`,
          messageId,
          routeId: v.routeId,
          actionIndex: i,
          action,
          captures: v.captures,
          recipient: v.recipient,
          dueAt: due,
          expiresAt: expires,
        });
      });
    }
  }
}
