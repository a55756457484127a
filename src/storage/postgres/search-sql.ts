// Compiles a parsed search (src/search/ast.ts) to a PostgreSQL WHERE clause over `messages m` left-
// joined to `message_search s`. Free text uses the GIN-indexed tsvector of pre-tokenised words with
// the 'simple' configuration; fields use the normalised columns; values are always parameters.
import type { SearchField, SearchQuery, SearchTerm } from '../../search/ast.ts';
import { normalize } from '../../search/text.ts';

export interface CompiledSearch {
  where: string;
  params: unknown[];
}

const FIELD_COLUMNS: Record<Exclude<SearchField, 'addressed'>, string> = {
  from: 's.s_from',
  to: 's.s_to',
  cc: 's.s_cc',
  bcc: 's.s_bcc',
  'reply-to': 's.s_reply_to',
  subject: 's.s_subject',
  'message-id': 's.s_message_id',
};

/** A LIKE pattern matching `value` anywhere, with the wildcard characters escaped. */
function containsPattern(value: string): string {
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The tsquery for one text term: each word as a prefix, or the words as one phrase. */
export function tsqueryExpression(words: readonly string[], phrase: boolean): string {
  return phrase ? words.join(' <-> ') : words.map((w) => `${w}:*`).join(' & ');
}

/** Escapes a string for use inside a POSIX regular expression. */
function regexLiteral(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|]/g, (c) => `\\${c}`);
}

function compileTerm(term: SearchTerm, p: (v: unknown) => string): string {
  switch (term.kind) {
    case 'text':
      return `coalesce(s.words @@ to_tsquery('simple', ${p(tsqueryExpression(term.words, term.phrase))}), false)`;
    case 'field': {
      const pattern = p(containsPattern(term.value));
      const cols =
        term.field === 'addressed'
          ? ['s.s_from', 's.s_to', 's.s_cc', 's.s_bcc', 's.s_reply_to']
          : [FIELD_COLUMNS[term.field]];
      return `(${cols.map((c) => `coalesce(${c}, '') LIKE ${pattern}`).join(' OR ')})`;
    }
    case 'header':
      // A line "name: ..." holding the value; (?n) makes ^ and . stop at newlines.
      return `coalesce(s.s_headers, '') ~ ${p(`(?n)^${regexLiteral(`${term.name}:`)}.*${regexLiteral(term.value)}`)}`;
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
