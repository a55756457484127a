// bench/inbox: sequential request timing over one keep-alive connection (fetch's default agent)
// and nearest-rank percentiles.

export interface Timing {
  /** Milliseconds per request, in the order they ran. */
  samples: number[];
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** The first measured response, parsed (for its counts). */
  first: unknown;
}

/** The nearest-rank percentile of already sorted numbers. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function once(url: string): Promise<{ ms: number; text: string }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${text.slice(0, 300)}`);
  return { ms, text };
}

/**
 * Runs `warmup` untimed requests, then `requests` timed ones, one at a time. Each time covers the
 * whole response body; only the first measured body is parsed, so JSON parsing on the client side
 * is not counted.
 */
export async function timeRequests(url: string, warmup: number, requests: number): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await once(url);
  const samples: number[] = [];
  let first: unknown = null;
  for (let i = 0; i < requests; i++) {
    const r = await once(url);
    samples.push(r.ms);
    if (i === 0) first = JSON.parse(r.text);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    samples,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    first,
  };
}
