// bench/inbox: the requests whose latency is measured (list pages and Mailpit-syntax searches),
// each with what it should match in the corpus, so a fast answer that is wrong shows up.
import type { SearchView } from './corpus.ts';

/** What a query needs to know about the filled store to be written. */
export interface QueryContext {
  count: number;
  /** `Created` of two stored messages, about a quarter and three quarters of the way back. */
  after: string;
  before: string;
}

export interface QueryDef {
  /** Short label for the tables. */
  name: string;
  /** The search text; null for plain list requests. */
  search: ((ctx: QueryContext) => string) | null;
  /** Page offset for list requests. */
  start?: (ctx: QueryContext) => number;
  /** Does this message match? Null when the answer depends on the store (dates). */
  matches: ((v: SearchView, ctx: { readTag: string }) => boolean) | null;
  /** Why Mailpit's answer is not comparable, when it is not. */
  mailpitNote?: string;
}

/** Messages with this tag are marked read before measuring, so is:unread selects a real subset. */
export const READ_TAG = 'newsletter';

/** `word` starts a token of `text` (free text is a prefix search on both engines). */
function prefixWord(text: string, word: string): boolean {
  return new RegExp(`(?<![\\p{L}\\p{N}])${word}`, 'u').test(text);
}

export const QUERIES: QueryDef[] = [
  { name: 'list, first page', search: null, matches: () => true },
  { name: 'list, deep page', search: null, start: (ctx) => Math.floor(ctx.count / 2), matches: () => true },
  {
    name: 'text word',
    search: () => 'invoice',
    matches: (v) => prefixWord(v.words, 'invoice'),
    mailpitNote: 'Mailpit matches free text as a substring',
  },
  {
    name: 'phrase',
    search: () => '"has shipped"',
    matches: (v) => /(?<![\p{L}\p{N}])has[^\p{L}\p{N}]+shipped(?![\p{L}\p{N}])/u.test(v.words),
  },
  { name: 'from:', search: () => 'from:olivia', matches: (v) => v.from.includes('olivia') },
  { name: 'to:', search: () => 'to:support', matches: (v) => v.to.includes('support') },
  {
    name: 'subject:',
    search: () => 'subject:"reset your password"',
    matches: (v) => v.subject.includes('reset your password'),
  },
  {
    name: 'tag:',
    search: () => `tag:${READ_TAG}`,
    matches: (v) => v.tags.includes(READ_TAG),
  },
  {
    name: 'is:unread',
    search: () => 'is:unread',
    matches: (v, ctx) => !v.tags.includes(ctx.readTag),
  },
  { name: 'has:attachment', search: () => 'has:attachment', matches: (v) => v.attachments > 0 },
  {
    name: 'after: before:',
    search: (ctx) => `after:${ctx.after} before:${ctx.before}`,
    matches: null,
  },
  {
    name: 'header:',
    search: () => 'header:X-Campaign:spring',
    matches: (v) => /^x-campaign: .*spring/m.test(v.headers),
    mailpitNote: 'Mailpit has no header: search (it reads the word as free text)',
  },
  {
    name: 'combined, negated',
    search: () => 'invoice from:acme -has:attachment -tag:receipt',
    matches: (v) =>
      prefixWord(v.words, 'invoice') &&
      v.from.includes('acme') &&
      v.attachments === 0 &&
      !v.tags.includes('receipt'),
  },
];

/** The request path of a query for this store. */
export function queryPath(q: QueryDef, ctx: QueryContext): string {
  const params = new URLSearchParams({ limit: '50' });
  if (q.search) {
    params.set('query', q.search(ctx));
    return `/api/v1/search?${params}`;
  }
  if (q.start) params.set('start', String(q.start(ctx)));
  return `/api/v1/messages?${params}`;
}

/** Counts, per query, the corpus messages it should match; feed it every message's view. */
export class Expectations {
  readonly counts: (number | null)[] = QUERIES.map((q) => (q.matches ? 0 : null));

  add(v: SearchView): void {
    const ctx = { readTag: READ_TAG };
    QUERIES.forEach((q, i) => {
      if (q.matches?.(v, ctx)) this.counts[i] = (this.counts[i] ?? 0) + 1;
    });
  }
}
