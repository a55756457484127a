// Which caniemail features an HTML body uses, counted by slug: elements, attributes, element and
// attribute pairs (input types, mailto: links), image formats, comments, the doctype, and the CSS
// of <style> elements and style attributes (css-features.ts). htmlparser2 reads the HTML as a
// stream; the count of elements is the denominator of the overall score.
import { Parser } from 'htmlparser2';
import { inlineStyleFeatures, stylesheetFeatures } from './css-features.ts';

/** Not in caniemail's tables: scripts never run in mail, and most clients drop the element. */
export const SCRIPT_SLUG = 'html-script';

export interface Detection {
  /** Slug → number of times it is used. */
  counts: Map<string, number>;
  /** Elements in the document, outside <head>. */
  nodes: number;
}

const ELEMENTS: Record<string, string> = {
  abbr: 'html-abbr',
  acronym: 'html-acronym',
  address: 'html-address',
  audio: 'html-audio',
  base: 'html-base',
  bdi: 'html-bdi',
  blockquote: 'html-blockquote',
  body: 'html-body',
  code: 'html-code',
  del: 'html-del',
  dfn: 'html-dfn',
  dialog: 'html-dialog',
  div: 'html-div',
  form: 'html-form',
  hr: 'html-hr',
  img: 'html-img',
  link: 'html-link',
  marquee: 'html-marquee',
  meter: 'html-meter',
  object: 'html-object',
  p: 'html-p',
  picture: 'html-picture',
  pre: 'html-pre',
  progress: 'html-progress',
  rp: 'html-rp',
  rt: 'html-rt',
  ruby: 'html-ruby',
  select: 'html-select',
  small: 'html-small',
  span: 'html-span',
  strike: 'html-strike',
  strong: 'html-strong',
  style: 'html-style',
  svg: 'html-svg',
  table: 'html-table',
  textarea: 'html-textarea',
  video: 'html-video',
  wbr: 'html-wbr',
  map: 'html-image-maps',
};
for (const h of ['h1', 'h2', 'h3', 'h4', 'h5', 'h6']) ELEMENTS[h] = 'html-h1-h6';
for (const l of ['ul', 'ol', 'dl']) ELEMENTS[l] = 'html-lists';
for (const s of 'article aside details figcaption figure footer header main mark nav section summary time'.split(
  ' ',
))
  ELEMENTS[s] = 'html-semantics';

const ATTRIBUTES: Record<string, string> = {
  align: 'html-align',
  background: 'html-background',
  cellpadding: 'html-cellpadding',
  cellspacing: 'html-cellspacing',
  dir: 'html-dir',
  height: 'html-height',
  hidden: 'html-hidden',
  lang: 'html-lang',
  loading: 'html-loading-attribute',
  required: 'html-required',
  role: 'html-role',
  target: 'html-target',
  valign: 'html-valign',
  width: 'html-width',
  popover: 'html-popover',
  'aria-describedby': 'html-aria-describedby',
  'aria-hidden': 'html-aria-hidden',
  'aria-label': 'html-aria-label',
  'aria-labelledby': 'html-aria-labelledby',
  'aria-live': 'html-aria-live',
  srcset: 'html-srcset',
  sizes: 'html-srcset',
  inert: 'css-inert-attribute',
};

const INPUT_TYPES = new Set(['checkbox', 'hidden', 'radio', 'reset', 'submit', 'text']);

// Image formats by data: media type or file extension.
const IMAGE_TYPES: [RegExp, string][] = [
  [/^image\/a?png$|\.png$/, 'image-png'],
  [/^image\/jpe?g$|\.jpe?g$/, 'image-jpg'],
  [/^image\/gif$|\.gif$/, 'image-gif'],
  [/^image\/webp$|\.webp$/, 'image-webp'],
  [/^image\/avif$|\.avif$/, 'image-avif'],
  [/^image\/svg\+xml$|\.svg$/, 'image-svg'],
  [/^image\/bmp$|\.bmp$/, 'image-bmp'],
  [/^image\/(?:x-icon|vnd\.microsoft\.icon)$|\.ico$/, 'image-ico'],
  [/^image\/tiff$|\.tiff?$/, 'image-tiff'],
  [/^image\/hei[cf]$|\.hei[cf]$/, 'image-heif'],
  [/\.hdr$/, 'image-hdr'],
  [/^image\/apng$|\.apng$/, 'image-apng'],
  [/^video\/mp4$|\.mp4$/, 'image-mp4'],
];

