// Text normalisation for search: the one comparison form shared by the query parser, the in-memory
// matcher (tag rules) and both SQL engines. Everything searchable is normalised here before it is
// stored or compared, so SQLite FTS5 (unicode61, remove_diacritics 0), PostgreSQL
// (`to_tsvector('simple', …)`) and `match.ts` only ever see the same lower-case, accent-free tokens
// made of letters and digits, and agree on what matches.
import type { Address, ParsedMessage } from '../domain/message.ts';
import type { SearchDocument } from './ast.ts';

/** The longest search string `parseSearch` accepts, in UTF-16 code units. */
export const MAX_QUERY_LENGTH = 2000;
/** The most clauses (words, prefixed terms) one search may have. */
export const MAX_CLAUSES = 32;
/** Tokens are cut to this many code points (in documents and in queries alike). */
export const MAX_TOKEN_LENGTH = 64;
/** Cap on `SearchDocument.words`, in UTF-8 bytes. */
export const MAX_WORDS_BYTES = 256 * 1024;
/** Cap on `SearchDocument.headers`, in UTF-8 bytes. */
export const MAX_HEADERS_BYTES = 64 * 1024;
/** One header value is cut to this many UTF-16 code units before it is stored for search. */
export const MAX_HEADER_VALUE_LENGTH = 4096;

/** Combining marks (accents, dakuten, vowel signs) and invisible format characters (soft hyphen, ZWSP, BOM). */
const DROPPED = /[\p{M}\p{Cf}]/gu;
/** Runs of white space and control characters, collapsed to one space. */
const SPACE = /[\s\p{Cc}]+/gu;
/**
 * Letters that lower-casing and NFKD leave distinct from their plain form but that a reader treats
 * as a variant of it: case-folding specials (ß, final sigma, dotless i) and letters with a stroke.
 */
const FOLD: Readonly<Record<string, string>> = {
  ß: 'ss',
  ς: 'σ',
  ı: 'i',
  ł: 'l',
  ø: 'o',
  đ: 'd',
  ħ: 'h',
  æ: 'ae',
  œ: 'oe',
};
const FOLDABLE = /[ßςıłøđħæœ]/gu;

/**
 * The comparison form of `s`: compatibility-decomposed (NFKD: ligatures, full-width forms, ſ → s),
 * combining marks and format characters removed, lower-cased, folded (ß → ss, ς → σ, ı → i, ł → l,
 * ø → o, đ → d, ħ → h, æ → ae, œ → oe), recomposed (NFC, which rebuilds Hangul syllables), with
 * white-space runs collapsed to one space and the ends trimmed. "ÉCOLE  Straße" → "ecole strasse",
 * "İSTANBUL" → "istanbul". Idempotent: normalize(normalize(s)) === normalize(s).
 *
 * Removing every mark also folds letters some languages keep apart (й → и, が → か) and drops
 * Indic vowel signs; both sides of every comparison go through the same steps, so search stays
 * consistent, only a little broader.
 */
export function normalize(s: string): string {
  // Most mail is ASCII, where NFKD and NFC change nothing, no mark or format character exists and
  // nothing folds: lower-casing and collapsing white space and controls is the whole work, at a
  // tenth of the cost (the same result: test/search/text.test.ts compares both paths).
  if (ASCII.test(s)) return s.toLowerCase().replace(ASCII_SPACE, ' ').trim();
  return normalizeUnicode(s);
}

/** `normalize` for any text: the general path, which ASCII text skips. */
export function normalizeUnicode(s: string): string {
  return s
    .normalize('NFKD')
    .toLowerCase()
    .replace(DROPPED, '')
    .replace(FOLDABLE, (c) => FOLD[c] ?? c)
    .normalize('NFC')
    .replace(SPACE, ' ')
    .trim();
}

const ASCII = /^[\x00-\x7f]*$/;
/** SPACE within ASCII: white space (\t \n \v \f \r and the space) and the controls. */
const ASCII_SPACE = /[\x00-\x20\x7f]+/g;
/** TOKEN within ASCII text already lower-cased: runs of letters and digits. */
const ASCII_TOKEN = /[a-z0-9]+/g;
const ASCII_NON_TOKEN = /[^a-z0-9]+/g;

/** Scripts written without spaces between words: each of their letters is a token of its own. */
const TOKEN =
  /[[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}]&&[\p{L}\p{N}]]|[[\p{L}\p{N}]--[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}]]+/gv;

