// Turns a message's HTML into a standalone document that is safe to show: it is served with a CSP
// that forbids scripts, plugins, frames, forms and (until the reader allows them) remote resources,
// and with the CSP `sandbox` directive, so even opened directly it runs nothing in Mailroom's
// origin. Here the markup is only prepared: cid: images become data: URLs, and what CSP cannot
// stop (a meta refresh navigating the frame, a <base> redirecting relative links) is removed.

export interface InlineImage {
  contentId: string;
  contentType: string;
  content: Uint8Array;
}

export interface RenderedView {
  html: string;
  csp: string;
  /** Remote resources (http/https URLs in src, srcset, background, poster, url()) in the HTML. */
  remoteResources: number;
}

/** Inline images larger than this (together) stay as broken cid: references. */
export const MAX_INLINE_BYTES = 16 * 1024 * 1024;

const META_REFRESH = /<meta\b[^>]*http-equiv\s*=\s*["']?\s*refresh[^>]*>/gi;
const BASE_TAG = /<base\b[^>]*>/gi;
const PRELOAD_LINK =
  /<link\b[^>]*\brel\s*=\s*["']?[^"'>]*\b(?:prefetch|preload|preconnect|prerender|modulepreload)\b[^>]*>/gi;
const REMOTE_URL =
  /(?:\b(?:src|srcset|background|poster|href)\s*=\s*["']?\s*|url\(\s*["']?\s*)(?:https?:)?\/\/[^\s"'<>)]+/gi;
const STYLESHEET_LINK = /<link\b[^>]*>/gi;

function escapeCid(id: string): string {
  return id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Counts remote references the CSP will block; <a href> links are not resources and do not count. */
function countRemote(html: string): number {
  let n = 0;
  for (const m of html.matchAll(REMOTE_URL)) {
    if (/^href/i.test(m[0])) {
      // Only a stylesheet <link href> loads anything; anchors are navigation.
      continue;
    }
    n++;
  }
  for (const link of html.matchAll(STYLESHEET_LINK)) {
    if (/\brel\s*=\s*["']?stylesheet/i.test(link[0]) && /href\s*=\s*["']?\s*(?:https?:)?\/\//i.test(link[0]))
      n++;
  }
  return n;
}

export function contentSecurityPolicy(allowRemote: boolean): string {
  const remote = allowRemote ? ' https: http:' : '';
  return [
    "default-src 'none'",
    `img-src data:${remote}`,
    `style-src 'unsafe-inline'${remote}`,
    `font-src data:${remote}`,
    `media-src data:${remote}`,
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'self'",
    // The document is sandboxed however it is opened: no scripts, an opaque origin, no forms; links
    // may open in a new tab, outside the sandbox.
    'sandbox allow-popups allow-popups-to-escape-sandbox',
  ].join('; ');
}

/**
 * `embed` (the web UI's preview) also removes what would navigate or redirect the frame and opens
 * links in a new tab; without it the HTML is served as the message has it, cid: images aside, for
 * clients that compare it (the CSP keeps it inert either way).
 */
export function renderView(
  html: string,
  images: readonly InlineImage[],
  options: { allowRemote: boolean; embed: boolean },
): RenderedView {
  let body = options.embed
    ? html.replace(META_REFRESH, '').replace(BASE_TAG, '').replace(PRELOAD_LINK, '')
    : html;
  let budget = MAX_INLINE_BYTES;
  for (const img of images) {
    if (!img.contentId || img.content.byteLength > budget) continue;
    budget -= img.content.byteLength;
    const type = /^image\/[a-z0-9.+-]+$/i.test(img.contentType)
      ? img.contentType.toLowerCase()
      : 'application/octet-stream';
    const url = `data:${type};base64,${Buffer.from(img.content).toString('base64')}`;
    body = body.replace(new RegExp(`cid:${escapeCid(img.contentId)}(?=["'\\s)>])`, 'gi'), () => url);
  }
  // Links open in a new tab: navigating the sandboxed frame itself would leave the preview.
  const head = options.embed ? '<!DOCTYPE html><meta charset="utf-8"><base target="_blank">' : '';
  return {
    html: head + body,
    csp: contentSecurityPolicy(options.allowRemote),
    remoteResources: countRemote(body),
  };
}
