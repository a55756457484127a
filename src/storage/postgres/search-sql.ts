// Compiles a parsed search (src/search/ast.ts) to a PostgreSQL WHERE clause over `messages m`;
// conditions on the search row are subqueries, so each can use its index. Free text uses the
// GIN-indexed tsvector of pre-tokenised words ('simple' configuration); fields and headers the
// normalised columns of `message_search`; values are always parameters.
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

/** The seqs of messages whose search row satisfies the term (each such query uses its own index). */
function searchRowQuery(term: SearchRowTerm, p: (v: unknown) => string): string {
  return `SELECT seq FROM message_search WHERE ${searchRowCondition(term, p)}`;
}

type SearchRowTerm = Extract<SearchTerm, { kind: 'text' | 'field' | 'header' }>;

/** Full-text, field and header terms: the ones answered from `message_search` and its indexes. */
export function isSearchRowTerm(term: SearchTerm): term is SearchRowTerm {
  return term.kind === 'text' || term.kind === 'field' || term.kind === 'header';
}

/** The condition on `message_search` for a full-text, field or header term. */
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
   * The seqs of messages whose search row matches every positive full-text, field and header
   * term: one query per term over `message_search`, intersected. Null when there is none.
   */
  candidates: string | null;
  /** Every other condition, over `messages m`. */
  where: string;
  params: unknown[];
}

/**
 * A search split for driving from its index hits. Each positive search-row term is its own
 * query, so each uses its own index without re-checking the others: in one WHERE, a bitmap AND of
 * a trigram index (lossy) and the words index makes PostgreSQL re-check the words of every
 * candidate, reading each out-of-line tsvector. The caller fetches the candidates' messages by
 * primary key and applies `where` to them.
 */
export function compileDriven(query: SearchQuery, firstParam = 1): DrivenSearch {
  const { params, p } = binder(firstParam);
  const drivers: string[] = [];
  const rest: string[] = [];
  for (const c of query.clauses) {
    if (!c.negate && isSearchRowTerm(c.term)) {
      drivers.push(searchRowQuery(c.term, p));
      continue;
    }
    const sql = compileTerm(c.term, p);
    rest.push(c.negate ? `NOT (${sql})` : sql);
  }
  return {
    candidates: drivers.length ? drivers.join(' INTERSECT ') : null,
    where: rest.length ? rest.join(' AND ') : 'true',
    params,
  };
}
