// Runs a stage hook under a deadline. A hook that throws or does not answer in time becomes a
// deferral (4xx), so the client retries later instead of waiting on a stuck session.
import type { Logger } from '../observability/logger.ts';
import { defer, type Verdict } from './hooks/types.ts';
import type { ReplyReason } from './replies.ts';

export function runHook(
  log: Logger,
  stage: string,
  opts: { timeoutMs: number; fallback: ReplyReason },
  fn: () => Verdict | Promise<Verdict>,
): Promise<Verdict> {
  let result: Verdict | Promise<Verdict>;
  try {
    result = fn();
  } catch (err) {
    return Promise.resolve(failed(log, stage, opts.fallback, err));
  }
  // A hook that answered at once needs no deadline: no timer per command on the hot path.
  if (!(result instanceof Promise)) return Promise.resolve(result);
  return withDeadline(log, stage, opts, result);
}

async function withDeadline(
  log: Logger,
  stage: string,
  opts: { timeoutMs: number; fallback: ReplyReason },
  pending: Promise<Verdict>,
): Promise<Verdict> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Verdict>((resolve) => {
    timer = setTimeout(() => {
      log.warn({ stage }, 'smtp hook timed out');
      resolve(defer(opts.fallback));
    }, opts.timeoutMs);
  });
  try {
    return await Promise.race([pending, deadline]);
  } catch (err) {
    return failed(log, stage, opts.fallback, err);
  } finally {
    clearTimeout(timer);
  }
}

function failed(log: Logger, stage: string, fallback: ReplyReason, err: unknown): Verdict {
  // Only the message: hook inputs (the AUTH password) must never reach a log.
  log.error({ stage, err: (err as Error).message }, 'smtp hook failed');
  return defer(fallback);
}
