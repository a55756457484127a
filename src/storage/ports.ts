// The storage port: what the rest of Mailroom may ask of a database. Two adapters implement it
// (storage/sqlite, storage/postgres) and test/contract runs one suite against both.
import type { ApiKey, NewApiKey } from '../domain/api-key.ts';
import type {
  DeliveryRecord,
  DeliveryState,
  QueueAction,
  RecipientOutcome,
  Suppression,
} from '../domain/delivery.ts';
import type { MessageSummary, ParseResult, SpoolEntry, StoredMessage } from '../domain/message.ts';
import type { Route } from '../domain/route.ts';
import type { MessageTemplate } from '../domain/template.ts';
import type { SearchQuery } from '../search/ast.ts';
import type { InboundStore } from './inbound-ports.ts';
import type { StoredParse } from './rows.ts';
import type { TicketStore } from './ticket-ports.ts';

export type { ParseResult };

/** Which messages a bulk operation touches: these ids, every message, or those matching a search. */
export type Selection = readonly string[] | 'all' | { query: SearchQuery };

/**
 * One parse outcome to record, with the tags the pipeline gave the message. A successful parse
 * comes in the stored form (the parse pipeline) or as the parsed message (made into it here).
 */
export interface ParsedRecord {
  id: string;
  result: ParseResult | { ok: true; stored: StoredParse };
  /** Tags to add (X-Tags, plus-addresses, rules); existing tags stay. */
  tags?: readonly string[];
}

export interface TagCount {
  name: string;
  messages: number;
}

/** Caps on what the store keeps; 0 means no cap. The oldest messages go first. */
export interface RetentionLimits {
  maxMessages: number;
  /** Messages received before `now - maxAgeMs` go. */
  maxAgeMs: number;
  maxBytes: number;
  now: number;
}

export type RenameTagOutcome = 'renamed' | 'not-found' | 'exists';

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
  /** Only messages matching this search; all when absent. */
  query?: SearchQuery;
  /**
   * Only messages of this inbox (domain/inbox.ts), and the totals (`total`, `unread`) of this
   * inbox rather than of the whole mailbox.
   */
  inbox?: string;
}

export interface InboxCount {
  inbox: string;
  messages: number;
  unread: number;
}

export interface ListResult {
  /** Messages in the mailbox. */
  total: number;
  unread: number;
  /** Messages matching the query (the mailbox totals without one). */
  matched: number;
  matchedUnread: number;
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
  /** The outbound queue, in the same database. */
  readonly outbound: OutboundStore;
  /** API keys made through the API or `mailroom keys`, in the same database. */
  readonly apiKeys: ApiKeyStore;
  /** Inbound routes made through the API, in the same database. */
  readonly routes: RouteStore;
  /** The inbound pipeline's cursor, action jobs and events, in the same database. */
  readonly inbound: InboundStore;
  /** The support desk's tickets, held messages and ticket events, in the same database. */
  readonly tickets: TicketStore;

  /**
   * Durably commits raw bytes and envelopes: when the promise resolves the messages survive a
   * crash (fsync'd). All of `entries` commit together or none do. Concurrent calls are grouped
   * into shared commits by the adapter (group commit).
   */
  appendSpool(entries: SpoolEntry[]): Promise<void>;

  /** Ids of spooled messages not yet parsed, oldest first. */
  pendingParse(limit: number): Promise<string[]>;
  /**
   * What a parse needs of these messages, their raw bytes and envelopes, in one read; messages
   * deleted meanwhile are left out. The order is not the order of `ids`.
   */
  toParse(ids: readonly string[]): Promise<SpoolEntry[]>;
  /**
   * Records parse outcomes, many in one write; a failure keeps the message listed with
   * `parseError`; an id deleted meanwhile is skipped. Parse results can be rebuilt from the raw
   * bytes, so an adapter may commit them without waiting for an fsync.
   */
  saveParsed(results: readonly ParsedRecord[]): Promise<void>;

  /** Newest first, as Mailpit lists. */
  list(query: ListQuery): Promise<ListResult>;
  get(id: string): Promise<StoredMessage | null>;
  /** Listing rows of these messages (no bodies), newest first; unknown ids are left out. */
  summaries(ids: readonly string[]): Promise<MessageSummary[]>;
  /** The exact bytes received (after dot-unstuffing), or null if no such message. */
  getRaw(id: string): Promise<Uint8Array | null>;
  latestId(): Promise<string | null>;
  /** Sets the read flag; returns the ids whose flag changed. */
  setRead(selection: Selection, read: boolean): Promise<string[]>;
  /** Deletes the selected messages; returns the ids that went. */
  delete(selection: Selection): Promise<string[]>;
  stats(): Promise<StoreStats>;
  /** Messages and unread messages per inbox that holds any, by inbox name. */
  inboxCounts(): Promise<InboxCount[]>;

