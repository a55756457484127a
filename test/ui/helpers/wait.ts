// Waiting on conditions outside the browser (the API's state), instead of sleeping.

/** Polls `check` until it returns a value other than undefined/false, or fails with `what`. */
export async function until<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 40));
  }
}

export interface ApiSummary {
  ID: string;
  Subject: string;
  Read: boolean;
  Tags: string[];
}

/** The whole mailbox as the API lists it (newest first). */
export async function listAll(
  base: string,
): Promise<{ total: number; unread: number; messages: ApiSummary[] }> {
  const res = await fetch(`${base}/api/v1/messages?limit=1000`);
  if (!res.ok) throw new Error(`GET /api/v1/messages: ${res.status}`);
  return (await res.json()) as { total: number; unread: number; messages: ApiSummary[] };
}
