// The statements behind SqliteStorage.list and tags(), as data: the adapter runs them, and
// bench/inbox's diagnostics time and EXPLAIN the very same ones (no copy of the SQL to drift),
// as src/storage/postgres/list-sql.ts does for PostgreSQL.
import type { SQLInputValue } from 'node:sqlite';
import { withinInbox } from '../../search/ast.ts';
import type { ListQuery } from '../ports.ts';
import { SUMMARY_COLUMNS } from '../rows.ts';
import { compileSearch } from './search-sql.ts';

export interface Statement {
  label: string;
  sql: string;
  params: SQLInputValue[];
}

/** Mailbox totals. */
export const MAILBOX_COUNTS: Statement = {
  label: 'mailbox counts',
  sql: 'SELECT count(*) AS total, (SELECT count(*) FROM messages WHERE read = 0) AS unread FROM messages',
  params: [],
};

/** The totals of one inbox (through the messages_inbox index), for a list limited to it. */
export function inboxCounts(inbox: string): Statement {
  return {
    label: 'inbox counts',
    sql: 'SELECT count(*) AS total, coalesce(sum(read = 0), 0) AS unread FROM messages WHERE inbox = ?',
    params: [inbox],
  };
}

/** Every tag name, for the list response's `tags`. */
export const TAG_NAMES: Statement = {
  label: 'tag names',
  sql: 'SELECT name FROM tags ORDER BY norm, name',
  params: [],
};

/**
 * One list request besides MAILBOX_COUNTS: the page's rows, and for a search the matched and
 * unread counts (null without a search: the mailbox totals are the counts). The page of a search
 * is compiled for paging (`page: true`), its count without.
 */
export function listPlan(list: ListQuery): { page: Statement; count: Statement | null } {
  const q = list.inbox === undefined ? list : { ...list, query: withinInbox(list.query, list.inbox) };
  if (!q.query || q.query.clauses.length === 0) {
    return {
      page: {
        label: 'page rows',
        sql: `SELECT ${SUMMARY_COLUMNS} FROM messages ORDER BY seq DESC LIMIT ? OFFSET ?`,
        params: [q.limit, q.start],
      },
      count: null,
    };
  }
  const paged = compileSearch(q.query, { page: true });
  const counted = compileSearch(q.query);
  const from = (x: { joinSearch: boolean; where: string }) =>
    `messages m ${x.joinSearch ? 'LEFT JOIN message_search s ON s.seq = m.seq' : ''} WHERE ${x.where}`;
  const columns = SUMMARY_COLUMNS.split(', ')
    .map((col) => `m.${col}`)
    .join(', ');
  return {
    page: {
      label: 'page rows',
      sql: `SELECT ${columns} FROM ${from(paged)} ORDER BY m.seq DESC LIMIT ? OFFSET ?`,
      params: [...paged.params, q.limit, q.start],
    },
    count: {
      label: 'matched count',
      sql: `SELECT count(*) AS n, coalesce(sum(m.read = 0), 0) AS unread FROM ${from(counted)}`,
      params: counted.params,
    },
  };
}

/** Every statement one list request runs, in order (for diagnostics). */
export function listStatements(q: ListQuery): Statement[] {
  const plan = listPlan(q);
  const counts = q.inbox === undefined ? MAILBOX_COUNTS : inboxCounts(q.inbox);
  return [counts, TAG_NAMES, plan.page, ...(plan.count ? [plan.count] : [])];
}
