// Headers every API response carries. The API serves JSON, raw messages and attachment parts,
// none of which may be sniffed into HTML, framed (clickjacking) or leak the URL as a referrer.
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../deps.ts';

/**
 * `default-src 'none'` plus `sandbox` means an HTML or SVG part opened directly in a browser can
 * neither run script nor load anything with this origin's privileges; frame-ancestors is the CSP
 * form of X-Frame-Options (CSP Level 2 §7.7), sent together for older browsers.
 */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox";

export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    // The message view is framed by the web UI and says so itself.
    if (!c.res.headers.has('X-Frame-Options')) c.header('X-Frame-Options', 'DENY');
    // A route that serves a document of its own (the web UI) sets its own policy first.
    if (!c.res.headers.has('Content-Security-Policy')) c.header('Content-Security-Policy', API_CSP);
  };
}