/** `t` cut to MAX_TOKEN_LENGTH code points (never inside a surrogate pair). */
function capToken(t: string): string {
  if (t.length <= MAX_TOKEN_LENGTH) return t;
  let units = 0;
  let points = 0;
  for (const ch of t) {
    if (points === MAX_TOKEN_LENGTH) break;
    units += ch.length;
    points++;
  }
  return t.slice(0, units);
}

/** Calls `each` for every token of already-normalised text until it returns false. */
function eachToken(normalized: string, each: (token: string) => boolean): boolean {
  const pattern = ASCII.test(normalized) ? ASCII_TOKEN : TOKEN;
  for (const m of normalized.matchAll(pattern)) if (!each(capToken(m[0]))) return false;
  return true;
}

/**
 * The search tokens of `s`: after `normalize`, the maximal runs of letters and digits, except that
 * every Han, Hiragana, Katakana or Hangul letter is a token by itself (those scripts do not put
 * spaces between words). Tokens are cut to 64 code points. Tokens never contain punctuation, so
 * they are safe to quote in FTS5 and tsquery expressions. "Foo-bar, ÉTÉ 2024" → foo bar ete 2024.
 */
export function tokenize(s: string): string[] {
  const out: string[] = [];
  eachToken(normalize(s), (t) => {
    out.push(t);
    return true;
  });
  return out;
}

/** What `searchDocument` reads from one parsed message. */
export interface SearchInput {
  from: Address | null;
  to: Address[];
  cc: Address[];
  bcc: Address[];
  replyTo: Address[];
  subject: string;
  messageId: string;
  /** Header fields in message order, as [name, value]; folded values may still hold line breaks. */
  headers: ReadonlyArray<readonly [string, string]>;
  /** The plain-text body (or the text made from the HTML body). */
  text: string;
  attachmentNames: string[];
}

/** `Name <address>`, `<address>` or `Name`, normalised; '' for an empty address. */
function addressLine(a: Address): string {
  const name = a.Name.trim();
  const address = a.Address.trim();
  if (name && address) return normalize(`${name} <${address}>`);
  if (address) return normalize(`<${address}>`);
  return normalize(name);
}

function addressLines(list: readonly Address[]): string {
  return list
    .map(addressLine)
    .filter((l) => l !== '')
    .join('\n');
}

/** A message id as searched: normalised, without the angle brackets around it. */
export function normalizeMessageId(id: string): string {
  let v = normalize(id);
  // Repeated until stable, so that the result is a fixed point ("< <a> >" → "a").
  while (v.startsWith('<') || v.endsWith('>')) v = v.replace(/^<+|>+$/g, '').trim();
  return v;
}