function imageFeatures(src: string, hit: (slug: string) => void): void {
  const url = src.trim();
  let what: string;
  const data = /^data:([^;,]*)/i.exec(url);
  if (data) {
    hit('image-base64');
    what = (data[1] ?? '').toLowerCase();
  } else {
    what = (url.split(/[?#]/)[0] ?? '').toLowerCase();
  }
  for (const [re, slug] of IMAGE_TYPES) {
    if (re.test(what)) {
      hit(slug);
      break;
    }
  }
}

const srcsetUrls = (srcset: string) =>
  srcset
    .split(',')
    .map((candidate) => candidate.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);

// Elements that are not content: the denominator counts what the reader's client lays out.
const NOT_NODES = new Set(['html', 'head', 'meta', 'title', 'base', 'link', 'style', 'script']);

function elementPairs(name: string, attrs: Record<string, string>, hit: (slug: string) => void): void {
  const type = (attrs.type ?? '').trim().toLowerCase();
  if (name === 'button' && (type === 'reset' || type === 'submit')) hit(`html-button-${type}`);
  if (name === 'input' && INPUT_TYPES.has(type || 'text')) hit(`html-input-${type || 'text'}`);
  if (name === 'a') {
    const href = (attrs.href ?? '').trim();
    if (href.startsWith('#') || attrs.name !== undefined) hit('html-anchor-links');
    if (/^mailto:/i.test(href)) hit('html-mailto-links');
  }
  if (name === 'meta' && (attrs.name ?? '').trim().toLowerCase() === 'color-scheme')
    hit('html-meta-color-scheme');
  if (name === 'img' && attrs.usemap !== undefined) hit('html-image-maps');
  if (name === 'html' && ('⚡4email' in attrs || 'amp4email' in attrs || '⚡' in attrs)) hit('amp');
  if (name === 'img' && attrs.src) imageFeatures(attrs.src, hit);
  if ((name === 'img' || name === 'source') && attrs.srcset) {
    for (const url of srcsetUrls(attrs.srcset)) imageFeatures(url, hit);
  }
}

/** The features `html` uses, and its number of elements. */
export function detectFeatures(html: string): Detection {
  const counts = new Map<string, number>();
  const hit = (slug: string) => counts.set(slug, (counts.get(slug) ?? 0) + 1);
  let nodes = 0;
  let inHead = 0;
  let style: string | null = null;
  const parser = new Parser(
    {
      onprocessinginstruction(name, data) {
        // The HTML5 doctype is exactly <!DOCTYPE html>, without a public identifier.
        if (name.toLowerCase() === '!doctype' && /^!doctype\s+html\s*$/i.test(data)) hit('html-doctype');
      },
      oncomment() {
        hit('html-comments');
      },
      onopentag(name, attrs) {
        if (name === 'head') inHead++;
        if (inHead === 0 && !NOT_NODES.has(name)) nodes++;
        const element = ELEMENTS[name];
        if (element) hit(element);
        if (name === 'script' && !/json/i.test(attrs.type ?? '')) hit(SCRIPT_SLUG);
        for (const attr of Object.keys(attrs)) {
          const slug = ATTRIBUTES[attr];
          if (slug) hit(slug);
        }
        elementPairs(name, attrs, hit);
        if (attrs.style) inlineStyleFeatures(attrs.style, hit);
        if (name === 'style') style = '';
      },
      ontext(text) {
        if (style !== null) style += text;
      },
      onclosetag(name) {
        if (name === 'head') inHead = Math.max(0, inHead - 1);
        if (name === 'style' && style !== null) {
          stylesheetFeatures(style, hit);
          style = null;
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  return { counts, nodes };
}
