// The storage port: what the rest of Mailroom may ask of a database. Two adapters implement it
// (storage/sqlite, storage/postgres) and test/contract runs one suite against both.
import type { MessageSummary, ParseResult, SpoolEntry, StoredMessage } from '../domain/message.ts';

export type { ParseResult };

/** Engine differences, read in one place instead of `if (engine === ...)` in services. */
export interface StorageCapabilities {
  engine: 'sqlite' | 'postgres';
  /** Several processes on several machines may share this store. */
  multiNode: boolean;
  /** Other nodes can be woken (LISTEN/NOTIFY) when new messages are spooled. */
  listenNotify: boolean;
}

export interface ListQuery {
  start: number;
  limit: number;
}

export interface ListResult {
  total: number;
  unread: number;
  messages: MessageSummary[];
}

export interface StoreStats {
  messages: number;
  unread: number;
  /** Sum of raw message sizes in bytes. */
  bytes: number;
  /** Engine-specific on-disk size when known (SQLite file), else 0. */
  databaseBytes: number;
}

export interface Storage {
  readonly capabilities: StorageCapabilities;

  /**
   * Durably commits raw bytes and envelopes: when the promise resolves the messages survive a
   * crash (fsync'd). All of `entries` commit together or none do. Concurrent calls are grouped
   * into shared commits by the adapter (group commit).
   */
  appendSpool(entries: SpoolEntry[]): Promise<void>;

  /** Ids of spooled messages not yet parsed, oldest first. */
  pendingParse(limit: number): Promise<string[]>;
  /**
   * Records parse outcomes, many in one write; a failure keeps the message listed with
   * `parseError`; an id deleted meanwhile is skipped. Parse results can be rebuilt from the raw
   * bytes, so an adapter may commit them without waiting for an fsync.
   */
  saveParsed(results: readonly { id: string; result: ParseResult }[]): Promise<void>;

  /** Newest first, as Mailpit lists. */
  list(query: ListQuery): Promise<ListResult>;
  get(id: string): Promise<StoredMessage | null>;
  /** The exact bytes received (after dot-unstuffing), or null if no such message. */
  getRaw(id: string): Promise<Uint8Array | null>;
  latestId(): Promise<string | null>;
  setRead(ids: readonly string[] | 'all', read: boolean): Promise<number>;
  /** Deletes the given messages, or every message; returns how many went. */
  delete(ids: readonly string[] | 'all'): Promise<number>;
  stats(): Promise<StoreStats>;

  /** Cheap liveness probe of the database connection. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