/** UTF-8 length of `s` in bytes (no Node Buffer, so this module also runs in a browser). */
function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** `s` cut to at most `max` UTF-16 code units, never inside a surrogate pair. */
function cutUnits(s: string, max: number): string {
  if (s.length <= max) return s;
  const code = s.charCodeAt(max - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** Normalised `name: value` lines (`name:` for an empty value), within MAX_HEADERS_BYTES. */
function headerLines(headers: ReadonlyArray<readonly [string, string]>): string {
  const lines: string[] = [];
  let bytes = 0;
  for (const [rawName, rawValue] of headers) {
    const name = rawName.trim().toLowerCase();
    if (name === '') continue;
    // normalize() turns folding white space (CRLF + blanks) into one space: the value unfolded.
    const value = cutUnits(
      normalize(cutUnits(rawValue, MAX_HEADER_VALUE_LENGTH * 2)),
      MAX_HEADER_VALUE_LENGTH,
    );
    const line = value === '' ? `${name}:` : `${name}: ${value}`;
    const size = utf8Length(line) + (lines.length > 0 ? 1 : 0);
    // A line that does not fit is left out; later, shorter ones may still fit.
    if (bytes + size > MAX_HEADERS_BYTES) continue;
    lines.push(line);
    bytes += size;
  }
  return lines.join('\n');
}

/** Collects tokens, space-separated, until MAX_WORDS_BYTES would be passed. */
class WordsBuilder {
  readonly tokens: string[] = [];
  private bytes = 0;
  full = false;

  /** Adds a token; false once the cap is reached (this token and all later ones are dropped). */
  add = (token: string): boolean => {
    if (this.full) return false;
    const size = utf8Length(token) + (this.tokens.length > 0 ? 1 : 0);
    if (this.bytes + size > MAX_WORDS_BYTES) {
      this.full = true;
      return false;
    }
    this.tokens.push(token);
    this.bytes += size;
    return true;
  };

  addText(s: string): void {
    if (this.full) return;
    if (ASCII.test(s)) {
      // ASCII: the tokens, space-separated, are the lower-cased text with every run of other
      // characters (white space and controls included) made one space; added whole when no token
      // needs cutting and all of it fits.
      const joined = capLongTokens(s.toLowerCase().replace(ASCII_NON_TOKEN, ' ').trim());
      if (joined === '') return;
      const size = joined.length + (this.tokens.length > 0 ? 1 : 0);
      if (this.bytes + size <= MAX_WORDS_BYTES) {
        this.tokens.push(joined);
        this.bytes += size;
        return;
      }
    }
    eachToken(normalize(s), this.add);
  }
}

/** Space-separated ASCII tokens with each one longer than MAX_TOKEN_LENGTH cut to that length. */
function capLongTokens(joined: string): string {
  if (joined.length <= MAX_TOKEN_LENGTH) return joined;
  let out = '';
  let from = 0;
  let run = 0;
  for (let i = 0; i < joined.length; i++) {
    if (joined.charCodeAt(i) === 0x20) {
      run = 0;
      continue;
    }
    if (++run !== MAX_TOKEN_LENGTH + 1) continue;
    // The token passes the cap here: keep what came before, skip to its end.
    out += joined.slice(from, i);
    while (i + 1 < joined.length && joined.charCodeAt(i + 1) !== 0x20) i++;
    from = i + 1;
  }
  return from === 0 ? joined : out + joined.slice(from);
}

/** Body text is tokenised in slices of about this many code units, so huge bodies stop early. */
const TEXT_SLICE = 32 * 1024;

/**
 * Where to end a slice of `text` that starts at `from`: at a white-space character near the
 * target when there is one (so no word is cut in two), else at the target, moved back off any
 * combining mark or low surrogate so no character is split.
 */
function sliceEnd(text: string, from: number): number {
  const target = from + TEXT_SLICE;
  if (target >= text.length) return text.length;
  for (let i = target; i > target - 1024; i--) if (/\s/.test(text[i]!)) return i;
  let end = target;
  while (end > from + 1 && /[\p{M}\udc00-\udfff]/u.test(text[end]!)) end--;
  return end;
}

/**
 * The searchable form of one message (see `SearchDocument`): address fields as normalised
 * `name <address>` lines, subject and message id normalised (the id without angle brackets),
 * header lines `name: value` (names lower-case, values normalised and unfolded, 64 KiB at most),
 * and `words`: the tokens of the subject, every address's name and address, the attachment file
 * names and the body text, in that order, space-separated and cut at a token boundary at 256 KiB.
 */
export function searchDocument(input: SearchInput): SearchDocument {
  const words = new WordsBuilder();
  words.addText(input.subject);
  const addresses = [
    ...(input.from ? [input.from] : []),
    ...input.to,
    ...input.cc,
    ...input.bcc,
    ...input.replyTo,
  ];
  for (const a of addresses) {
    words.addText(a.Name);
    words.addText(a.Address);
  }
  for (const name of input.attachmentNames) words.addText(name);
  const text = input.text;
  for (let from = 0; from < text.length && !words.full; ) {
    const end = sliceEnd(text, from);
    words.addText(text.slice(from, end));
    from = end;
  }
  return {
    from: input.from ? addressLine(input.from) : '',
    to: addressLines(input.to),
    cc: addressLines(input.cc),
    bcc: addressLines(input.bcc),
    replyTo: addressLines(input.replyTo),
    subject: normalize(input.subject),
    messageId: normalizeMessageId(input.messageId),
    headers: headerLines(input.headers),
    words: words.tokens.join(' '),
  };
}

/**
 * The search document of a parsed message. Parse threads make it beside the parse (the writer and
 * the tag rules then reuse it); it is made again here only for results that lack it.
 */
export function messageSearchDocument(p: ParsedMessage): SearchDocument {
  return searchDocument({
    from: p.from,
    to: p.to,
    cc: p.cc,
    bcc: p.bcc,
    replyTo: p.replyTo,
    subject: p.subject,
    messageId: p.messageId,
    headers: p.headers ?? [],
    text: p.text,
    attachmentNames: [...p.attachments, ...p.inline].map((a) => a.FileName).filter(Boolean),
  });
}
