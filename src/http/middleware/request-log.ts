// Gives every request an id (echoed in X-Request-Id) and a child logger carrying it, then logs
// method, path, status and duration at debug level. Only those fields are logged: never headers
// (Authorization, cookies) nor bodies, which may hold credentials or message content.
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../observability/logger.ts';
import type { AppEnv } from '../deps.ts';

/** A client-supplied id is reused for correlation only if it is short and harmless in a log line. */
const CLIENT_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function requestLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && CLIENT_ID.test(incoming) ? incoming : randomUUID();
    const log = logger.child({ reqId: requestId });
    c.set('requestId', requestId);
    c.set('log', log);
    const started = performance.now();
    await next();
    c.header('X-Request-Id', requestId);
    log.debug(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      'http request',
    );
  };
}
