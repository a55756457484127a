// What both adapters share when they store and search: the search columns per field, LIKE
// escaping, and the cleaning of tag names before they are stored.
import { cleanTag, MAX_TAGS_PER_MESSAGE } from '../domain/tags.ts';
import type { SearchField } from '../search/ast.ts';
import { normalize } from '../search/text.ts';

/** The message_search column of each searchable field. */
export const FIELD_COLUMNS: Readonly<Record<Exclude<SearchField, 'addressed'>, string>> = {
  from: 's_from',
  to: 's_to',
  cc: 's_cc',
  bcc: 's_bcc',
  'reply-to': 's_reply_to',
  subject: 's_subject',
  'message-id': 's_message_id',
};

/** The columns `addressed:` looks in. */
export const ADDRESS_COLUMNS: readonly string[] = ['s_from', 's_to', 's_cc', 's_bcc', 's_reply_to'];

/** The columns a field term looks in. */
export function fieldColumns(field: SearchField): readonly string[] {
  return field === 'addressed' ? ADDRESS_COLUMNS : [FIELD_COLUMNS[field]];
}

/** `value` with LIKE's wildcard characters escaped by a backslash (PostgreSQL's default, SQLite's ESCAPE '\'). */
export function likeEscape(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A LIKE pattern matching `value` anywhere. */
export function containsPattern(value: string): string {
  return `%${likeEscape(value)}%`;
}

/** Valid, distinct (by normal form) tag names, capped per message. */
export function cleanTags(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of names) {
    const name = cleanTag(raw);
    if (!name) continue;
    const norm = normalize(name);
    if (seen.has(norm)) continue;
    seen.add(norm);
    out.push(name);
    if (out.length === MAX_TAGS_PER_MESSAGE) break;
  }
  return out;
}
