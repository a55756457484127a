// What the HTTP API needs from the rest of Mailroom, passed in by the composition root.

import type { Config } from '../config/schema.ts';
import type { EventBus } from '../events/bus.ts';
import type { MimeParser } from '../mime/types.ts';
import type { AddressResolver } from '../net/safe-lookup.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Releaser } from '../outbound/release.ts';
import type { SendServiceDeps } from '../outbound/send-service.ts';
import type { RouteBook } from '../routing/route-book.ts';
import type { Chaos } from '../smtp/chaos.ts';
import type { Storage } from '../storage/ports.ts';
import type { TicketServices } from '../tickets/setup.ts';
import type { AccessPolicy, AccessVariables } from './middleware/access.ts';

export interface HttpDeps {
  storage: Storage;
  parser: MimeParser;
  events: EventBus;
  /** Host, cross-origin and credential checks (createAccessPolicy). */
  access: AccessPolicy;
  /** Scores a raw message for sa-check; null when no spam checker is configured. */
  spam: SpamScorer | null;
  metrics: Metrics;
  logger: Logger;
  config: Config;
  /** Told when an action job became due (a replay): a worker on this node looks at once. */
  onActionDue?: () => void;
  /** The support desks' services (tickets API); with no desk configured, every list is empty. */
  tickets: TicketServices;
  /** The inbound routes in force (routes file and stored). */
  routes: RouteBook;
  /** What POST /api/v1/send composes and queues with. */
  send: SendServiceDeps;
  /** DNS for the link check (tests inject a fake zone); the system's resolver when absent. */
  linkResolver?: AddressResolver;
  /** Chaos testing of this process's SMTP listeners (/api/v1/chaos); absent or null when off. */
  chaos?: Chaos | null;
  /** Sends stored messages on to the release server (/api/v1/message/{ID}/release); null when off. */
  releaser?: Releaser | null;
  /** True once the process has finished starting (and is not shutting down). */
  ready: () => boolean;
  version: string;
  /** Process start time in epoch milliseconds, for the uptime in /api/v1/info. */
  startedAt: number;
}

/** What the sa-check endpoint needs of a spam checker (src/spam implements it). */
export interface SpamScorer {
  check(
    raw: Uint8Array,
    context: {
      clientIp?: string;
      helo?: string;
      mailFrom?: string;
      rcptTo?: string[];
      authUser?: string | null;
    },
    signal?: AbortSignal,
  ): Promise<unknown>;
}

/** Per-request values set by middleware. */
export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
  } & AccessVariables;
}

/** Counters the API keeps for the life of the process (Mailpit reports them in RuntimeStats). */
export interface RuntimeCounters {
  messagesDeleted: number;
}
