// One deadline per spam check: a signal that fires when the check's time is up or when the
// caller's own signal aborts, and a way to tell the two apart afterwards so the error can say
// "timed out" or "aborted" truthfully.

/** A running deadline. Call `dispose()` when the check is over, whatever its outcome. */
export interface Deadline {
  /** Aborts at the deadline or when the caller's signal aborts, whichever comes first. */
  readonly signal: AbortSignal;
  /** True once the deadline itself (not the caller) fired. */
  readonly expired: boolean;
  dispose(): void;
}

/** Starts a deadline of `timeoutMs`, also following `outer` when one is given. */
export function startDeadline(timeoutMs: number, outer?: AbortSignal): Deadline {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new Error(`deadline of ${timeoutMs} ms passed`));
  }, timeoutMs);
  const follow = (): void => controller.abort(outer?.reason);
  if (outer?.aborted) follow();
  else outer?.addEventListener('abort', follow, { once: true });
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    dispose() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', follow);
    },
  };
}
