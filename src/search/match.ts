// Evaluates a parsed search against one message in memory, with exactly the meaning the SQL
// adapters give it (used for tag rules, which run on every message at ingest). The per-document
// indexes (sorted distinct tokens, token positions, header lines) are built lazily, once per
// SearchDocument, and reused by every rule that looks at the same message.
import { DEFAULT_INBOX } from '../domain/inbox.ts';
import type { SearchDocument, SearchField, SearchQuery, SearchTerm } from './ast.ts';
import { normalize } from './text.ts';

/** One message as the matcher sees it. */
export interface MatchTarget {
  doc: SearchDocument;
  /** Tag names as stored (any case); compared under `normalize`. */
  tags: string[];
  read: boolean;
  /** Number of attachments and of inline parts. */
  attachments: number;
  inline: number;
  /** When the message was received, epoch ms. */
  receivedAt: number;
  /** Raw size in bytes. */
  size: number;
  /** The inbox the message is filed in; absent: the default one (domain/inbox.ts). */
  inbox?: string;
}

interface DocIndex {
  /** The `words` string this index was built from (a document changed in place is re-indexed). */
  words: string;
  tokens: string[];
  sorted?: string[];
  positions?: Map<string, number[]>;
  headers?: string;
  headerLines?: string[];
}

const indexes = new WeakMap<SearchDocument, DocIndex>();

function indexOf(doc: SearchDocument): DocIndex {
  let index = indexes.get(doc);
  if (!index || index.words !== doc.words) {
    index = { words: doc.words, tokens: doc.words === '' ? [] : doc.words.split(' ') };
    indexes.set(doc, index);
  }
  return index;
}

/** Distinct tokens in code-unit order, for prefix lookups by binary search. */
function sortedTokens(index: DocIndex): string[] {
  if (!index.sorted) index.sorted = [...new Set(index.tokens)].sort();
  return index.sorted;
}

function positionsOf(index: DocIndex): Map<string, number[]> {
  if (!index.positions) {
    const map = new Map<string, number[]>();
    index.tokens.forEach((t, i) => {
      const list = map.get(t);
      if (list) list.push(i);
      else map.set(t, [i]);
    });
    index.positions = map;
  }
  return index.positions;
}

/** Is some token of the document `prefix` or longer and starting with it? */
function hasPrefix(index: DocIndex, prefix: string): boolean {
  const sorted = sortedTokens(index);
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo]!.startsWith(prefix);
}

/** Do `words` occur as consecutive whole tokens somewhere in the document? */
function hasPhrase(index: DocIndex, words: readonly string[]): boolean {
  if (words.length === 0) return true;
  const starts = positionsOf(index).get(words[0]!);
  if (!starts) return false;
  const { tokens } = index;
  return starts.some((p) => words.every((w, k) => tokens[p + k] === w));
}

function headerLinesOf(doc: SearchDocument, index: DocIndex): string[] {
  if (index.headers !== doc.headers || !index.headerLines) {
    index.headers = doc.headers;
    index.headerLines = doc.headers === '' ? [] : doc.headers.split('\n');
  }
  return index.headerLines;
}

function lineMatches(lines: readonly string[], name: string, value: string): boolean {
  const prefix = `${name}:`;
  return lines.some((line) => line.startsWith(prefix) && line.slice(prefix.length).includes(value));
}

/**
 * Does some line of a document's `headers` (`name: value` lines) have this name and a value
 * containing `value`? An empty `value` asks only whether the header is present. (The same test
 * the matcher applies; usable as an SQL function.)
 */
export function headerMatches(headers: string, name: string, value: string): boolean {
  return headers !== '' && lineMatches(headers.split('\n'), name, value);
}

const FIELD_KEYS: Readonly<Record<Exclude<SearchField, 'addressed'>, keyof SearchDocument>> = {
  from: 'from',
  to: 'to',
  cc: 'cc',
  bcc: 'bcc',
  'reply-to': 'replyTo',
  subject: 'subject',
  'message-id': 'messageId',
};
const ADDRESSED: readonly (keyof SearchDocument)[] = ['from', 'to', 'cc', 'bcc', 'replyTo'];

function fieldMatches(doc: SearchDocument, field: SearchField, value: string): boolean {
  if (field === 'addressed') return ADDRESSED.some((k) => doc[k].includes(value));
  return doc[FIELD_KEYS[field]].includes(value);
}

function termMatches(term: SearchTerm, m: MatchTarget, index: () => DocIndex): boolean {
  switch (term.kind) {
    case 'text':
      return term.phrase ? hasPhrase(index(), term.words) : term.words.every((w) => hasPrefix(index(), w));
    case 'field':
      return fieldMatches(m.doc, term.field, term.value);
    case 'header':
      return lineMatches(headerLinesOf(m.doc, index()), term.name, term.value);
    case 'tag': {
      const wanted = normalize(term.name);
      return m.tags.some((t) => normalize(t) === wanted);
    }
    case 'is':
      if (term.state === 'tagged') return m.tags.length > 0;
      return term.state === 'read' ? m.read : !m.read;
    case 'has':
      return term.what === 'attachment' ? m.attachments > 0 : m.inline > 0;
    case 'date':
      return term.op === 'after' ? m.receivedAt >= term.at : m.receivedAt <= term.at;
    case 'size':
      return term.op === 'larger' ? m.size > term.bytes : m.size < term.bytes;
    case 'inbox':
      return (m.inbox ?? DEFAULT_INBOX) === term.name;
  }
}

/**
 * Does message `m` match every clause of `q` (each inverted when negated)? Text words match as
 * prefixes of tokens of `doc.words`, or, for a phrase, as consecutive whole tokens; fields and
 * header values as substrings of the normalised columns; tags by equality under `normalize`.
 * An empty query matches every message.
 */
export function matchesSearch(q: SearchQuery, m: MatchTarget): boolean {
  let index: DocIndex | undefined;
  const lazyIndex = (): DocIndex => {
    index ??= indexOf(m.doc);
    return index;
  };
  return q.clauses.every((c) => termMatches(c.term, m, lazyIndex) !== c.negate);
}
