// Outbound mail as the queue sees it: one delivery per (message, recipient domain), each with its
// recipients' results. Pure types and rules, no I/O.

/**
 * - `queued`: waiting for its first attempt (or its scheduled time);
 * - `sending`: claimed by a worker holding a lease;
 * - `deferred`: an attempt failed temporarily, the next is due at `nextAttemptAt`;
 * - `held`: kept out of the queue by an operator until released;
 * - `delivered`, `bounced`, `expired`, `cancelled`: final.
 */
export const DELIVERY_STATES = [
  'queued',
  'sending',
  'deferred',
  'held',
  'delivered',
  'bounced',
  'expired',
  'cancelled',
] as const;

export type DeliveryState = (typeof DELIVERY_STATES)[number];

export const FINAL_DELIVERY_STATES: ReadonlySet<DeliveryState> = new Set([
  'delivered',
  'bounced',
  'expired',
  'cancelled',
]);

/** What happened to one recipient in one attempt; `suppressed` recipients were not tried. */
export type RecipientOutcome = 'delivered' | 'deferred' | 'bounced' | 'suppressed';

/** Why an address is on the suppression list. */
export type SuppressionReason = 'hard-bounce' | 'complaint' | 'unsubscribe' | 'manual';

export interface Suppression {
  /** Lower case: addresses are compared without regard to case. */
  address: string;
  reason: SuppressionReason;
  /** The reply or report that put it there, or the operator's note. */
  detail: string | null;
  createdAt: string;
  /** ISO 8601, or null for ever. */
  expiresAt: string | null;
}

export interface RecipientStatus {
  address: string;
  /** `pending` until an attempt says otherwise; `suppressed` when it was never tried. */
  state: 'pending' | RecipientOutcome;
  /** The remote's reply (code and text) for this recipient, or why it was not tried. */
  reply: string | null;
}

export interface DeliveryRecord {
  id: string;
  outboundId: string;
  /** Recipient domain, lower case, as the envelope has it (IDN in punycode). */
  domain: string;
  state: DeliveryState;
  /** Attempts started (claims), including one a crashed worker never finished. */
  attempts: number;
  /** ISO 8601; when the delivery may next be claimed. */
  nextAttemptAt: string;
  /** ISO 8601; after this a deferred delivery expires instead of being retried. */
  expiresAt: string;
  lastReply: string | null;
  createdAt: string;
  updatedAt: string;
  recipients: RecipientStatus[];
}

/** The domain of an envelope address, lower case. */
export function recipientDomain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** Envelope recipients grouped by domain, in first-seen order: one delivery per group. */
export function groupByDomain(rcptTo: readonly string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const rcpt of rcptTo) {
    const domain = recipientDomain(rcpt);
    const list = groups.get(domain);
    if (list) list.push(rcpt);
    else groups.set(domain, [rcpt]);
  }
  return groups;
}

/** What an operator can do to a delivery (`mailroom queue hold|release|retry|cancel`). */
export type QueueAction = 'hold' | 'release' | 'retry' | 'cancel';

/**
 * The state an action leads to, or null when the delivery's state does not allow it: a delivery
 * being sent, or already final, is left alone. `release` and `retry` also make it due now.
 */
export function afterAction(state: DeliveryState, action: QueueAction): DeliveryState | null {
  const waiting = state === 'queued' || state === 'deferred';
  switch (action) {
    case 'hold':
      return waiting ? 'held' : null;
    case 'release':
      return state === 'held' ? 'queued' : null;
    case 'retry':
      return waiting ? state : null;
    case 'cancel':
      return waiting || state === 'held' ? 'cancelled' : null;
  }
}

/** The event each operator action records. */
export const ACTION_EVENTS: Readonly<Record<QueueAction, string>> = {
  hold: 'delivery:held',
  release: 'delivery:released',
  retry: 'delivery:retried',
  cancel: 'delivery:cancelled',
};
