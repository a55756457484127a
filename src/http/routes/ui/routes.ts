// Serves the built web UI (dist/ui, made by `npm run build`): index.html for the UI's own paths
// ("/", "/m/{ID}", "/tickets" and "/tickets/{KEY}", routed in the browser), content-hashed files
// under /assets/ cached for good, and the few unhashed files of ui/public. index.html carries a
// strict CSP: the UI's own scripts and styles only, no inline code, frames only from this origin
// (the /view iframe).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { AppEnv } from '../../deps.ts';
import { problemResponse } from '../../errors.ts';

/** The UI's Content-Security-Policy (index.html). */
export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  // 'self' covers ws:// and wss:// to this host (CSP Level 3), which the live updates use.
  "connect-src 'self'",
  "frame-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

const DEFAULT_DIST = fileURLToPath(new URL('../../../../dist/ui/', import.meta.url));

const IMMUTABLE = 'public, max-age=31536000, immutable';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

/** One path segment of a built file: no separators, no leading dot, so no way out of dist. */
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/;

export interface UiOptions {
  /** The built UI; defaults to dist/ui at the repository root. */
  distDir?: string;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

async function readOrNull(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

function body(bytes: Buffer): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) as Uint8Array<ArrayBuffer>;
}

export function uiRoutes(options: UiOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const dist = options.distDir ?? DEFAULT_DIST;

  const index = async (c: Context<AppEnv>): Promise<Response> => {
    const html = await readOrNull(join(dist, 'index.html'));
    if (!html) {
      return problemResponse(
        'not-ready',
        'The web UI has not been built: run `npm run build` (it writes dist/ui), then reload.',
      );
    }
    const etag = `"${createHash('sha256').update(html).digest('base64url').slice(0, 27)}"`;
    const headers: Record<string, string> = {
      'Content-Security-Policy': UI_CSP,
      'Cache-Control': 'no-cache',
      ETag: etag,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
    };
    if (c.req.header('If-None-Match') === etag) return new Response(null, { status: 304, headers });
    return new Response(body(html), {
      status: 200,
      headers: { ...headers, 'Content-Type': 'text/html; charset=utf-8' },
    });
  };

  const file = async (c: Context<AppEnv>, path: string, name: string, cache: string): Promise<Response> => {
    const type = CONTENT_TYPES[extname(name).toLowerCase()];
    if (!FILE_NAME.test(name) || !type) return c.notFound();
    const bytes = await readOrNull(path);
    if (!bytes) return c.notFound();
    return new Response(body(bytes), {
      status: 200,
      headers: {
        'Content-Type': type,
        'Content-Length': String(bytes.byteLength),
        'Cache-Control': cache,
        'X-Content-Type-Options': 'nosniff',
      },
    });
  };

  app.get('/', index);
  app.get('/m/:id{[^/]+}', index);
  app.get('/m/:id{[^/]+}/', index);
  app.get('/tickets', index);
  app.get('/tickets/', index);
  app.get('/tickets/:key{[^/]+}', index);
  app.get('/tickets/:key{[^/]+}/', index);

  // Hashed build output: the name changes whenever the content does.
  app.get('/assets/:name', (c) => {
    const name = c.req.param('name');
    if (!FILE_NAME.test(name)) return c.notFound();
    return file(c, join(dist, 'assets', name), name, IMMUTABLE);
  });

  // ui/public files (favicon, theme-init.js): stable names, so revalidated on every load.
  app.get('/:name{[A-Za-z0-9_-][A-Za-z0-9._-]*\\.(?:svg|js|png|ico|txt|webmanifest)}', (c) => {
    const name = c.req.param('name');
    return file(c, join(dist, name), name, 'no-cache');
  });

  return app;
}
