// The one interface every route action implements (conventions §8): given a job and what it needs
// of the message, it answers succeeded, retry (with an optional wait) or failed, with the reason.

import type { StoredMessage } from '../domain/message.ts';
import type { RouteAction } from '../domain/route.ts';
import type { OwnAuthResults } from '../ingest/auth-results-read.ts';
import type { ActionJob } from '../storage/inbound-ports.ts';

export type ActionResult =
  | { outcome: 'succeeded'; detail: string }
  | { outcome: 'retry'; reason: string; retryAfterMs?: number }
  | { outcome: 'failed'; reason: string };

export interface ActionContext {
  job: ActionJob;
  message: StoredMessage;
  /** The message's bytes, read on first use. */
  raw(): Promise<Uint8Array | null>;
  signal: AbortSignal;
  /** Our sender checks of the message (SPF, DKIM, DMARC, ARC), null when it was not checked. */
  auth?: OwnAuthResults | null;
}

export interface ActionExecutor<A extends RouteAction = RouteAction> {
  readonly type: A['type'];
  execute(action: A, ctx: ActionContext): Promise<ActionResult>;
  /** Lets go of connections kept between jobs (broker links); called when the worker stops. */
  close?(): Promise<void>;
}
