// What the HTTP API needs from the rest of Mailroom, passed in by the composition root.
import type { Config } from '../config/schema.ts';
import type { MimeParser } from '../mime/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Storage } from '../storage/ports.ts';

export interface HttpDeps {
  storage: Storage;
  parser: MimeParser;
  metrics: Metrics;
  logger: Logger;
  config: Config;
  /** True once the process has finished starting (and is not shutting down). */
  ready: () => boolean;
  version: string;
  /** Process start time in epoch milliseconds, for the uptime in /api/v1/info. */
  startedAt: number;
}

/** Per-request values set by middleware. */
export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
  };
}

/** Counters the API keeps for the life of the process (Mailpit reports them in RuntimeStats). */
export interface RuntimeCounters {
  messagesDeleted: number;
}
