// Open and click tracking, when asked for: the HTML part of a message gets a 1×1 image whose
// address names the message, and each web link goes through Mailroom, which records the click and
// redirects. Both addresses carry an HMAC of what they name, so nobody can forge an open, record a
// click for a message they did not get, or use the redirect to send people elsewhere (no open
// redirect): the target URL is part of what is signed.
//
// Only the HTML is touched, and only at composition, before DKIM signs the message. Links that are
// not http(s) (mailto:, tel:, #anchors, cid:) are left alone, as is any link marked
// `data-mailroom-track="off"`, for the links that must reach the reader unchanged.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/schema.ts';

export interface TrackingSettings {
  /** Public base URL of this server as recipients reach it, e.g. https://mail.example.com. */
  baseUrl: string;
  /** HMAC key shared by every node. */
  secret: string;
  /** Defaults for messages that do not say. */
  opens: boolean;
  clicks: boolean;
}

/** Shorter keys are refused at start: they could be guessed. */
export const MIN_TRACKING_SECRET = 32;

/** The tracking settings, checked; null when tracking is off (no --tracking-url). */
export function trackingFromConfig(
  c: Pick<Config, 'trackingUrl' | 'trackingSecret' | 'trackOpens' | 'trackClicks'>,
): TrackingSettings | null {
  if (c.trackingUrl === '') {
    if (c.trackOpens || c.trackClicks) {
      throw new ConfigError('--track-opens and --track-clicks need --tracking-url (and --tracking-secret)');
    }
    return null;
  }
  let url: URL;
  try {
    url = new URL(c.trackingUrl);
  } catch {
    throw new ConfigError(`--tracking-url: "${c.trackingUrl}" is not a URL`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username) {
    throw new ConfigError('--tracking-url: give an http(s) base URL without query, fragment or credentials');
  }
  if (c.trackingSecret.length < MIN_TRACKING_SECRET) {
    throw new ConfigError(
      `--tracking-secret (MAILROOM_TRACKING_SECRET) must be at least ${MIN_TRACKING_SECRET} characters when --tracking-url is set`,
    );
  }
  return {
    baseUrl: `${url.origin}${url.pathname}`.replace(/\/+$/, ''),
    secret: c.trackingSecret,
    opens: c.trackOpens,
    clicks: c.trackClicks,
  };
}

/** Links longer than this are left as they are (a signed redirect would only make them longer). */
export const MAX_TRACKED_URL = 2048;
/** Links rewritten in one message at most; the rest stay direct. */
export const MAX_TRACKED_LINKS = 500;

export const OPEN_PATH = '/t/o';
export const CLICK_PATH = '/t/c';

function mac(secret: string, what: string): string {
  // 128 bits of HMAC-SHA256 are plenty for a token nobody can test offline.
  return createHmac('sha256', secret).update(what).digest().subarray(0, 16).toString('base64url');
}

function macMatches(secret: string, what: string, given: string): boolean {
  const expected = Buffer.from(mac(secret, what));
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

export function openUrl(s: Pick<TrackingSettings, 'baseUrl' | 'secret'>, messageId: string): string {
  return `${s.baseUrl.replace(/\/+$/, '')}${OPEN_PATH}/${messageId}/${mac(s.secret, `o\n${messageId}`)}.gif`;
}

export function clickUrl(
  s: Pick<TrackingSettings, 'baseUrl' | 'secret'>,
  messageId: string,
  target: string,
): string {
  const sig = mac(s.secret, `c\n${messageId}\n${target}`);
  return `${s.baseUrl.replace(/\/+$/, '')}${CLICK_PATH}/${messageId}/${sig}?u=${encodeURIComponent(target)}`;
}

export function verifyOpen(secret: string, messageId: string, sig: string): boolean {
  return macMatches(secret, `o\n${messageId}`, sig);
}

export function verifyClick(secret: string, messageId: string, target: string, sig: string): boolean {
  return macMatches(secret, `c\n${messageId}\n${target}`, sig);
}

/** The entities an href may use for `&` and friends; others are left as written. */
const ENTITIES: Record<string, string> = { amp: '&', quot: '"', apos: "'", lt: '<', gt: '>' };

function decodeAttribute(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code =
        name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

function encodeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

interface Attribute {
  name: string;
  /** Offsets of the value within the HTML, quotes included; absent for a bare attribute. */
  valueStart?: number;
  valueEnd?: number;
  value?: string;
}

/**
 * Reads a start tag's attributes from `at` (just past the tag name) to its `>`, honouring quotes,
 * so a `>` or an `href=` inside another attribute's value is not mistaken for one.
 */
function readAttributes(html: string, at: number): { attributes: Attribute[]; end: number } | null {
  const attributes: Attribute[] = [];
  let i = at;
  const n = html.length;
  while (i < n) {
    while (i < n && /[\s/]/.test(html[i]!)) i++;
    if (i >= n) return null;
    if (html[i] === '>') return { attributes, end: i + 1 };
    const nameStart = i;
    while (i < n && !/[\s/>=]/.test(html[i]!)) i++;
    const name = html.slice(nameStart, i).toLowerCase();
    while (i < n && /\s/.test(html[i]!)) i++;
    if (html[i] !== '=') {
      attributes.push({ name });
      continue;
    }
    i++;
    while (i < n && /\s/.test(html[i]!)) i++;
    const quote = html[i];
    const valueStart = i;
    if (quote === '"' || quote === "'") {
      const close = html.indexOf(quote, i + 1);
      if (close < 0) return null;
      i = close + 1;
      attributes.push({ name, valueStart, valueEnd: i, value: html.slice(valueStart + 1, close) });
    } else {
      while (i < n && !/[\s>]/.test(html[i]!)) i++;
      attributes.push({ name, valueStart, valueEnd: i, value: html.slice(valueStart, i) });
    }
  }
  return null;
}

/** The HTML with its web links going through the click redirect; how many were rewritten. */
export function trackLinks(html: string, target: (url: string) => string): { html: string; links: number } {
  const out: string[] = [];
  let last = 0;
  let links = 0;
  const anchor = /<a(?=[\s>/])/gi;
  for (let m = anchor.exec(html); m; m = anchor.exec(html)) {
    const read = readAttributes(html, m.index + 2);
    if (!read) break;
    anchor.lastIndex = read.end;
    if (links >= MAX_TRACKED_LINKS) continue;
    const href = read.attributes.find((a) => a.name === 'href');
    const off = read.attributes.some(
      (a) => a.name === 'data-mailroom-track' && a.value?.toLowerCase() === 'off',
    );
    if (!href?.value || href.valueStart === undefined || off) continue;
    const url = decodeAttribute(href.value).trim();
    if (!/^https?:\/\/[^\s]+$/i.test(url) || url.length > MAX_TRACKED_URL) continue;
    out.push(html.slice(last, href.valueStart), `"${encodeAttribute(target(url))}"`);
    last = href.valueEnd!;
    links++;
  }
  out.push(html.slice(last));
  return { html: out.join(''), links };
}

/** The HTML with the open pixel as the last thing in its body. */
export function addOpenPixel(html: string, src: string): string {
  const img = `<img src="${encodeAttribute(src)}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />`;
  const close = html.search(/<\/body\s*>/i);
  return close < 0 ? `${html}${img}` : `${html.slice(0, close)}${img}${html.slice(close)}`;
}

/** What a message asks for, or the defaults. */
export interface TrackingChoice {
  opens: boolean;
  clicks: boolean;
}

/** The HTML as it is sent for this message, with what it asked to track. */
export function trackHtml(
  html: string,
  messageId: string,
  s: Pick<TrackingSettings, 'baseUrl' | 'secret'>,
  choice: TrackingChoice,
): string {
  let out = html;
  if (choice.clicks) out = trackLinks(out, (url) => clickUrl(s, messageId, url)).html;
  if (choice.opens) out = addOpenPixel(out, openUrl(s, messageId));
  return out;
}
