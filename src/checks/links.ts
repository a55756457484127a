// The links of a message, from its HTML (a and area hrefs, images, stylesheets) and its text part
// (bare URLs and RFC 3986 Appendix C's <URL> form, which may be wrapped over lines), de-duplicated,
// each with the words a reader sees for it: the anchor text, or the label beside a URL in text.
// Pure functions; htmlparser2 reads the HTML as a stream, so a large body costs linear time.
import { Parser } from 'htmlparser2';
import { unwrapTarget } from './link-target.ts';

export type LinkKind = 'link' | 'image' | 'stylesheet';
export type LinkSource = 'html' | 'text';

export interface ExtractedLink {
  /** As written in the message (entities decoded, credentials left in). */
  URL: string;
  /** Anchor text (or an image's alt, a title), or the label next to a URL in the text part. */
  Text: string;
  /** The words around the link, to tell two "click here" links apart. */
  Context: string;
  Kind: LinkKind;
  /** Lower-case scheme without the colon: https, http, mailto, tel... */
  Scheme: string;
  Sources: LinkSource[];
  /** How many times it appears. */
  Count: number;
  /** The URL a click-tracking or safe-links wrapper leads to, when it carries one; else null. */
  Target: string | null;
}

/** Enough for any real message; the rest is left out. */
export const MAX_LINKS = 500;
/** Longer "URLs" are data, not links (base64 blobs in hrefs). */
export const MAX_URL_LENGTH = 8192;
const CONTEXT_CHARS = 80;

/** Schemes a reader can follow; javascript:, data:, cid:, file: and relative references are not links. */
const SCHEMES = new Set(['http', 'https', 'mailto', 'tel', 'sms', 'ftp']);
const KIND_RANK: Record<LinkKind, number> = { link: 0, image: 1, stylesheet: 2 };

const collapse = (s: string) => s.replace(/[\s\u00a0]+/g, ' ').trim();
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The scheme of an absolute URL we keep, or null. */
function schemeOf(url: string): string | null {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  const scheme = m?.[1]?.toLowerCase();
  return scheme && SCHEMES.has(scheme) ? scheme : null;
}

