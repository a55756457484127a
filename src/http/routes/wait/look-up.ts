// The message a wait answers with, found through the store's own search (the SQL behind
// /api/v1/search), read newest first. Only parsed (or failed) messages count: before its parse a
// message has no subject or addresses to match, and answering for it later would be answering
// out of order.
import type { MessageSummary } from '../../../domain/message.ts';
import type { SearchQuery } from '../../../search/ast.ts';
import type { Storage } from '../../../storage/ports.ts';

const PAGE = 500;
/** Unparsed messages looked at to learn whether one stored before a match is still unparsed. */
const PENDING_LOOK = 200;

export type LookUp =
  | { kind: 'found'; message: MessageSummary }
  | { kind: 'none' }
  /** A message matches, but one stored before it (after the cursor) is not parsed yet. */
  | { kind: 'held' };

const settled = (m: MessageSummary) => m.parseState !== 'pending';

/**
 * Without a cursor, the newest settled message matching `query`. With one, the oldest settled
 * match stored after it, once every message stored between the cursor and that match is settled
 * too: a message parsed late can then never be passed over by a wait chained on the cursor.
 */
export async function lookUp(
  storage: Storage,
  query: SearchQuery | undefined,
  after: number | null,
): Promise<LookUp> {
  let oldest: MessageSummary | null = null;
  for (let start = 0; ; start += PAGE) {
    const { messages } = await storage.list({ start, limit: PAGE, ...(query ? { query } : {}) });
    for (const m of messages) {
      if (after === null) {
        if (settled(m)) return { kind: 'found', message: m };
        continue;
      }
      if (m.seq <= after) return found(storage, oldest, after);
      if (settled(m)) oldest = m;
    }
    if (messages.length < PAGE) break;
  }
  return after === null ? { kind: 'none' } : found(storage, oldest, after);
}

async function found(storage: Storage, match: MessageSummary | null, after: number): Promise<LookUp> {
  if (!match) return { kind: 'none' };
  const ids = await storage.pendingParse(PENDING_LOOK);
  if (ids.length === 0) return { kind: 'found', message: match };
  const seqs = (await storage.summaries(ids)).map((m) => m.seq);
  if (seqs.some((s) => s > after && s < match.seq)) return { kind: 'held' };
  // A full look whose newest is still before the match may have missed one in between.
  if (ids.length === PENDING_LOOK && Math.max(...seqs) < match.seq) return { kind: 'held' };
  return { kind: 'found', message: match };
}
