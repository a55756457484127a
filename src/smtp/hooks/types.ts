// Verdicts: what every stage hook returns. The session turns a verdict into a reply through the
// one table in ../replies.ts, so a hook never writes protocol text itself.
import type { Listener } from '../../domain/message.ts';
import type { ReplyReason } from '../replies.ts';

export type Refusal = {
  kind: 'reject' | 'defer';
  reason: ReplyReason;
  /**
   * A reply of the user's own (a route's reject, a chaos trigger's code), in place of the table's
   * for `reason`; without `enhanced`, X.7.1 in the class of the code.
   */
  reply?: { code: number; text: string; enhanced?: string };
};
export type Verdict = { kind: 'accept' } | Refusal;

export const ACCEPT: Verdict = Object.freeze({ kind: 'accept' });

export function reject(reason: ReplyReason): Refusal {
  return { kind: 'reject', reason };
}

export function defer(reason: ReplyReason): Refusal {
  return { kind: 'defer', reason };
}

/** What every hook may know about the session asking. */
export interface SessionFacts {
  sessionId: string;
  listener: Listener;
  clientIp: string;
  clientPort: number;
  secure: boolean;
  authUser: string | null;
}
