// Inbound routes: ordered rules, each a set of conditions on a received message and the actions
// to take when they hold. Pure types; evaluation is in src/routing/.

/** What a text condition does with its value; matching ignores case except for `regex` without flags. */
export type TextOp = 'equals' | 'contains' | 'glob' | 'regex';

export type AuthCheck = 'spf' | 'dkim' | 'dmarc' | 'arc';

export type Condition = (
  | { field: 'recipient' | 'sender' | 'from' | 'subject' | 'body'; op: TextOp; value: string }
  /** A header field by name; `exists` needs no value. */
  | { field: 'header'; name: string; op: TextOp | 'exists'; value?: string }
  /** Any attachment (inline parts included): by file name or content type; `exists` for any at all. */
  | { field: 'attachment'; op: 'exists' }
  | { field: 'attachment'; on: 'filename' | 'content-type'; op: TextOp; value: string }
  | { field: 'size' | 'spam-score'; op: 'gt' | 'gte' | 'lt' | 'lte'; value: number }
  /** The sender authentication result of one mechanism (for DKIM: any signature's). */
  | { field: 'auth'; check: AuthCheck; op: 'equals'; value: string }
) & { negate?: boolean };

export interface WebhookAction {
  type: 'webhook';
  url: string;
  /** Attachments in the payload: base64 inside it, signed download URLs, or left out. */
  attachments: 'inline' | 'url' | 'none';
}

export interface ForwardAction {
  type: 'forward';
  to: string[];
}

export interface AutoReplyAction {
  type: 'auto-reply';
  /** Our address the reply comes from; the recipient it was sent to when empty. */
  from: string;
  subject: string;
  text: string;
  /** At most one reply per sender in this many seconds (RFC 3834 §2 asks for a period). */
  periodSeconds: number;
}

export interface RejectAction {
  type: 'reject';
  /** 4xx (try later) or 5xx (refused). */
  code: number;
  text: string;
}

export interface StoreAction {
  type: 'store';
  tags: string[];
}

export type PublishTarget =
  | { kind: 'amqp'; url: string; exchange: string; routingKey: string }
  | { kind: 'nats'; servers: string; subject: string; jetstream: boolean };

export interface PublishAction {
  type: 'publish';
  target: PublishTarget;
}

/**
 * Gives the message to a support desk as if it had been sent to the desk's intake address: it
 * opens a ticket, or joins the one a verified anchor names (src/tickets/intake.ts).
 */
export interface TicketAction {
  type: 'ticket';
  /** The desk's name (--desk ...&name=, else its domain). */
  desk: string;
}

/** Ends evaluation: routes after this one are not looked at. */
export interface StopAction {
  type: 'stop';
}

export type RouteAction =
  | WebhookAction
  | ForwardAction
  | AutoReplyAction
  | RejectAction
  | StoreAction
  | PublishAction
  | TicketAction
  | StopAction;

export type ActionType = RouteAction['type'];

export interface Route {
  id: string;
  name: string;
  /** Lower runs first; ties in id order. */
  priority: number;
  enabled: boolean;
  /** Every condition must hold (`all`), or one is enough (`any`). No conditions: every message. */
  match: 'all' | 'any';
  conditions: Condition[];
  actions: RouteAction[];
  /** Routes from the config file are read-only through the API. */
  source: 'config' | 'api';
  createdAt: string;
  updatedAt: string;
}

/** Limits on what a route may hold: evaluation cost grows with them. */
export const ROUTE_LIMITS = {
  conditions: 32,
  actions: 16,
  valueLength: 1024,
  routes: 1000,
} as const;

/** A route's id: letters, digits, dash and underscore, as in a URL path segment. */
export const ROUTE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
