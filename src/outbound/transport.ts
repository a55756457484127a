// What a transport is given and what it answers: the worker hands it one delivery (one recipient
// domain of one message) and records whatever it says, per recipient.
import type { RecipientOutcome } from '../domain/delivery.ts';
import type { NewOutbound } from '../storage/ports.ts';

export interface DeliveryJob {
  outboundId: string;
  deliveryId: string;
  domain: string;
  mailFrom: string;
  /** The recipients this attempt must try: those still pending or deferred. */
  recipients: string[];
  raw: Uint8Array;
  source: NewOutbound['source'];
  client: NewOutbound['client'];
  /** 1 for the first attempt. */
  attempt: number;
}

export interface RecipientResult {
  address: string;
  outcome: RecipientOutcome;
  /** The remote's reply, code and text (or the transport's own words). */
  reply: string;
}

export interface TransportResult {
  /** One per recipient of the job. */
  results: RecipientResult[];
  /** The reply that sums up the attempt (the last one the remote gave). */
  reply: string;
}

export interface Transport {
  readonly name: string;
  /** Never throws for a remote's refusal (that is a result); throws only when it could not try. */
  deliver(job: DeliveryJob, signal: AbortSignal): Promise<TransportResult>;
  /** Lets go of what it keeps between deliveries (cached SMTP sessions); called when the worker stops. */
  close?(): void;
}
