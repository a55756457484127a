// Runs a stage hook under a deadline. A hook that throws or does not answer in time becomes a
// deferral (4xx), so the client retries later instead of waiting on a stuck session.
import type { Logger } from '../observability/logger.ts';
import { defer, type Verdict } from './hooks/types.ts';
import type { ReplyReason } from './replies.ts';

export async function runHook(
  log: Logger,
  stage: string,
  opts: { timeoutMs: number; fallback: ReplyReason },
  fn: () => Verdict | Promise<Verdict>,
): Promise<Verdict> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Verdict>((resolve) => {
    timer = setTimeout(() => {
      log.warn({ stage }, 'smtp hook timed out');
      resolve(defer(opts.fallback));
    }, opts.timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(fn), deadline]);
  } catch (err) {
    // Only the message: hook inputs (the AUTH password) must never reach a log.
    log.error({ stage, err: (err as Error).message }, 'smtp hook failed');
    return defer(opts.fallback);
  } finally {
    clearTimeout(timer);
  }
}