  /** Every tag name, sorted (case-insensitively): cheap, read on every list. */
  tags(): Promise<string[]>;
  /** Every tag with its message count, sorted like tags(). */
  tagCounts(): Promise<TagCount[]>;
  /**
   * Replaces the tags of the given messages (names the user typed; one tag per case-insensitive
   * name, the first spelling kept). Returns each changed message's new tags.
   */
  setTags(ids: readonly string[], tags: readonly string[]): Promise<Map<string, string[]>>;
  renameTag(from: string, to: string): Promise<RenameTagOutcome>;
  /** Removes a tag from every message; false if there was no such tag. */
  deleteTag(name: string): Promise<boolean>;
  /** Deletes the oldest messages beyond the limits, in bounded batches; returns how many went. */
  prune(limits: RetentionLimits): Promise<number>;

  /** Cheap liveness probe of the database connection. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A message to queue for delivery, composed and validated by outbound/. */
export interface NewOutbound {
  id: string;
  /** MAIL FROM; '' for the null reverse-path (a DSN). */
  mailFrom: string;
  rcptTo: string[];
  raw: Uint8Array;
  /** The Message-ID header value, with angle brackets. */
  headerMessageId: string;
  source: 'api' | 'submission' | 'system';
  /** Who handed the message over: the HTTP or SMTP client's address and authenticated user. */
  client: { ip: string; authUser: string | null };
  tags: string[];
  metadata: Record<string, string>;
  /** ISO 8601: now, or a scheduled time. */
  queuedAt: string;
  sendAt: string;
  expiresAt: string;
  /** With an Idempotency-Key: the key, a hash of the request, and when the key is forgotten. */
  idempotency?: { key: string; requestHash: string; expiresAt: string };
}

export type EnqueueResult =
  | { outcome: 'queued'; id: string }
  /** The key was used before with the same request: nothing new was queued. */
  | { outcome: 'replayed'; id: string }
  /** The key was used before with another request. */
  | { outcome: 'conflict'; id: string };

export interface OutboundEvent {
  /** Stable id: the same event always has the same id. */
  id: string;
  type: string;
  at: string;
  outboundId: string;
  deliveryId: string | null;
  data: Record<string, unknown>;
}

/** An event added after the fact, with a stable id chosen by its source. */
export interface LateEvent {
  id: string;
  type: string;
  at: string;
  deliveryId: string | null;
  data: Record<string, unknown>;
}

export interface ClaimRequest {
  owner: string;
  now: string;
  leaseMs: number;
  limit: number;
  /**
   * Per recipient domain: deliveries being sent at once (counting every node's), and attempts
   * started in the last minute. Absent: no limit. Across nodes, claims made at the same moment
   * may each take the last free places, so a cap can be passed by what they took together.
   */
  perDomain?: { concurrency: number; perMinute: number };
  /**
   * Messages of at most this many bytes come with their bytes (ClaimedDelivery.raw), saving a read
   * per delivery; larger ones are read with raw() when needed. Absent: none comes with its bytes.
   */
  rawUpTo?: number;
}

export interface ClaimedDelivery {
  delivery: DeliveryRecord;
  mailFrom: string;
  queuedAt: string;
  source: NewOutbound['source'];
  client: NewOutbound['client'];
  /** The message's bytes, when the claim asked for them (ClaimRequest.rawUpTo) and they are that small. */
  raw?: Uint8Array;
  /**
   * The suppression entries in force at the claim's `now` for the delivery's recipients, when the
   * store looked them up with the claim; absent, the worker asks suppressedAmong.
   */
  suppressed?: Suppression[];
}

export interface AttemptRecord {
  deliveryId: string;
  /** The lease holder; a worker that lost its lease records nothing. */
  owner: string;
  now: string;
  /** Results for the recipients this attempt tried. */
  results: { address: string; outcome: RecipientOutcome; reply: string }[];
  state: Extract<DeliveryState, 'delivered' | 'deferred' | 'bounced' | 'expired'>;
  /** Required when `state` is 'deferred'. */
  nextAttemptAt?: string;
  reply: string;
  events: { type: string; data: Record<string, unknown> }[];
}

export interface OutboundView {
  id: string;
  mailFrom: string;
  rcptTo: string[];
  headerMessageId: string;
  size: number;
  source: NewOutbound['source'];
  client: NewOutbound['client'];
  tags: string[];
  metadata: Record<string, string>;
  queuedAt: string;
  sendAt: string;
  deliveries: DeliveryRecord[];
}

export interface OutboundStore {
  /**
   * Durably queues the message with one delivery per recipient domain and a `message:queued`
   * event, unless its idempotency key was seen before (then nothing is written).
   */
  enqueue(message: NewOutbound): Promise<EnqueueResult>;
  /**
   * Leases up to `limit` due deliveries (queued or deferred, `nextAttemptAt` ≤ now) to `owner`
   * until `now + leaseMs`; on PostgreSQL, concurrent claimers skip each other's rows.
   */
  claim(request: ClaimRequest): Promise<ClaimedDelivery[]>;
  /** Records an attempt's outcome; false (and nothing written) when `owner` no longer holds the lease. */
  recordAttempt(record: AttemptRecord): Promise<boolean>;
  /** Returns deliveries whose lease ran out to the queue, due now; returns how many. */
  reapLeases(now: string): Promise<number>;
  /** Applies an operator's action; null if there is no such delivery, false if its state forbids it. */
  control(deliveryId: string, action: QueueAction, now: string): Promise<DeliveryRecord | null | false>;
  get(id: string): Promise<OutboundView | null>;
  raw(id: string): Promise<Uint8Array | null>;
  /** Deliveries, newest first, optionally in one state. */
  deliveries(query: { state?: DeliveryState; start: number; limit: number }): Promise<DeliveryRecord[]>;
  /** Events of one message, oldest first. */
  events(outboundId: string): Promise<OutboundEvent[]>;
  /** The message queued with this Message-ID header (angle brackets included), or null. */
  findByHeaderMessageId(headerMessageId: string): Promise<string | null>;
  /**
   * Records events learnt after the fact (a report received, an open, a click). Their ids are
   * the caller's and stable: an id already recorded is skipped, so the same report read twice
   * counts once. A `deliveryId` that is not one of the message's deliveries is recorded as null.
   * Returns how many were new; 0 when there is no such message.
   */
  addEvents(outboundId: string, events: readonly LateEvent[]): Promise<number>;
  /** Forgets idempotency keys whose time is up; returns how many. */
  pruneIdempotencyKeys(now: string): Promise<number>;

