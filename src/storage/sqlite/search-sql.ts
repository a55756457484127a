// Compiles a parsed search (src/search/ast.ts) to a SQLite WHERE clause over `messages m`. Free text
// goes to the FTS5 index, fields to the normalised columns of `message_search s` (joined by the
// caller when `joinSearch` is set). Values are always parameters; the FTS5 expressions are built
// from tokens that hold only letters and digits (src/search/text.ts), so quoting them is enough.
import type { DatabaseSync } from 'node:sqlite';
import type { SearchQuery, SearchTerm } from '../../search/ast.ts';
import { headerMatches } from '../../search/match.ts';
import { normalize } from '../../search/text.ts';
import { containsPattern, fieldColumns, likeEscape } from '../search-columns.ts';

export interface CompiledSearch {
  where: string;
  params: (string | number)[];
  joinSearch: boolean;
}

/** The trigram index finds substrings of at least this many characters. */
const TRIGRAM = 3;

/** An FTS5 trigram query for a substring of the given columns: a quoted string matches as is. */
export function trigramExpression(columns: readonly string[], value: string): string {
  return `{${columns.join(' ')}}: "${value.replaceAll('"', '""')}"`;
}

/** The FTS5 query for one text term: each word as a prefix, or the words as one phrase. */
export function ftsExpression(words: readonly string[], phrase: boolean): string {
  if (phrase) return `"${words.join(' ')}"`;
  return words.map((w) => `"${w}"*`).join(' AND ');
}

export interface CompileOptions {
  /**
   * For the page query: a date range must not steer SQLite onto the received_at index, which would
   * sort every matching row to find the newest 50; walking seq backwards stops after 50.
   */
  page?: boolean;
}

function compileTerm(
  term: SearchTerm,
  params: (string | number)[],
  options: CompileOptions,
): { sql: string; search: boolean } {
  switch (term.kind) {
    case 'text':
      params.push(ftsExpression(term.words, term.phrase));
      return { sql: 'm.seq IN (SELECT rowid FROM message_fts WHERE message_fts MATCH ?)', search: false };
    case 'field': {
      const columns = fieldColumns(term.field);
      if ([...term.value].length >= TRIGRAM) {
        params.push(trigramExpression(columns, term.value));
        return {
          sql: 'm.seq IN (SELECT rowid FROM message_fields WHERE message_fields MATCH ?)',
          search: false,
        };
      }
      const pattern = containsPattern(term.value);
      for (const _ of columns) params.push(pattern);
      return {
        sql: `(${columns.map((c) => `coalesce(s.${c}, '') LIKE ? ESCAPE '\\'`).join(' OR ')})`,
        search: true,
      };
    }
    case 'header': {
      // Custom headers have their lines in the trigram index: candidates first. For any header,
      // LIKE (native) narrows the rows before the exact per-line test (a JS function) runs.
      let candidates = '';
      if (term.name.startsWith('x-')) {
        const parts = [trigramExpression(['s_xheaders'], `${term.name}:`)];
        if ([...term.value].length >= TRIGRAM) parts.push(trigramExpression(['s_xheaders'], term.value));
        params.push(parts.join(' AND '));
        candidates = 'm.seq IN (SELECT rowid FROM message_fields WHERE message_fields MATCH ?) AND ';
      }
      params.push(`%${likeEscape(term.name)}:%${likeEscape(term.value)}%`, term.name, term.value);
      return {
        sql: `${candidates}coalesce(s.s_headers, '') LIKE ? ESCAPE '\\' AND mr_header_match(s.s_headers, ?, ?)`,
        search: true,
      };
    }
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
    case 'date': {
      // received_at is ISO 8601 in UTC with milliseconds, so text order is time order.
      const at = new Date(term.at).toISOString();
      const op = term.op === 'after' ? '>=' : '<=';
      if (!options.page) {
        params.push(at);
        return { sql: `m.received_at ${op} ?`, search: false };
      }
      // The page walks seq downwards; the seq bound (implied by the date, so it changes nothing
      // about which messages match) lets it start and stop where the range does.
      params.push(at, at);
      const bound = term.op === 'after' ? 'm.seq >= (SELECT min(seq)' : 'm.seq <= (SELECT max(seq)';
      return {
        sql: `(${bound} FROM messages WHERE received_at ${op} ?) AND +m.received_at ${op} ?)`,
        search: false,
      };
    }
    case 'size':
      params.push(term.bytes);
      return { sql: term.op === 'larger' ? 'm.size > ?' : 'm.size < ?', search: false };
    case 'inbox':
      params.push(term.name);
      return { sql: 'm.inbox = ?', search: false };
  }
}

export function compileSearch(query: SearchQuery, options: CompileOptions = {}): CompiledSearch {
  const params: (string | number)[] = [];
  const parts: string[] = [];
  let joinSearch = false;
  for (const clause of query.clauses) {
    const { sql, search } = compileTerm(clause.term, params, options);
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
