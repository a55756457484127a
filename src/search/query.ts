// Parses Mailpit's search syntax ("from:ann subject:\"order 42\" -is:read larger:2mb invoice")
// into a SearchQuery (ast.ts), and writes one back as canonical text. Follows Mailpit's
// searchQueryBuilder: words split on white space outside double quotes, `-` or `!` negates, known
// prefixes select a field or a flag, anything else is free text. Mailroom differences: values
// are normalised (case and accents), free text goes through the tokenizer (prefix match for one
// plain word, phrase match otherwise), an unreadable date or time zone is an error instead of
// being ignored, and a word that starts with a quote is always free text (`"from:ann"`).
import type { SearchClause, SearchField, SearchQuery, SearchTerm } from './ast.ts';
import { parseSearchDate, resolveTimeZone } from './dates.ts';
import { MAX_CLAUSES, MAX_QUERY_LENGTH, normalize, normalizeMessageId, tokenize } from './text.ts';

/** A search the user wrote that cannot be run; the message says why, for a 400 response. */
export class SearchSyntaxError extends Error {
  override name = 'SearchSyntaxError';
}

export interface ParseSearchOptions {
  /** IANA zone for dates without an offset, `today` and `yesterday`; default UTC. */
  timeZone?: string;
  /** The current time (epoch ms) for `today` and `yesterday`; default Date.now(). */
  now?: number;
}

// Maps, not object literals: a word like `constructor:x` must not find Object.prototype members.
const FIELDS = new Map<string, SearchField>([
  ['to', 'to'],
  ['from', 'from'],
  ['cc', 'cc'],
  ['bcc', 'bcc'],
  ['reply-to', 'reply-to'],
  ['addressed', 'addressed'],
  ['subject', 'subject'],
  ['message-id', 'message-id'],
]);
const IS_STATES = new Map<string, 'read' | 'unread' | 'tagged'>([
  ['read', 'read'],
  ['unread', 'unread'],
  ['tagged', 'tagged'],
]);
const HAS = new Map<string, 'attachment' | 'inline'>([
  ['attachment', 'attachment'],
  ['attachments', 'attachment'],
  ['inline', 'inline'],
  ['inlines', 'inline'],
]);
const SIZE_UNITS = new Map<string, number>([
  ['', 1],
  ['k', 1024],
  ['kb', 1024],
  ['m', 1024 ** 2],
  ['mb', 1024 ** 2],
  ['g', 1024 ** 3],
  ['gb', 1024 ** 3],
]);

/** An unquoted `name:` at the start of a word. */
const PREFIX = /^([a-z][a-z-]*):/i;
/** Prefixes that are not fields; any other `name:` is free text. */
const OTHER_PREFIXES = new Set([
  'tag',
  'inbox',
  'is',
  'has',
  'after',
  'before',
  'larger',
  'smaller',
  'header',
]);

/** Splits on white space outside double quotes; quotes stay in the words (an open quote runs to the end). */
function splitWords(input: string): string[] {
  const words: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of input) {
    if (ch === '"') {
      quoted = !quoted;
      current += ch;
    } else if (!quoted && /\s/.test(ch)) {
      if (current !== '') words.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (current !== '') words.push(current);
  return words;
}

/** Mailpit's sizeToBytes, plus g/gb: "300", "2kb", "1.5m", "1 GB" → bytes; 0 when unreadable. */
export function sizeToBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s?([a-z]{1,2})?$/.exec(value.trim().toLowerCase());
  if (!m) return 0;
  const n = Number(m[1]);
  const factor = SIZE_UNITS.get(m[2] ?? '');
  if (factor === undefined || !Number.isFinite(n)) return 0;
  return Math.floor(n * factor);
}

/** Free text: one plain token is a prefix search; several tokens, or any quote, a phrase. */
function textTerm(word: string): SearchTerm | null {
  const words = tokenize(word);
  if (words.length === 0) return null;
  return { kind: 'text', words, phrase: words.length > 1 || word.includes('"') };
}

interface Context {
  options: ParseSearchOptions;
  zone: string | null;
}

function dateTerm(op: 'after' | 'before', value: string, ctx: Context): SearchTerm {
  if (ctx.zone === null) {
    const zone = resolveTimeZone(ctx.options.timeZone);
    if (zone === null) throw new SearchSyntaxError(`Unknown time zone "${ctx.options.timeZone}".`);
    ctx.zone = zone;
  }
  const at = parseSearchDate(value, ctx.zone, ctx.options.now ?? Date.now());
  if (at === null) {
    throw new SearchSyntaxError(
      `Cannot read the date "${value}" in ${op}:. Use YYYY-MM-DD, "YYYY-MM-DD HH:MM", ` +
        'an ISO 8601 or RFC 2822 date and time, today or yesterday.',
    );
  }
  return { kind: 'date', op, at };
}

