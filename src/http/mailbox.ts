// The mailbox a request may see: the whole store, or one inbox (domain/inbox.ts) for a user or
// token limited to it (http/middleware/access.ts). Message routes read and change mail only
// through this, so a message of another inbox is simply not there for them: 404, never 403, and
// bulk changes ("delete all", "mark all read", a search) stay inside the inbox.
import { inboxOf } from '../domain/inbox.ts';
import type { MessageSummary } from '../domain/message.ts';
import { withinInbox } from '../search/ast.ts';
import type { Selection, Storage, StoreStats } from '../storage/ports.ts';
import { principalOf } from './middleware/access.ts';

export type Mailbox = Pick<
  Storage,
  'list' | 'get' | 'getRaw' | 'summaries' | 'latestId' | 'setRead' | 'delete' | 'setTags' | 'stats'
> & {
  /** The inbox this mailbox is limited to, or null for every inbox. */
  readonly inbox: string | null;
};

/** A request context: the access middleware's principal is read from it (principalOf). */
type Scoped = Parameters<typeof principalOf>[0];

/** The inbox the request's credentials are limited to, or null. */
export function inboxScopeOf(c: Scoped): string | null {
  const principal = principalOf(c);
  return principal && principal.kind !== 'anonymous' ? (principal.inbox ?? null) : null;
}

/** The mailbox this request may see. */
export function mailboxFor(storage: Storage, c: Scoped): Mailbox {
  return mailboxOfInbox(storage, inboxScopeOf(c));
}

export function mailboxOfInbox(storage: Storage, inbox: string | null): Mailbox {
  if (inbox === null) {
    return {
      inbox: null,
      list: (q) => storage.list(q),
      get: (id) => storage.get(id),
      getRaw: (id) => storage.getRaw(id),
      summaries: (ids) => storage.summaries(ids),
      latestId: () => storage.latestId(),
      setRead: (s, read) => storage.setRead(s, read),
      delete: (s) => storage.delete(s),
      setTags: (ids, tags) => storage.setTags(ids, tags),
      stats: () => storage.stats(),
    };
  }
  return new InboxMailbox(storage, inbox);
}

class InboxMailbox implements Mailbox {
  readonly inbox: string;
  private readonly storage: Storage;

  constructor(storage: Storage, inbox: string) {
    this.storage = storage;
    this.inbox = inbox;
  }

  private mine = (m: Pick<MessageSummary, 'envelope'>): boolean => inboxOf(m.envelope) === this.inbox;

  list: Storage['list'] = (q) => this.storage.list({ ...q, inbox: this.inbox });

  get: Storage['get'] = async (id) => {
    const m = await this.storage.get(id);
    return m && this.mine(m) ? m : null;
  };

  getRaw: Storage['getRaw'] = async (id) =>
    (await this.ownIds([id])).length ? this.storage.getRaw(id) : null;

  summaries: Storage['summaries'] = async (ids) => (await this.storage.summaries(ids)).filter(this.mine);

  latestId: Storage['latestId'] = async () => {
    const { messages } = await this.list({ start: 0, limit: 1 });
    return messages[0]?.id ?? null;
  };

  setRead: Storage['setRead'] = async (selection, read) =>
    this.storage.setRead(await this.narrow(selection), read);

  delete: Storage['delete'] = async (selection) => this.storage.delete(await this.narrow(selection));

  setTags: Storage['setTags'] = async (ids, tags) => this.storage.setTags(await this.ownIds(ids), tags);

  stats = async (): Promise<StoreStats> => {
    const r = await this.list({ start: 0, limit: 0 });
    // Sizes and the database file are the whole store's business.
    return { messages: r.total, unread: r.unread, bytes: 0, databaseBytes: 0 };
  };

  private async ownIds(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const own = new Set((await this.summaries(ids)).map((m) => m.id));
    return ids.filter((id) => own.has(id));
  }

  /** The selection, within this inbox: never 'all' of the store. */
  private async narrow(selection: Selection): Promise<Selection> {
    if (selection === 'all') return { query: withinInbox(undefined, this.inbox) };
    if (Array.isArray(selection)) return this.ownIds(selection);
    return {
      query: withinInbox((selection as { query: Parameters<typeof withinInbox>[0] }).query, this.inbox),
    };
  }
}
