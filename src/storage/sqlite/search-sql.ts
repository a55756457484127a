// Compiles a parsed search (src/search/ast.ts) to a SQLite WHERE clause over `messages m`. Free text
// goes to the FTS5 index, fields to the normalised columns of `message_search s` (joined by the
// caller when `joinSearch` is set). Values are always parameters; the FTS5 expressions are built
// from tokens that hold only letters and digits (src/search/text.ts), so quoting them is enough.
import type { DatabaseSync } from 'node:sqlite';
import type { SearchField, SearchQuery, SearchTerm } from '../../search/ast.ts';
import { headerMatches } from '../../search/match.ts';
import { normalize } from '../../search/text.ts';

export interface CompiledSearch {
  where: string;
  params: (string | number)[];
  joinSearch: boolean;
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
export function containsPattern(value: string): string {
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The FTS5 query for one text term: each word as a prefix, or the words as one phrase. */
export function ftsExpression(words: readonly string[], phrase: boolean): string {
  if (phrase) return `"${words.join(' ')}"`;
  return words.map((w) => `"${w}"*`).join(' AND ');
}

function compileTerm(term: SearchTerm, params: (string | number)[]): { sql: string; search: boolean } {
  switch (term.kind) {
    case 'text':
      params.push(ftsExpression(term.words, term.phrase));
      return { sql: 'm.seq IN (SELECT rowid FROM message_fts WHERE message_fts MATCH ?)', search: false };
    case 'field': {
      const pattern = containsPattern(term.value);
      if (term.field === 'addressed') {
        const cols = ['s.s_from', 's.s_to', 's.s_cc', 's.s_bcc', 's.s_reply_to'];
        for (const _ of cols) params.push(pattern);
        return {
          sql: `(${cols.map((c) => `coalesce(${c}, '') LIKE ? ESCAPE '\\'`).join(' OR ')})`,
          search: true,
        };
      }
      params.push(pattern);
      return { sql: `coalesce(${FIELD_COLUMNS[term.field]}, '') LIKE ? ESCAPE '\\'`, search: true };
    }
    case 'header':
      params.push(term.name, term.value);
      return { sql: "mr_header_match(coalesce(s.s_headers, ''), ?, ?)", search: true };
    case 'tag':
      params.push(normalize(term.name));
      return {
        sql: 'm.seq IN (SELECT mt.seq FROM message_tags mt JOIN tags t ON t.id = mt.tag_id WHERE t.norm = ?)',
        search: false,
      };
    case 'is':
      if (term.state === 'tagged') return { sql: "m.tags <> '[]'", search: false };
      return { sql: term.state === 'read' ? 'm.read = 1' : 'm.read = 0', search: false };
    case 'has':
      return {
        sql: term.what === 'attachment' ? 'm.attachment_count > 0' : 'm.inline_count > 0',
        search: false,
      };
    case 'date':
      // received_at is ISO 8601 in UTC with milliseconds, so text order is time order.
      params.push(new Date(term.at).toISOString());
      return { sql: term.op === 'after' ? 'm.received_at >= ?' : 'm.received_at <= ?', search: false };
    case 'size':
      params.push(term.bytes);
      return { sql: term.op === 'larger' ? 'm.size > ?' : 'm.size < ?', search: false };
  }
}

export function compileSearch(query: SearchQuery): CompiledSearch {
  const params: (string | number)[] = [];
  const parts: string[] = [];
  let joinSearch = false;
  for (const clause of query.clauses) {
    const { sql, search } = compileTerm(clause.term, params);
    joinSearch ||= search;
    parts.push(clause.negate ? `NOT (${sql})` : sql);
  }
  return { where: parts.length ? parts.join(' AND ') : '1', params, joinSearch };
}

/** SQL functions the compiled searches call; registered on every connection that runs them. */
export function registerSearchFunctions(db: DatabaseSync): void {
  db.function('mr_header_match', { deterministic: true }, (headers, name, value) =>
    headerMatches(String(headers ?? ''), String(name ?? ''), String(value ?? '')) ? 1 : 0,
  );
}