/** The key two spellings of one link share: WHATWG-normalised for http(s), as written otherwise. */
function linkKey(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

/** Collects links, merging repeats under one key. */
class LinkSet {
  private readonly byKey = new Map<string, ExtractedLink>();

  add(url: string, kind: LinkKind, source: LinkSource, text: string, context: string): void {
    const trimmed = url.trim();
    if (trimmed === '' || trimmed.length > MAX_URL_LENGTH) return;
    const scheme = schemeOf(trimmed);
    if (!scheme) return;
    const key = linkKey(trimmed);
    const seen = this.byKey.get(key);
    if (seen) {
      seen.Count++;
      const better =
        kind === 'link' && (seen.Kind !== 'link' || (source === 'html' && !seen.Sources.includes('html')));
      if (!seen.Sources.includes(source)) seen.Sources.push(source);
      // The HTML's anchor text is what the reader clicks; it wins over a text part's label.
      if (text !== '' && (seen.Text === '' || better)) {
        seen.Text = clip(text, 300);
        seen.Context = clip(context, 2 * CONTEXT_CHARS + 300);
      }
      if (KIND_RANK[kind] < KIND_RANK[seen.Kind]) seen.Kind = kind;
      return;
    }
    if (this.byKey.size >= MAX_LINKS) return;
    this.byKey.set(key, {
      URL: trimmed,
      Text: clip(text, 300),
      Context: clip(context, 2 * CONTEXT_CHARS + 300),
      Kind: kind,
      Scheme: scheme,
      Sources: [source],
      Count: 1,
      Target: scheme === 'http' || scheme === 'https' ? unwrapTarget(trimmed) : null,
    });
  }

  list(): ExtractedLink[] {
    return [...this.byKey.values()];
  }
}

const HIDDEN = new Set(['script', 'style', 'head', 'title', 'template']);
const BLOCK = new Set('br p div tr td th li ul ol table h1 h2 h3 h4 h5 h6 blockquote pre hr'.split(' '));

interface OpenAnchor {
  url: string;
  text: string;
  alt: string;
  label: string;
  before: string;
}

interface Pending {
  url: string;
  kind: LinkKind;
  text: string;
  /** The anchor's words as they stand in the flow of text. */
  shown: string;
  before: string;
  after: string;
}

/** The words around a link, cut at word boundaries. */
function contextOf(p: Pending): string {
  const before = collapse(p.before).replace(/^\S*\s/, '');
  const after = collapse(p.after)
    .slice(0, CONTEXT_CHARS)
    .replace(/\s\S*$/, '');
  return collapse(
    `${before}${/\s$/.test(p.before) ? ' ' : ''}${collapse(p.shown) || p.text}${/^\s/.test(p.after) ? ' ' : ''}${after}`,
  );
}

/** Links in HTML: anchors (with their text and the words around them), images, stylesheets. */
function htmlLinks(html: string, into = new LinkSet()): LinkSet {
  let base: string | null = null;
  let hidden = 0;
  let recent = '';
  let anchor: OpenAnchor | null = null;
  // Links waiting for the words that follow them.
  let pending: Pending[] = [];
  const resolve = (href: string) => {
    if (schemeOf(href) || !base) return href;
    try {
      return new URL(href, base).href;
    } catch {
      return href;
    }
  };
  const flush = (p: Pending) => into.add(p.url, p.kind, 'html', p.text, contextOf(p));
  const see = (words: string) => {
    recent = (recent + words).slice(-CONTEXT_CHARS * 2);
    if (anchor) anchor.text += words;
    if (pending.length === 0) return;
    for (const p of pending) p.after += words;
    const done = pending.filter((p) => collapse(p.after).length >= CONTEXT_CHARS);
    for (const p of done) flush(p);
    pending = pending.filter((p) => !done.includes(p));
  };
  const closeAnchor = () => {
    if (!anchor) return;
    const text = collapse(anchor.text) || collapse(anchor.alt) || collapse(anchor.label);
    pending.push({
      url: anchor.url,
      kind: 'link',
      text,
      shown: anchor.text,
      before: anchor.before,
      after: '',
    });
    anchor = null;
  };
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (HIDDEN.has(name)) hidden++;
        if (BLOCK.has(name)) see(' ');
        if (name === 'base' && attrs.href && !base && schemeOf(attrs.href)) base = attrs.href;
        // A fragment ("#top") is a place in this message, not a link out of it.
        if (
          (name === 'a' || name === 'area') &&
          attrs.href !== undefined &&
          !attrs.href.trim().startsWith('#')
        ) {
          closeAnchor();
          const url = resolve(attrs.href);
          const label = attrs['aria-label'] ?? attrs.title ?? attrs.alt ?? '';
          const before = recent.slice(-CONTEXT_CHARS);
          if (name === 'area')
            pending.push({ url, kind: 'link', text: collapse(label), shown: '', before, after: '' });
          else anchor = { url, text: '', alt: '', label, before };
        } else if (name === 'img') {
          if (anchor && attrs.alt) anchor.alt += ` ${attrs.alt}`;
          if (attrs.src) into.add(resolve(attrs.src), 'image', 'html', collapse(attrs.alt ?? ''), '');
        } else if (name === 'link' && /\bstylesheet\b/i.test(attrs.rel ?? '') && attrs.href) {
          into.add(resolve(attrs.href), 'stylesheet', 'html', '', '');
        }
      },
      ontext(text) {
        if (hidden === 0) see(text);
      },
      onclosetag(name) {
        if (HIDDEN.has(name)) hidden = Math.max(0, hidden - 1);
        if (name === 'a') closeAnchor();
        if (BLOCK.has(name)) see(' ');
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  closeAnchor();
  for (const p of pending) flush(p);
  return into;
}

// A URL in plain text runs to the first blank, quote or angle bracket; punctuation that ends the
// sentence is not part of it (RFC 3986 Appendix C).
const BARE_URL = /\b(?:https?:\/\/|ftp:\/\/|mailto:)[^\s<>"'`]+/gi;
const BRACKETED_URL = /<((?:https?:\/\/|ftp:\/\/|mailto:)[^<>]{1,8192})>/gi;
// "URL:<https://...>" and "<URL:https://...>" are the same form.
const URL_PREFIX = /^URL:/i;

/** Drops sentence punctuation after a URL, and a closing bracket it never opened. */
function trimUrl(url: string): string {
  let out = url;
  for (;;) {
    const last = out.at(-1) ?? '';
    if ('.,;:!?\'"*'.includes(last) && last !== '') {
      out = out.slice(0, -1);
      continue;
    }
    const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
    const open = pairs[last];
    if (open && out.split(open).length <= out.split(last).length - 1) {
      out = out.slice(0, -1);
      continue;
    }
    return out;
  }
}

/** The label of a URL in text: the rest of its line, or the line before when it stands alone. */
function textLabel(lines: string[], lineIndex: number, url: string): { text: string; context: string } {
  const line = lines[lineIndex] ?? '';
  let rest = collapse(
    line
      .replace(url, ' ')
      .replace(/[<>]/g, ' ')
      .replace(/\(\s*\)|\[\s*\]/g, ' '),
  )
    .replace(/^[-–—:|•*.,;]+\s*/, '')
    .replace(/\s*[-–—:|•*(.,;]+$/, '');
  // Punctuation left after the URL ("...xyz.") is no label.
  if (!/[\p{L}\p{N}]/u.test(rest)) rest = '';
  let previous = '';
  for (let i = lineIndex - 1; i >= 0 && i >= lineIndex - 3; i--) {
    const candidate = collapse(lines[i] ?? '');
    if (candidate !== '') {
      previous = candidate;
      break;
    }
  }
  const text = rest !== '' ? rest : previous.replace(/[:\s]+$/, '');
  const context = collapse(`${previous} ${line.replace(url, ' ')}`).slice(-2 * CONTEXT_CHARS);
  return { text: clip(text, 300), context };
}

/** Links in a text part: bare URLs and <URL> forms (whose line breaks are not part of the URL). */
function textLinks(text: string, into = new LinkSet()): LinkSet {
  const lines = text.split(/\r?\n/);
  const lineStarts: number[] = [];
  let at = 0;
  for (const line of lines) {
    lineStarts.push(at);
    at += line.length + 1;
  }
  const lineOf = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const normal = text.replace(/\r\n/g, '\n');
  const taken: [number, number][] = [];
  for (const m of normal.matchAll(BRACKETED_URL)) {
    const url = (m[1] ?? '').replace(/\s+/g, '').replace(URL_PREFIX, '');
    taken.push([m.index, m.index + m[0].length]);
    // The label comes from the line the form starts on, without the form itself.
    const { text: label, context } = textLabel(lines, lineOf(m.index), m[0].split('\n')[0] ?? '');
    into.add(url, 'link', 'text', label, context);
  }
  for (const m of normal.matchAll(BARE_URL)) {
    if (taken.some(([from, to]) => m.index >= from && m.index < to)) continue;
    const url = trimUrl(m[0]);
    const { text: label, context } = textLabel(lines, lineOf(m.index), url);
    into.add(url, 'link', 'text', label, context);
  }
  return into;
}

/** Each part is read this far (links are near the top; 2 MiB of HTML takes a fifth of a second). */
export const MAX_PART_READ = 2 * 1024 * 1024;

/** Every link of a message, HTML first (it is what most readers see), then the text part. */
export function extractLinks(parts: { text: string; html: string }): ExtractedLink[] {
  const set = new LinkSet();
  if (parts.html) htmlLinks(parts.html.slice(0, MAX_PART_READ), set);
  if (parts.text) textLinks(parts.text.slice(0, MAX_PART_READ), set);
  return set.list();
}
