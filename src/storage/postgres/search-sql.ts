// Compiles a parsed search (src/search/ast.ts) to a PostgreSQL WHERE clause over `messages m`;
// conditions on the search rows are subqueries, so each can use its index. Free text uses the
// GIN-indexed tsvector of pre-tokenised words ('simple' configuration) in `message_words`; fields
// and headers the normalised columns of `message_search`; values are always parameters.
import type { SearchQuery, SearchTerm } from '../../search/ast.ts';
import { normalize } from '../../search/text.ts';
import { containsPattern, fieldColumns, likeEscape } from '../search-columns.ts';

export interface CompiledSearch {
  where: string;
  params: unknown[];
}

/** The tsquery for one text term: each word as a prefix, or the words as one phrase. */
export function tsqueryExpression(words: readonly string[], phrase: boolean): string {
  return phrase ? words.join(' <-> ') : words.map((w) => `${w}:*`).join(' & ');
}

/** Escapes a string for use inside a POSIX regular expression. */
function regexLiteral(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|]/g, (c) => `\\${c}`);
}

/**
 * The seqs of messages whose search row satisfies the term (each such query uses its own index).
 * Free text is in `message_words`, fields and headers in `message_search` (migration 005).
 */
function searchRowQuery(term: SearchRowTerm, p: (v: unknown) => string): string {
  const table = term.kind === 'text' ? 'message_words' : 'message_search';
  return `SELECT seq FROM ${table} WHERE ${searchRowCondition(term, p)}`;
}

type SearchRowTerm = Extract<SearchTerm, { kind: 'text' | 'field' | 'header' }>;

/** Full-text, field and header terms: the ones answered from the search tables and their indexes. */
export function isSearchRowTerm(term: SearchTerm): term is SearchRowTerm {
  return term.kind === 'text' || term.kind === 'field' || term.kind === 'header';
}

/** The condition on `message_words` (free text) or `message_search` (fields, headers) for a term. */
function searchRowCondition(term: SearchRowTerm, p: (v: unknown) => string): string {
  switch (term.kind) {
    case 'text':
      return `words @@ to_tsquery('simple', ${p(tsqueryExpression(term.words, term.phrase))})`;
    case 'field': {
      // Trigram GIN indexes (migration 003) serve LIKE '%…%' for three characters or more.
      const pattern = p(containsPattern(term.value));
      return fieldColumns(term.field)
        .map((c) => `${c} LIKE ${pattern}`)
        .join(' OR ');
    }
    case 'header': {
      // LIKE (trigram-indexed) narrows the rows; the regex then checks name and value share a line.
      const like = p(`%${likeEscape(term.name)}:%${likeEscape(term.value)}%`);
      // (?n) makes ^ and . stop at newlines.
      const regex = p(`(?n)^${regexLiteral(`${term.name}:`)}.*${regexLiteral(term.value)}`);
      return `s_headers LIKE ${like} AND s_headers ~ ${regex}`;
    }
  }
}

function compileTerm(term: SearchTerm, p: (v: unknown) => string): string {
  switch (term.kind) {
    case 'text':
    case 'field':
    case 'header':
      return `m.seq IN (${searchRowQuery(term, p)})`;
    case 'tag':
      return `m.seq IN (SELECT mt.seq FROM message_tags mt JOIN tags t ON t.id = mt.tag_id WHERE t.norm = ${p(normalize(term.name))})`;
    case 'is':
      if (term.state === 'tagged') return "m.tags <> '[]'::jsonb";
      return term.state === 'read' ? 'm.read' : 'NOT m.read';
    case 'has':
      return term.what === 'attachment' ? 'm.attachment_count > 0' : 'm.inline_count > 0';
    case 'date':
      return `m.received_at ${term.op === 'after' ? '>=' : '<='} ${p(new Date(term.at).toISOString())}::timestamptz`;
    case 'size':
      return `m.size ${term.op === 'larger' ? '>' : '<'} ${p(term.bytes)}`;
    case 'inbox':
      return `m.inbox = ${p(term.name)}`;
  }
}

/** Collects values as parameters: `p(v)` returns the placeholder of `v`, from `$firstParam` on. */
function binder(firstParam: number): { params: unknown[]; p: (v: unknown) => string } {
  const params: unknown[] = [];
  return { params, p: (v: unknown) => `$${params.push(v) + firstParam - 1}` };
}

/** `firstParam` is the number of the first placeholder this clause may use ($1 by default). */
export function compileSearch(query: SearchQuery, firstParam = 1): CompiledSearch {
  const { params, p } = binder(firstParam);
  const parts = query.clauses.map((c) => {
    const sql = compileTerm(c.term, p);
    return c.negate ? `NOT (${sql})` : sql;
  });
  return { where: parts.length ? parts.join(' AND ') : 'true', params };
}

export interface DrivenSearch {
  /**
   * The seqs of messages whose search rows match every positive full-text, field and header
   * term, as one query over `message_words`, `message_search` or the two joined. Null when there
   * is none.
   */
  candidates: string | null;
  /** Every other condition, over `messages m`. */
  where: string;
  params: unknown[];
}

/**
 * A search split for driving from its index hits (the caller fetches the candidates' messages by
 * primary key and applies `where` to them).
 * - The positive free-text terms become one tsquery, so the GIN index intersects their words
 *   before any row is read.
 * - The positive field and header terms become one WHERE on `message_search`, where PostgreSQL
 *   can AND their trigram bitmaps.
 * - With both, the two tables are joined on seq and the planner picks the order: usually the
 *   smaller side's index hits, each checked against the other table's row by primary key. Since
 *   migration 005 a word vector sits in its row, so that check reads one page; running both
 *   sides in full and intersecting them read both sets of pages (about 120 MB for
 *   `invoice from:acme` at 100,000 messages), more than PostgreSQL's default buffer cache.
 */
export function compileDriven(query: SearchQuery, firstParam = 1): DrivenSearch {
  const { params, p } = binder(firstParam);
  const text: string[] = [];
  const fields: string[] = [];
  const rest: string[] = [];
  for (const c of query.clauses) {
    const t = c.term;
    if (!c.negate && t.kind === 'text') {
      text.push(`(${tsqueryExpression(t.words, t.phrase)})`);
    } else if (!c.negate && (t.kind === 'field' || t.kind === 'header')) {
      fields.push(`(${searchRowCondition(t, p)})`);
    } else {
      const sql = compileTerm(t, p);
      rest.push(c.negate ? `NOT (${sql})` : sql);
    }
  }
  const words = text.length ? `w.words @@ to_tsquery('simple', ${p(text.join(' & '))})` : '';
  const onFields = fields.join(' AND ');
  const candidates =
    text.length && fields.length
      ? `SELECT s.seq FROM message_search s JOIN message_words w ON w.seq = s.seq WHERE ${onFields} AND ${words}`
      : text.length
        ? `SELECT w.seq FROM message_words w WHERE ${words}`
        : fields.length
          ? `SELECT s.seq FROM message_search s WHERE ${onFields}`
          : null;
  return { candidates, where: rest.length ? rest.join(' AND ') : 'true', params };
}
