// One attempt at delivering a webhook: a signed JSON POST to the user's URL, classified as
// delivered, worth retrying, or failed for good. The retry queue decides when to try again.
// node:http/https are used rather than fetch because their `lookup` option lets the connection be
// pinned to the addresses the address policy checked (see net/safe-lookup.ts). Redirects are never
// followed: a receiver could otherwise answer 302 to an internal address and have us go there.
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AddressPolicy } from '../../net/address-policy.ts';
import { openGuardedRequest } from '../../net/guarded-request.ts';
import { type AddressResolver, checkLiteralHost } from '../../net/safe-lookup.ts';
import { signatureHeaders } from './sign.ts';

export const DELIVERY_ID_HEADER = 'Mailroom-Delivery-Id';

export interface WebhookRequest {
  url: string;
  body: string;
  /** Extra headers; the caller sets Mailroom-Delivery-Id here so the receiver can drop repeats. */
  headers: Record<string, string>;
  /** Signing secrets; several while one is rotated. */
  secrets: string[];
}

export interface WebhookOptions {
  /** The whole attempt, from DNS to the last byte read. */
  timeoutMs: number;
  /** DNS, TCP and (for https) TLS; the smaller of 10 s and timeoutMs when absent. */
  connectTimeoutMs?: number;
  /** Response bytes read (and kept as the snippet) before the rest is dropped. */
  maxResponseBytes: number;
  policy: AddressPolicy;
  resolver: AddressResolver;
  /** Wall clock in ms, for the signature timestamp and Retry-After dates; Date.now when absent. */
  now?: () => number;
  userAgent: string;
  /** Trust anchors for receivers with a private CA (closed networks, tests); Node's own otherwise. */
  ca?: string | string[];
  /** Ends the attempt early (the worker stopping); it then counts as one to retry. */
  signal?: AbortSignal;
}

export interface WebhookAttempt {
  status: number | null;
  outcome: 'delivered' | 'retry' | 'failed';
  reason: string;
  durationMs: number;
  responseSnippet: string;
  /** From Retry-After on a 429 or 503 (RFC 9110 §10.2.3), in ms from now. */
  retryAfterMs?: number;
}

type Verdict = Pick<WebhookAttempt, 'outcome' | 'reason'>;

interface Exchange {
  status: number | null;
  retryAfter?: string;
  body: Buffer;
  error?: NodeJS.ErrnoException;
}

// Framing and routing are ours to set: a caller's value could desynchronise the body or the host.
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'expect']);

/** Sends one signed POST and classifies the result; never throws. */
export async function postWebhook(req: WebhookRequest, opts: WebhookOptions): Promise<WebhookAttempt> {
  const started = performance.now();
  const now = opts.now ?? Date.now;
  const done = (verdict: Verdict, exchange?: Exchange): WebhookAttempt => ({
    status: exchange?.status ?? null,
    ...verdict,
    durationMs: Math.round(performance.now() - started),
    responseSnippet: exchange?.body.toString('utf8') ?? '',
    ...retryAfter(exchange, now()),
  });
  const target = parseTarget(req.url);
  if (typeof target === 'string') return done({ outcome: 'failed', reason: target });
  if (req.secrets.length === 0) return done({ outcome: 'failed', reason: 'no signing secret is configured' });
  let headers: Record<string, string>;
  try {
    checkLiteralHost(target.hostname, opts.policy);
    headers = buildHeaders(req, opts.userAgent, now());
  } catch (err) {
    return done({ outcome: 'failed', reason: (err as Error).message });
  }
  const exchange = await send(target, headers, req.body, opts);
  return done(classify(exchange, opts), exchange);
}

/** The URL, or why it cannot be posted to. */
function parseTarget(url: string): URL | string {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return 'the webhook URL is not a valid URL';
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return `only http and https URLs are allowed, not ${target.protocol}`;
  }
  // Credentials in a URL end up in logs and Referer-like places; the secret is the signature.
  if (target.username || target.password) return 'URLs with credentials are refused';
  return target;
}

function buildHeaders(req: WebhookRequest, userAgent: string, nowMs: number): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name] = value;
  }
  // Ours come last: node:http treats names case-insensitively, so they replace a caller's.
  return {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(req.body)),
    'User-Agent': userAgent,
    ...signatureHeaders(req.secrets, Math.floor(nowMs / 1000), req.body),
  };
}

function codedError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