  /** Adds an address to the suppression list, or replaces its entry. */
  suppress(entry: Suppression): Promise<void>;
  /** Takes an address off the list; false if it was not on it. */
  unsuppress(address: string): Promise<boolean>;
  /** The list, newest first, expired entries left out. */
  suppressions(query: { start: number; limit: number; now: string }): Promise<Suppression[]>;
  /** The entries in force for any of these addresses (compared without case). */
  suppressedAmong(addresses: readonly string[], now: string): Promise<Suppression[]>;

  /** Creates or replaces a template. */
  saveTemplate(template: MessageTemplate): Promise<void>;
  template(name: string): Promise<MessageTemplate | null>;
  /** Every template, by name. */
  templates(): Promise<MessageTemplate[]>;
  deleteTemplate(name: string): Promise<boolean>;
}

/** Inbound routes made through the API (domain/route.ts); their `source` is always 'api'. */
export interface RouteStore {
  /** Every stored route, by priority then id. */
  routes(): Promise<Route[]>;
  route(id: string): Promise<Route | null>;
  /**
   * Creates or replaces a route (a replacement keeps its `createdAt`). Creating one when `maxRoutes`
   * exist already writes nothing and answers false; the count and the insert are atomic.
   */
  saveRoute(route: Route, maxRoutes: number): Promise<boolean>;
  deleteRoute(id: string): Promise<boolean>;
  /** Changes whenever a route is saved or deleted: a node compares it to know when to rebuild its router. */
  routesVersion(): Promise<string>;
}

/** Stored API keys (domain/api-key.ts). Only the hash of a key's secret is ever stored. */
export interface ApiKeyStore {
  /**
   * Stores a new key, unless `maxActive` keys (neither revoked nor expired at its `createdAt`) exist
   * already: then nothing is written and the answer is false. The count and the insert are atomic,
   * also when several nodes create keys at once.
   */
  createApiKey(key: NewApiKey, maxActive: number): Promise<boolean>;
  apiKey(id: string): Promise<ApiKey | null>;
  /** The key with the hash of its secret, to check a presented key against. */
  apiKeyWithHash(id: string): Promise<{ key: ApiKey; secretHash: string } | null>;
  /** Keys, newest first, revoked and expired ones included. */
  apiKeys(query: { start: number; limit: number }): Promise<ApiKey[]>;
  /** Keys neither revoked nor expired at `now`. */
  countActiveApiKeys(now: string): Promise<number>;
  /** Revokes a key at `at` (an earlier revocation stands); the key as it is now, or null if there is none. */
  revokeApiKey(id: string, at: string): Promise<ApiKey | null>;
  /** Records a use at `at`, unless a use after `since` is recorded already (so nodes write it rarely). */
  touchApiKey(id: string, at: string, since: string): Promise<void>;
}
