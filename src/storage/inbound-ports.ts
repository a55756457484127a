// The port of the inbound pipeline's durable state: the routing cursor (every received message is
// routed once, in arrival order, by one node at a time), the action jobs routes start (retried
// with leases like deliveries), and the inbound event log.
import type { Listener, ParseState, SpoolEntry } from '../domain/message.ts';
import type { RouteAction } from '../domain/route.ts';

export interface RoutingCandidate {
  id: string;
  seq: number;
  listener: Listener;
  parseState: ParseState;
  /** The envelope recipients: whether a built-in route (SRS return, desk) applies is known from them. */
  rcptTo: string[];
}

export interface InboundEventInput {
  /** Stable: derived from what the event is about, so recording it twice adds it once. */
  id: string;
  type: string;
  messageId: string;
  routeId: string | null;
  data: Record<string, unknown>;
}

export interface InboundEvent extends InboundEventInput {
  seq: number;
  at: string;
}

export type ActionJobState = 'pending' | 'running' | 'succeeded' | 'failed';

export interface NewActionJob {
  /** Stable: message, route and action index, so routing a message twice starts nothing twice. */
  id: string;
  messageId: string;
  routeId: string;
  actionIndex: number;
  action: RouteAction;
  captures: Record<string, string>;
  recipient: string | null;
  dueAt: string;
  /** After this the job is not retried any more. */
  expiresAt: string;
}

export interface ActionJob extends Omit<NewActionJob, 'dueAt'> {
  state: ActionJobState;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface RoutingCommit {
  owner: string;
  now: string;
  /** The cursor moves here: every message up to this seq is routed. */
  throughSeq: number;
  events: readonly InboundEventInput[];
  jobs: readonly NewActionJob[];
}

export interface ActionAttempt {
  id: string;
  owner: string;
  now: string;
  /** pending: try again at nextAttemptAt. */
  state: 'succeeded' | 'pending' | 'failed';
  nextAttemptAt?: string;
  error: string | null;
  events: readonly InboundEventInput[];
}

/** A webhook URL's health: after enough failures in a row it is disabled until enabled again. */
export interface WebhookEndpoint {
  url: string;
  /** Failed attempts since the last success (any job, any route posting to this URL). */
  consecutiveFailures: number;
  /** When it was disabled; null while enabled. */
  disabledAt: string | null;
  lastError: string | null;
  lastSuccessAt: string | null;
  updatedAt: string;
}

export interface WebhookOutcome {
  url: string;
  ok: boolean;
  error: string | null;
  now: string;
  /** Disable the endpoint when its failures in a row reach this (0: never). */
  disableAfter: number;
}

export interface AutoReplyClaim {
  /** The route: each route keeps its own period per sender. */
  scope: string;
  /** The address replied to (compared without case). */
  sender: string;
  jobId: string;
  now: string;
  periodMs: number;
}

export interface InboundStore {
  /**
   * Leases the routing cursor to `owner` and returns up to `limit` messages after it, oldest first;
   * null while another owner's lease runs.
   */
  takeRouting(req: {
    owner: string;
    now: string;
    leaseMs: number;
    limit: number;
  }): Promise<RoutingCandidate[] | null>;
  /** Records the outcomes and moves the cursor, in one commit; false (nothing written) when the lease was lost. */
  commitRouting(commit: RoutingCommit): Promise<boolean>;
  /** Leases due action jobs (SKIP LOCKED on PostgreSQL), oldest first. */
  claimActions(req: { owner: string; now: string; leaseMs: number; limit: number }): Promise<ActionJob[]>;
  /** Records an attempt; false (nothing written) when `owner` no longer holds the lease. */
  recordAction(attempt: ActionAttempt): Promise<boolean>;
  /** Returns running jobs whose lease ran out to pending, due now; how many. */
  reapActions(now: string): Promise<number>;
  actionJobs(query: {
    messageId?: string;
    state?: ActionJobState;
    start: number;
    limit: number;
  }): Promise<ActionJob[]>;
  actionJob(id: string): Promise<ActionJob | null>;
  /** Makes a finished job due again now, with a fresh lifetime (a replay); null if none, false while it runs. */
  replayAction(id: string, now: string, expiresAt: string): Promise<ActionJob | null | false>;
  /** Adds events after the fact (ids already there are skipped). */
  addInboundEvents(events: readonly InboundEventInput[], now: string): Promise<void>;
  /** Events of one message, oldest first. */
  inboundEvents(messageId: string): Promise<InboundEvent[]>;

  /** Which of these import keys (pollers) are recorded. */
  importedAmong(keys: readonly string[]): Promise<Set<string>>;
  /**
   * Durably stores a polled message with its import keys in one commit, unless one of the keys is
   * already recorded: then nothing is stored ('duplicate') and its new keys are recorded against
   * the message imported before, so the next pass recognises it by any of them.
   */
  importMessage(entry: SpoolEntry, keys: readonly string[], now: string): Promise<'stored' | 'duplicate'>;
  /**
   * Takes the right to send one automatic reply to `sender` within `scope` (a route): true when
   * none went in the last `periodMs`, or when the last one was taken by this same job (a retry).
   */
  claimAutoReply(req: AutoReplyClaim): Promise<boolean>;
  /** Counts a webhook attempt's outcome; `disabledNow` when this failure disabled the endpoint. */
  recordWebhookOutcome(outcome: WebhookOutcome): Promise<{ endpoint: WebhookEndpoint; disabledNow: boolean }>;
  webhookEndpoint(url: string): Promise<WebhookEndpoint | null>;
  /** Every endpoint with a recorded outcome, disabled ones first, then by URL. */
  webhookEndpoints(): Promise<WebhookEndpoint[]>;
  /** Enables a disabled endpoint and clears its failure count; null when the URL is unknown. */
  enableWebhookEndpoint(url: string, now: string): Promise<WebhookEndpoint | null>;
}