function send(
  target: URL,
  headers: Record<string, string>,
  body: string,
  opts: WebhookOptions,
): Promise<Exchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const exchange: Exchange = { status: null, body: Buffer.alloc(0) };
    let request: http.ClientRequest | undefined;
    let settled = false;
    const abort = () => finish(codedError('EABORTED', 'the attempt was aborted'));
    const finish = (error?: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      timers.clear();
      opts.signal?.removeEventListener('abort', abort);
      request?.destroy();
      resolve({ ...exchange, body: Buffer.concat(chunks), ...(error ? { error } : {}) });
    };
    const timers = startTimers(opts, finish);
    if (opts.signal?.aborted) return abort();
    opts.signal?.addEventListener('abort', abort, { once: true });
    try {
      request = openGuardedRequest(target, {
        method: 'POST',
        headers,
        policy: opts.policy,
        resolver: opts.resolver,
        ...(opts.ca ? { ca: opts.ca } : {}),
      });
    } catch (err) {
      // node:http validates headers as it builds the request (a CR or LF in a value, say).
      finish(codedError('EBADREQUEST', `the request could not be built: ${(err as Error).message}`));
      return;
    }
    const connected = target.protocol === 'https:' ? 'secureConnect' : 'connect';
    request.on('socket', (socket) => socket.once(connected, timers.connected));
    request.on('error', finish);
    request.on('response', (res) => {
      timers.connected();
      exchange.status = res.statusCode ?? null;
      exchange.retryAfter = res.headers['retry-after'];
      readCapped(res, chunks, opts.maxResponseBytes, finish);
    });
    request.end(body);
  });
}

/** The total deadline and the connect timeout; either ends the attempt through `expire`. */
function startTimers(opts: WebhookOptions, expire: (error: NodeJS.ErrnoException) => void) {
  const connectMs = opts.connectTimeoutMs ?? Math.min(10_000, opts.timeoutMs);
  const deadline = setTimeout(
    () => expire(codedError('EDEADLINE', `no complete answer within ${opts.timeoutMs} ms`)),
    opts.timeoutMs,
  );
  const connect = setTimeout(
    () => expire(codedError('ECONNECTTIMEOUT', `no connection within ${connectMs} ms`)),
    connectMs,
  );
  return {
    connected: () => clearTimeout(connect),
    clear: () => {
      clearTimeout(deadline);
      clearTimeout(connect);
    },
  };
}

/** Keeps up to `max` bytes of the body in `into`, then calls `done`, which drops the connection. */
function readCapped(
  res: http.IncomingMessage,
  into: Buffer[],
  max: number,
  done: (error?: NodeJS.ErrnoException) => void,
): void {
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    const room = max - size;
    into.push(chunk.subarray(0, room));
    size += Math.min(room, chunk.length);
    // Enough read: whatever else the receiver would send goes with the connection.
    if (size >= max) done();
  });
  res.on('end', () => done());
  res.on('error', done);
}

function classify(exchange: Exchange, opts: WebhookOptions): Verdict {
  const { status, error } = exchange;
  if (status !== null) {
    const verdict = classifyStatus(status);
    if (error?.code !== 'EDEADLINE') return verdict;
    return { ...verdict, reason: `${verdict.reason} (response body cut off after ${opts.timeoutMs} ms)` };
  }
  // Neither a refused address nor a malformed request gets better by trying again.
  if (error?.code === 'EADDRBLOCKED' || error?.code === 'EBADREQUEST') {
    return { outcome: 'failed', reason: error.message };
  }
  if (error?.code === 'EDEADLINE' || error?.code === 'ECONNECTTIMEOUT' || error?.code === 'EABORTED') {
    return { outcome: 'retry', reason: error.message };
  }
  const what = error ? `${error.code ?? 'error'}: ${error.message}` : 'no answer';
  return { outcome: 'retry', reason: `network error (${what})` };
}

// RFC 9110 §15: 2xx accepted; 408, 429 (RFC 6585 §4) and 5xx are temporary; 3xx is a redirect we
// refuse to follow; every other 4xx says the receiver will not take this request as it stands.
export function classifyStatus(status: number): Verdict {
  const answered = `receiver answered ${status}`;
  if (status >= 200 && status < 300) return { outcome: 'delivered', reason: answered };
  if (status >= 300 && status < 400) return { outcome: 'failed', reason: 'redirects are not followed' };
  if (status === 408 || status === 429 || (status >= 500 && status < 600)) {
    return { outcome: 'retry', reason: answered };
  }
  if (status >= 400 && status < 500) return { outcome: 'failed', reason: answered };
  return { outcome: 'failed', reason: `receiver answered an unexpected status ${status}` };
}

function retryAfter(exchange: Exchange | undefined, nowMs: number): { retryAfterMs?: number } {
  if (exchange?.status !== 429 && exchange?.status !== 503) return {};
  const ms = parseRetryAfter(exchange.retryAfter, nowMs);
  return ms === undefined ? {} : { retryAfterMs: ms };
}

/** Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in ms from `nowMs`. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, Number.MAX_SAFE_INTEGER);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
