// The statements behind PostgresStorage.list, as data: the adapter runs them, and bench/inbox's
// diagnostics time and EXPLAIN the very same ones (no copy of the SQL to drift).
import type { SearchQuery } from '../../search/ast.ts';
import { withinInbox } from '../../search/ast.ts';
import type { ListQuery } from '../ports.ts';
import { SUMMARY_COLUMNS } from '../rows.ts';
import { compileDriven, compileSearch, isSearchRowTerm } from './search-sql.ts';

export interface Statement {
  label: string;
  sql: string;
  params: unknown[];
}

/** Mailbox totals, kept by triggers (migration 003): no count over every message per request. */
export const MAILBOX_COUNTS: Statement = {
  label: 'mailbox counts',
  sql: 'SELECT coalesce(sum(total), 0) AS total, coalesce(sum(unread), 0) AS unread FROM mailbox_counts',
  params: [],
};

/** The totals of one inbox (through the messages_inbox index), for a list limited to it. */
export function inboxCounts(inbox: string): Statement {
  return {
    label: 'inbox counts',
    sql: 'SELECT count(*) AS total, count(*) FILTER (WHERE NOT read) AS unread FROM messages WHERE inbox = $1',
    params: [inbox],
  };
}

/** Every tag name, for the list response's `tags`. */
export const TAG_NAMES: Statement = {
  label: 'tag names',
  sql: 'SELECT name FROM tags ORDER BY norm COLLATE "C", name COLLATE "C"',
  params: [],
};

/**
 * How one list request is answered, besides MAILBOX_COUNTS (run beside it, in parallel):
 * - `all`: no search; the counts are the mailbox totals.
 * - `read-state`: only `is:read` / `is:unread`; the counts come from the mailbox totals too.
 * - `cheap`: flags, tags, sizes, dates: page and count run in parallel, the page stops early.
 * - `costly`: full-text, field and header conditions run once; the matching seqs and read flags
 *   are materialised, counted, and the page's rows fetched by seq, in one statement.
 */
export type ListPlan =
  | { kind: 'all'; page: Statement }
  | { kind: 'read-state'; read: boolean; page: Statement }
  | { kind: 'cheap'; page: Statement; count: Statement }
  | { kind: 'costly'; combined: Statement };

const PREFIXED_COLUMNS = SUMMARY_COLUMNS.split(', ')
  .map((col) => `m.${col}`)
  .join(', ');

/** true for a search that is only `is:read` (or `-is:unread`), false for `is:unread`, else null. */
function onlyReadState(query: SearchQuery): boolean | null {
  if (query.clauses.length !== 1) return null;
  const [clause] = query.clauses;
  if (clause?.term.kind !== 'is' || clause.term.state === 'tagged') return null;
  return (clause.term.state === 'read') !== clause.negate;
}

export function listPlan(list: ListQuery): ListPlan {
  const q = list.inbox === undefined ? list : { ...list, query: withinInbox(list.query, list.inbox) };
  if (!q.query || q.query.clauses.length === 0) {
    return {
      kind: 'all',
      // A deep page skips its offset in the primary key index, then reads only its own rows.
      page: {
        label: 'page rows',
        sql: `SELECT ${SUMMARY_COLUMNS} FROM messages
              WHERE seq <= (SELECT seq FROM messages ORDER BY seq DESC OFFSET $2 LIMIT 1)
              ORDER BY seq DESC LIMIT $1`,
        params: [q.limit, q.start],
      },
    };
  }
  const read = onlyReadState(q.query);
  if (read !== null) {
    return {
      kind: 'read-state',
      read,
      // The primary key backwards: unread mail is most of a capture mailbox.
      page: {
        label: 'page rows',
        sql: `SELECT ${SUMMARY_COLUMNS} FROM messages WHERE read = $3 ORDER BY seq DESC LIMIT $1 OFFSET $2`,
        params: [q.limit, q.start, read],
      },
    };
  }
  // $1 and $2 are the page's LIMIT and OFFSET.
  if (!q.query.clauses.some((cl) => isSearchRowTerm(cl.term))) {
    const c = compileSearch(q.query, 3);
    const counted = compileSearch(q.query);
    return {
      kind: 'cheap',
      page: {
        label: 'page rows',
        sql: `SELECT ${PREFIXED_COLUMNS} FROM messages m WHERE ${c.where} ORDER BY m.seq DESC LIMIT $1 OFFSET $2`,
        params: [q.limit, q.start, ...c.params],
      },
      count: {
        label: 'matched count',
        sql: `SELECT count(*) AS n, count(*) FILTER (WHERE NOT m.read) AS unread FROM messages m WHERE ${counted.where}`,
        params: counted.params,
      },
    };
  }
  // Driven from the index hits of the positive full-text/field/header terms when there are some:
  // their seqs, as an array, fetch the messages through the primary key (a planner left to join
  // them tends to scan every message for the cheap conditions instead). With none (all negated),
  // `where` holds every condition.
  const d = compileDriven(q.query, 3);
  const hits = d.candidates
    ? `WITH cand AS MATERIALIZED (${d.candidates}),
            hits AS MATERIALIZED (SELECT m.seq, m.read FROM messages m
                                  WHERE m.seq = ANY (ARRAY(SELECT seq FROM cand)) AND ${d.where})`
    : `WITH hits AS MATERIALIZED (SELECT m.seq, m.read FROM messages m WHERE ${d.where})`;
  return {
    kind: 'costly',
    combined: {
      label: 'matches, counted and paged',
      sql: `${hits},
                 totals AS (SELECT count(*) AS hits_total, count(*) FILTER (WHERE NOT read) AS hits_unread FROM hits),
                 page AS (SELECT seq FROM hits ORDER BY seq DESC LIMIT $1 OFFSET $2)
            SELECT t.hits_total, t.hits_unread, ${PREFIXED_COLUMNS}
            FROM totals t LEFT JOIN (page p JOIN messages m ON m.seq = p.seq) ON true
            ORDER BY m.seq DESC`,
      params: [q.limit, q.start, ...d.params],
    },
  };
}

/** Every statement one list request runs, in the order the adapter issues them (for diagnostics). */
export function listStatements(q: ListQuery): Statement[] {
  const plan = listPlan(q);
  const own =
    plan.kind === 'costly' ? [plan.combined] : plan.kind === 'cheap' ? [plan.page, plan.count] : [plan.page];
  return [q.inbox === undefined ? MAILBOX_COUNTS : inboxCounts(q.inbox), TAG_NAMES, ...own];
}
