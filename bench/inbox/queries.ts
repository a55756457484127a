// bench/inbox: the requests whose latency is measured (list pages and Mailpit-syntax searches),
// each with what it should match in the corpus, so a fast answer that is wrong shows up. Each also
// says how MailDev (the second peer, whose search is a plain substring) asks the same, if it can.
import type { SearchView } from './corpus.ts';

/** What a query needs to know about the filled store to be written. */
export interface QueryContext {
  count: number;
  /** `Created` of two stored messages, about a quarter and three quarters of the way back. */
  after: string;
  before: string;
}

type Matcher = (v: SearchView, ctx: { readTag: string }) => boolean;

/** How MailDev asks a query: `GET /api/email/summary` with skip, limit 50 and these parameters. */
export interface MaildevQuery {
  /** The parameters besides skip and limit; null when MailDev has no way to ask this. */
  params: ((ctx: QueryContext) => Record<string, string>) | null;
  /** What MailDev should match, where its semantics differ from `matches`. */
  matches?: Matcher;
  /** How its answer differs (or why it cannot ask), for the tables. */
  note?: string;
}

/**
 * MailDev's only search: `search=` keeps messages whose subject, from/to/cc names and addresses,
 * or plain-text body contain the text, case-insensitively (@maildev/core matchesSearchTerm).
 */
const MAILDEV_UNSUPPORTED =
  'not supported by MailDev (its only search is one substring over subject, addresses and text)';

/** MailDev's substring test over what it searches (`words` also holds attachment names). */
function maildevSubstring(text: string): Matcher {
  return (v) => v.words.includes(text);
}

export interface QueryDef {
  /** Short label for the tables. */
  name: string;
  /** The search text; null for plain list requests. */
  search: ((ctx: QueryContext) => string) | null;
  /** Page offset for list requests. */
  start?: (ctx: QueryContext) => number;
  /** Does this message match? Null when the answer depends on the store (dates). */
  matches: Matcher | null;
  /** Why Mailpit's answer is not comparable, when it is not. */
  mailpitNote?: string;
  /** How MailDev asks it; absent means MailDev cannot. */
  maildev?: MaildevQuery;
}

/** Messages with this tag are marked read before measuring, so is:unread selects a real subset. */
export const READ_TAG = 'newsletter';

/** `word` starts a token of `text` (free text is a prefix search on both engines). */
function prefixWord(text: string, word: string): boolean {
  return new RegExp(`(?<![\\p{L}\\p{N}])${word}`, 'u').test(text);
}

export const QUERIES: QueryDef[] = [
  { name: 'list, first page', search: null, matches: () => true, maildev: { params: () => ({}) } },
  {
    name: 'list, deep page',
    search: null,
    start: (ctx) => Math.floor(ctx.count / 2),
    matches: () => true,
    maildev: { params: () => ({}) },
  },
  {
    name: 'text word',
    search: () => 'invoice',
    matches: (v) => prefixWord(v.words, 'invoice'),
    mailpitNote: 'Mailpit matches free text as a substring',
    maildev: {
      params: () => ({ search: 'invoice' }),
      matches: maildevSubstring('invoice'),
      note: 'MailDev matches a substring of subject, addresses and text, not a word prefix',
    },
  },
  {
    name: 'phrase',
    search: () => '"has shipped"',
    matches: (v) => /(?<![\p{L}\p{N}])has[^\p{L}\p{N}]+shipped(?![\p{L}\p{N}])/u.test(v.words),
    maildev: {
      params: () => ({ search: 'has shipped' }),
      matches: maildevSubstring('has shipped'),
      note: 'MailDev matches the text "has shipped" as a substring (not across a line break)',
    },
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
    maildev: { params: () => ({ unread: 'true' }) },
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

/** The MailDev request of a query, or null when MailDev cannot ask it. */
export function maildevPath(q: QueryDef, ctx: QueryContext): string | null {
  if (!q.maildev?.params) return null;
  const skip = q.start?.(ctx) ?? 0;
  const params = new URLSearchParams({
    skip: String(skip),
    limit: '50',
    sort: 'desc',
    ...q.maildev.params(ctx),
  });
  return `/api/email/summary?${params}`;
}

/** Why MailDev has no row for this query, or how its row differs. */
export function maildevNote(q: QueryDef): string | undefined {
  return q.maildev?.params ? q.maildev.note : (q.maildev?.note ?? MAILDEV_UNSUPPORTED);
}

/** The matcher of a query that MailDev's answers are held to. */
export function maildevMatcher(q: QueryDef): Matcher | null {
  return q.maildev?.matches ?? q.matches;
}

/**
 * Counts, per query, the corpus messages it should match; feed it every message's view. `matcher`
 * picks the semantics to count with (Mailroom's by default).
 */
export class Expectations {
  readonly counts: (number | null)[];
  private readonly matchers: (Matcher | null)[];

  constructor(matcher: (q: QueryDef) => Matcher | null = (q) => q.matches) {
    this.matchers = QUERIES.map(matcher);
    this.counts = this.matchers.map((m) => (m ? 0 : null));
  }

  add(v: SearchView): void {
    const ctx = { readTag: READ_TAG };
    this.matchers.forEach((m, i) => {
      if (m?.(v, ctx)) this.counts[i] = (this.counts[i] ?? 0) + 1;
    });
  }
}
