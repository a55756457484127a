// Plain text from HTML, for messages without a text part and for list snippets. A single pass of
// indexOf scans (no backtracking regular expressions), so a 10 MB single-line HTML body or
// thousands of unclosed tags cost linear time.

const BLOCK_TAGS = new Set('br p div tr li ul ol table h1 h2 h3 h4 h5 h6 blockquote pre hr'.split(' '));
/** Elements whose content is never shown as text. */
const HIDDEN_TAGS = new Set(['script', 'style', 'head', 'title', 'template']);

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  euro: '€',
  zwnj: '',
};

function tagName(html: string, from: number): string {
  let end = from;
  if (html[end] === '/') end++;
  const start = end;
  while (end < html.length && end - start < 16 && /[A-Za-z0-9]/.test(html[end] ?? '')) end++;
  return html.slice(start, end).toLowerCase();
}

/** Index just past the element closing `name` at or after `from`, or -1 when it is never closed. */
function skipElement(html: string, name: string, from: number): number {
  const re = new RegExp(`</${name}\\s*>`, 'gi');
  re.lastIndex = from;
  const m = re.exec(html);
  return m ? m.index + m[0].length : -1;
}

function decodeEntities(text: string): string {
  return text.replace(/&(#[xX][0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[A-Za-z]{2,8});/g, (whole, body: string) => {
    if (body[0] === '#') {
      const code =
        body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number(body.slice(1));
      return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff)
        ? String.fromCodePoint(code)
        : '\uFFFD';
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

/**
 * Collapses whitespace the way a reader sees it: runs of blanks become one space, at most one
 * empty line remains. Applied to bounded chunks: a global replace over a whole 10 MB page keeps
 * every match alive at once and costs hundreds of megabytes (measured), past the worker's budget.
 */
function collapse(text: string): string {
  return text
    .replace(/[ \t\r\f\v\u00a0]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n');
}

const isSpace = (c: string | undefined): boolean => c !== undefined && /[\s\u00a0]/.test(c);

const CHUNK_PIECES = 4096;
const MAX_PIECE = 64 * 1024;

/**
 * Collects text pieces into bounded chunks, each decoded and collapsed on its own. One array entry
 * per piece would cost tens of bytes each, several times a page made of short elements.
 */
class TextSink {
  private pieces: string[] = [];
  private size = 0;
  private readonly chunks: string[] = [];
  /** Whitespace that ended the last chunk, held until the next one shows what follows it. */
  private pendingSpace = '';
  push(piece: string): void {
    for (let at = 0; at < piece.length; ) {
      // Long runs of text are cut at a blank, which never falls inside an entity.
      let end = Math.min(piece.length, at + MAX_PIECE);
      const blank = end < piece.length ? piece.lastIndexOf(' ', end) : -1;
      if (blank > at) end = blank;
      this.pieces.push(piece.slice(at, end));
      this.size += end - at;
      at = end;
      if (this.pieces.length >= CHUNK_PIECES || this.size >= MAX_PIECE) this.flush();
    }
  }
  private flush(): void {
    // Entities never span a tag, and pieces end at tags or blanks, so each chunk decodes alone.
    const chunk = collapse(decodeEntities(this.pieces.join('')));
    this.pieces = [];
    this.size = 0;
    // Whitespace on both sides of a seam is collapsed together, as if there had been no seam.
    let lead = 0;
    while (lead < chunk.length && isSpace(chunk[lead])) lead++;
    if (lead === chunk.length) {
      this.pendingSpace = collapse(this.pendingSpace + chunk);
      return;
    }
    let cut = chunk.length;
    while (cut > lead && isSpace(chunk[cut - 1])) cut--;
    this.chunks.push(collapse(this.pendingSpace + chunk.slice(0, lead)), chunk.slice(lead, cut));
    this.pendingSpace = chunk.slice(cut);
  }
  text(): string {
    this.flush();
    return this.chunks.join('').trim();
  }
}

export function htmlToText(html: string): string {
  const out = new TextSink();
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt === -1) {
      out.push(html.slice(i));
      break;
    }
    out.push(html.slice(i, lt));
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      if (end === -1) break;
      i = end + 3;
      continue;
    }
    const gt = html.indexOf('>', lt + 1);
    if (gt === -1) break;
    const name = tagName(html, lt + 1);
    i = gt + 1;
    if (HIDDEN_TAGS.has(name) && html[lt + 1] !== '/') {
      const end = skipElement(html, name, i);
      if (end === -1) break;
      i = end;
    } else if (BLOCK_TAGS.has(name)) {
      out.push('\n');
    } else if (name === 'td' || name === 'th') {
      out.push(' ');
    }
  }
  return out.text();
}

const SNIPPET_LENGTH = 250;

/**
 * A one-line preview like Mailpit's: the text body (or the HTML reduced to text), whitespace
 * collapsed to single spaces, cut at 250 characters with an ellipsis. Reads only as many words
 * as it needs, so an enormous body costs no more than a short one.
 */
export function snippet(text: string, html: string): string {
  const source = text.trim() !== '' ? text : html ? htmlToText(html) : '';
  // Counted in UTF-16 units, two per code point at most, so enough is always read.
  const budget = 2 * (SNIPPET_LENGTH + 1);
  const words: string[] = [];
  let length = -1;
  const re = /\S+/g;
  for (let m = re.exec(source); m && length <= budget; m = re.exec(source)) {
    // A single 'word' may be megabytes long; only its start can reach the preview.
    words.push(m[0].slice(0, budget));
    length += m[0].length + 1;
  }
  const joined = words.join(' ');
  const chars = Array.from(joined);
  return chars.length > SNIPPET_LENGTH ? `${chars.slice(0, SNIPPET_LENGTH).join('')}...` : joined;
}
