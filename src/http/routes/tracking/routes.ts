// The addresses tracked mail points at (outbound/tracking.ts): GET /t/o/{id}/{sig}.gif answers a
// 1×1 GIF and records message:opened; GET /t/c/{id}/{sig}?u=URL records message:clicked and
// redirects to URL. A signature that does not match is a 404, never a redirect. Recipients' mail
// programs call these without credentials, so the access policy lets them through like probes.
//
// Event ids are stable per message, reader (address and user agent) and minute: a mail program
// that loads the pixel five times in a minute makes one open, a reader who comes back later
// another. Image proxies (Gmail's) and link scanners (Outlook's) also fetch these; their user agent
// is recorded so they can be told apart.
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import {
  CLICK_PATH,
  OPEN_PATH,
  type TrackingSettings,
  verifyClick,
  verifyOpen,
} from '../../../outbound/tracking.ts';
import type { LateEvent, OutboundStore } from '../../../storage/ports.ts';
import type { AppEnv } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';

/** The smallest transparent GIF (1×1, one transparent colour). */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const MAX_USER_AGENT = 300;
/** Message ids are ours (domain/ids.ts): short and URL-safe. */
const ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface TrackingRouteDeps {
  queue: OutboundStore;
  tracking: TrackingSettings | null;
  now: () => number;
}

function clientIp(env: unknown): string {
  const incoming = (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? '';
}

function short(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 10);
}

export function trackingRoutes(deps: TrackingRouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const notFound = () => new HttpProblem('not-found', 'No such tracking link.');

  async function record(
    c: { get(key: 'log'): AppEnv['Variables']['log'] },
    id: string,
    event: Omit<LateEvent, 'id' | 'at' | 'deliveryId'>,
    reader: string,
    extra = '',
  ): Promise<void> {
    const now = deps.now();
    const minute = Math.floor(now / 60_000);
    const kind = event.type === 'message:opened' ? 'open' : 'click';
    try {
      await deps.queue.addEvents(id, [
        {
          ...event,
          id: `${id}.${kind}.${short(reader + extra)}.${minute}`,
          at: new Date(now).toISOString(),
          deliveryId: null,
        },
      ]);
    } catch (err) {
      // The reader still gets the image or the page; a lost open is not worth an error.
      c.get('log').warn({ err, outbound: id }, 'recording a tracking event failed');
    }
  }

  app.get(`${OPEN_PATH}/:id/:file`, async (c) => {
    const t = deps.tracking;
    const id = c.req.param('id');
    const sig = /^([A-Za-z0-9_-]{22})\.gif$/.exec(c.req.param('file'))?.[1];
    if (!t || !ID.test(id) || !sig || !verifyOpen(t.secret, id, sig)) throw notFound();
    const userAgent = (c.req.header('User-Agent') ?? '').slice(0, MAX_USER_AGENT);
    const ip = clientIp(c.env);
    await record(c, id, { type: 'message:opened', data: { userAgent, ip } }, `${ip}\n${userAgent}`);
    return c.body(new Uint8Array(PIXEL), 200, {
      'Content-Type': 'image/gif',
      'Cache-Control': 'no-store, private',
    });
  });

  app.get(`${CLICK_PATH}/:id/:sig`, async (c) => {
    const t = deps.tracking;
    const id = c.req.param('id');
    const sig = c.req.param('sig');
    const url = c.req.query('u');
    if (!t || !ID.test(id) || url === undefined || !verifyClick(t.secret, id, url, sig)) throw notFound();
    const userAgent = (c.req.header('User-Agent') ?? '').slice(0, MAX_USER_AGENT);
    const ip = clientIp(c.env);
    await record(
      c,
      id,
      { type: 'message:clicked', data: { url, userAgent, ip } },
      `${ip}\n${userAgent}`,
      url,
    );
    return c.body(null, 302, {
      Location: url,
      'Cache-Control': 'no-store, private',
      'Referrer-Policy': 'no-referrer',
    });
  });

  return app;
}
