// Chaos stage check (testing tools): runs before each stage's own hook, delays the reply by the
// trigger's latency and, when the dice say so, fails the command with the trigger's code or drops
// the connection. The session calls it outside the command deadline, so a latency longer than
// --smtp-command-timeout is a latency and not a 451 from the hook runner.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Chaos, ChaosStage } from '../chaos.ts';
import { chaosReply } from '../replies.ts';
import type { Refusal, SessionFacts, Verdict } from './types.ts';
import { ACCEPT } from './types.ts';

export interface ChaosInput extends SessionFacts {
  stage: ChaosStage;
  /** The session's mail is queued for delivery (an authenticated user, a transport that sends). */
  outbound: boolean;
}

/** `drop`: close the connection without a reply. */
export type ChaosVerdict = Verdict | { kind: 'drop' };

export type ChaosHook = (input: ChaosInput) => ChaosVerdict | Promise<ChaosVerdict>;

const DROP: ChaosVerdict = Object.freeze({ kind: 'drop' });

/** Without chaos configured, a check that answers at once and never fails. */
export function createChaosHook(chaos: Chaos | null): ChaosHook {
  if (!chaos) return () => ACCEPT;
  return (input) => {
    if (!chaos.appliesTo(input.listener)) return ACCEPT;
    // Real outbound mail is never played with once the user is known: from MAIL FROM on, a
    // session whose mail leaves through the queue is out of chaos's reach.
    if (input.outbound && input.stage !== 'connect' && input.stage !== 'auth') return ACCEPT;
    const draw = chaos.draw(input.stage);
    const verdict = draw.failure === null ? ACCEPT : failure(input.stage, draw.failure);
    if (draw.latencyMs === 0) return verdict;
    // Unref'd: a pending delay must not keep a stopping process alive.
    return sleep(draw.latencyMs, verdict, { ref: false });
  };
}

function failure(stage: ChaosStage, f: { code: number; disconnect: boolean }): ChaosVerdict {
  if (f.disconnect) return DROP;
  const reason = `chaos-${stage}` as const;
  const reply = chaosReply(reason, f.code);
  const refusal: Refusal = {
    kind: f.code >= 500 ? 'reject' : 'defer',
    reason,
    reply: { code: reply.code, text: reply.text, enhanced: reply.enhanced },
  };
  return refusal;
}
