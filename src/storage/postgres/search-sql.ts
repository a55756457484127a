// Compiles a parsed search (src/search/ast.ts) to a PostgreSQL WHERE clause over `messages m`;
// conditions on the search row are subqueries on `message_search`, so each can use its index. Free text uses the GIN-indexed tsvector of pre-tokenised words with
// the 'simple' configuration; fields use the normalised columns; values are always parameters.
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

/** Messages whose search row satisfies `condition` (each such test can use its own index). */
function searchRow(condition: string): string {
  return `m.seq IN (SELECT seq FROM message_search WHERE ${condition})`;
}

function compileTerm(term: SearchTerm, p: (v: unknown) => string): string {
  switch (term.kind) {
    case 'text':
      return searchRow(`words @@ to_tsquery('simple', ${p(tsqueryExpression(term.words, term.phrase))})`);
    case 'field': {
      // Trigram GIN indexes (migration 003) serve LIKE '%…%' for three characters or more.
      const pattern = p(containsPattern(term.value));
      return searchRow(
        fieldColumns(term.field)
          .map((c) => `${c} LIKE ${pattern}`)
          .join(' OR '),
      );
    }
    case 'header': {
      // LIKE (trigram-indexed) narrows the rows; the regex then checks name and value share a line.
      const like = p(`%${likeEscape(term.name)}:%${likeEscape(term.value)}%`);
      // (?n) makes ^ and . stop at newlines.
      const regex = p(`(?n)^${regexLiteral(`${term.name}:`)}.*${regexLiteral(term.value)}`);
      return searchRow(`s_headers LIKE ${like} AND s_headers ~ ${regex}`);
    }
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

/** `firstParam` is the number of the first placeholder this clause may use ($1 by default). */
export function compileSearch(query: SearchQuery, firstParam = 1): CompiledSearch {
  const params: unknown[] = [];
  const p = (v: unknown) => `$${params.push(v) + firstParam - 1}`;
  const parts = query.clauses.map((c) => {
    const sql = compileTerm(c.term, p);
    return c.negate ? `NOT (${sql})` : sql;
  });
  return { where: parts.length ? parts.join(' AND ') : 'true', params };
}