/** The term for `prefix:value` (prefix lower-case, value without quotes), null to drop it. */
function prefixedTerm(prefix: string, value: string, word: string, ctx: Context): SearchTerm | null {
  const field = FIELDS.get(prefix);
  if (field !== undefined) {
    const v = field === 'message-id' ? normalizeMessageId(value) : normalize(value);
    return v === '' ? null : { kind: 'field', field, value: v };
  }
  const plain = value.trim().replace(/\s+/g, ' ');
  if (plain === '') return null;
  switch (prefix) {
    case 'tag': {
      const name = normalize(value);
      return name === '' ? null : { kind: 'tag', name };
    }
    case 'inbox':
      return { kind: 'inbox', name: plain.toLowerCase() };
    case 'is': {
      const state = IS_STATES.get(plain.toLowerCase());
      return state ? { kind: 'is', state } : textTerm(word);
    }
    case 'has': {
      const what = HAS.get(plain.toLowerCase());
      return what ? { kind: 'has', what } : textTerm(word);
    }
    case 'after':
    case 'before':
      return dateTerm(prefix, plain, ctx);
    case 'larger':
    case 'smaller': {
      const bytes = sizeToBytes(plain);
      return bytes > 0 ? { kind: 'size', op: prefix, bytes } : textTerm(word);
    }
    case 'header': {
      const colon = plain.indexOf(':');
      const name = (colon < 0 ? plain : plain.slice(0, colon)).trim().toLowerCase();
      if (name === '') return null;
      return { kind: 'header', name, value: colon < 0 ? '' : normalize(plain.slice(colon + 1)) };
    }
    default:
      return textTerm(word);
  }
}

function parseWord(raw: string, ctx: Context): SearchClause | null {
  let word = raw;
  let negate = false;
  if (word.length > 1 && (word[0] === '-' || word[0] === '!')) {
    negate = true;
    word = word.slice(1);
  }
  const m = PREFIX.exec(word);
  const prefix = m?.[1]?.toLowerCase() ?? '';
  const known = m !== null && (FIELDS.has(prefix) || OTHER_PREFIXES.has(prefix));
  const term = known
    ? prefixedTerm(prefix, word.slice(m[0].length).replaceAll('"', ''), word, ctx)
    : textTerm(word);
  return term ? { negate, term } : null;
}

/**
 * Parses a Mailpit-syntax search. Words are split on white space outside double quotes; a leading
 * `-` or `!` negates a word. Prefixes (any case): to: from: cc: bcc: reply-to: addressed: subject:
 * message-id: (normalised substring), tag: (normalised name), inbox: (a name), is:read|unread|tagged,
 * has:attachment(s)|inline(s), after: before: (dates, see dates.ts), larger: smaller: (sizes; an
 * unreadable size leaves the word as text), header:Name[:value]. Other words are free text.
 * A prefix with an empty value, and a word with no letters or digits, are dropped.
 * @throws SearchSyntaxError for a search over MAX_QUERY_LENGTH or MAX_CLAUSES, an unknown
 *   time zone (only when a date needs it) or an unreadable date.
 */
export function parseSearch(input: string, options: ParseSearchOptions = {}): SearchQuery {
  if (input.length > MAX_QUERY_LENGTH) {
    throw new SearchSyntaxError(
      `The search is ${input.length} characters long; the limit is ${MAX_QUERY_LENGTH}.`,
    );
  }
  const ctx: Context = { options, zone: null };
  const clauses: SearchClause[] = [];
  for (const word of splitWords(input)) {
    const clause = parseWord(word, ctx);
    if (!clause) continue;
    if (clauses.length === MAX_CLAUSES) {
      throw new SearchSyntaxError(`The search has more than ${MAX_CLAUSES} terms; use fewer.`);
    }
    clauses.push(clause);
  }
  return { clauses };
}

/** `"value"`, with any double quote in it dropped (the syntax has no escape for one). */
function quote(value: string): string {
  return `"${value.replaceAll('"', '')}"`;
}

function termText(term: SearchTerm): string {
  switch (term.kind) {
    case 'text':
      return term.phrase ? quote(term.words.join(' ')) : term.words.join(' ');
    case 'field':
      return `${term.field}:${quote(term.value)}`;
    case 'header':
      return `header:${quote(term.value === '' ? term.name : `${term.name}:${term.value}`)}`;
    case 'tag':
      return `tag:${quote(term.name)}`;
    case 'inbox':
      return `inbox:${quote(term.name)}`;
    case 'is':
      return `is:${term.state}`;
    case 'has':
      return `has:${term.what}`;
    case 'date':
      return `${term.op}:${new Date(term.at).toISOString()}`;
    case 'size':
      return `${term.op}:${term.bytes}`;
  }
}

/**
 * The canonical text of a search: one word per clause, `-` for negation, values quoted, dates as
 * ISO 8601 UTC, sizes in bytes. parseSearch(stringifySearch(q)) equals q for every q that
 * parseSearch returns. (A hand-built non-phrase text term with several words is written as
 * separate words, which means the same only when it is not negated.)
 */
export function stringifySearch(q: SearchQuery): string {
  return q.clauses.map((c) => (c.negate ? '-' : '') + termText(c.term)).join(' ');
}
