// The link check: the HTTP status of each web link of a message, in Mailpit's link-check shape.
// A message's links are chosen by whoever sent it, so every request goes through the address
// policy that guards webhooks (net/address-policy.ts): an IP literal is checked before anything
// is sent, a host name is resolved once through the injected resolver and the socket is pinned to
// the addresses the policy allowed (net/safe-lookup.ts), so neither a link nor a DNS answer can
// point Mailroom at loopback, private, link-local or metadata addresses unless --webhook-allow
// names them. Redirects are followed only when asked, hop by hop, each hop checked the same way.
//
// HEAD first (RFC 9110 §9.3.2: the status without the body); servers that refuse HEAD or answer it
// with an error get a GET whose body is never read. No cookies are kept or sent, credentials in a
// URL are dropped, and each request gets a fresh connection (a pooled socket would skip the check).
import http from 'node:http';
import type { AddressPolicy } from '../net/address-policy.ts';
import { openGuardedRequest } from '../net/guarded-request.ts';
import { type AddressBlockedError, type AddressResolver, checkLiteralHost } from '../net/safe-lookup.ts';

export interface LinkCheckOptions {
  policy: AddressPolicy;
  resolver: AddressResolver;
  /** One request, connecting included. */
  timeoutMs: number;
  /** Follow redirects (each hop checked by the policy); otherwise a 3xx is the link's status. */
  follow: boolean;
  userAgent: string;
  /** Hops followed before giving up. */
  maxRedirects?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** The whole check ends (the client went away, or its deadline passed). */
  signal?: AbortSignal;
  /** Trust anchors for servers with a private CA (closed networks, tests); Node's own otherwise. */
  ca?: string | string[];
}

export interface LinkHop {
  URL: string;
  StatusCode: number;
}

export interface LinkStatus {
  URL: string;
  /** The final HTTP status; 0 when there was none (blocked, unreachable, timed out). */
  StatusCode: number;
  Status: string;
  /** Mailroom: the address policy refused the link or one of its redirects; nothing was sent there. */
  Blocked: boolean;
  /** Mailroom: the redirects followed, in order (with follow), each with its status. */
  Redirects: LinkHop[];
  /** Mailroom: where a redirect that was not followed points. */
  Location: string | null;
}

export interface LinkCheckResult {
  /** Links that failed: status 0 or 400 and above, as Mailpit counts. */
  Errors: number;
  Links: LinkStatus[];
}

/** Mailpit checks at most 100 distinct links per message, and so do we. */
export const MAX_CHECKED_LINKS = 100;
export const DEFAULT_MAX_REDIRECTS = 5;
const DEFAULT_CONCURRENCY = 6;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

// The ports browsers refuse to fetch from (WHATWG Fetch, "bad port"): mail, shell, file and chat
// services that a request with an attacker's bytes could talk to across protocols. A link on one
// of them is not a web page anyone reaches by clicking.
const BAD_PORTS = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104,
  109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515,
  526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049,
  3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

type Answer = { status: number; location: string | null } | { error: NodeJS.ErrnoException };

const codedError = (code: string, message: string): NodeJS.ErrnoException =>
  Object.assign(new Error(message), { code });

/** One request with no body read; never throws. */
function request(target: URL, method: 'HEAD' | 'GET', opts: LinkCheckOptions): Promise<Answer> {
  return new Promise((resolve) => {
    let settled = false;
    let req: http.ClientRequest | undefined;
    const finish = (answer: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', abort);
      req?.destroy();
      resolve(answer);
    };
    const abort = () => finish({ error: codedError('EABORTED', 'the check was stopped') });
    const timer = setTimeout(
      () => finish({ error: codedError('ETIMEDOUT', `no answer within ${opts.timeoutMs} ms`) }),
      opts.timeoutMs,
    );
    if (opts.signal?.aborted) return abort();
    opts.signal?.addEventListener('abort', abort, { once: true });
    try {
      req = openGuardedRequest(target, {
        method,
        // Only these: no Cookie, no Authorization, nothing that ties the request to anyone.
        headers: { 'User-Agent': opts.userAgent, Accept: '*/*' },
        policy: opts.policy,
        resolver: opts.resolver,
        ...(opts.ca ? { ca: opts.ca } : {}),
      });
    } catch (err) {
      finish({ error: err as NodeJS.ErrnoException });
      return;
    }
    req.on('error', (error) => finish({ error }));
    req.on('response', (res) => {
      const location = res.headers.location ?? null;
      finish({ status: res.statusCode ?? 0, location });
    });
    req.end();
  });
}

/** HEAD, then GET when the server will not answer HEAD properly. */
async function probe(target: URL, opts: LinkCheckOptions): Promise<Answer> {
  checkLiteralHost(target.hostname, opts.policy);
  const head = await request(target, 'HEAD', opts);
  if ('error' in head) {
    const retry = head.error.code === 'ECONNRESET' || head.error.code === 'HPE_INVALID_CONSTANT';
    return retry ? request(target, 'GET', opts) : head;
  }
  return head.status >= 400 ? request(target, 'GET', opts) : head;
}

/** The URL to request: http(s) only, without the credentials a link may carry; else why not. */
function requestable(url: string, base?: URL): URL | string | NodeJS.ErrnoException {
  let target: URL;
  try {
    target = base ? new URL(url, base) : new URL(url);
  } catch {
    return 'Not a valid URL';
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    return `Not an http(s) URL (${target.protocol})`;
  if (target.port !== '' && BAD_PORTS.has(Number(target.port))) {
    return codedError('EBADPORT', `port ${target.port} is one browsers refuse (WHATWG Fetch, bad ports)`);
  }
  target.username = '';
  target.password = '';
  target.hash = '';
  return target;
}

function describeError(error: NodeJS.ErrnoException): { status: string; blocked: boolean } {
  switch (error.code) {
    case 'EADDRBLOCKED': {
      // The policy's reasons name each address and the range that holds it.
      const refused = (error as Partial<AddressBlockedError>).refused ?? [];
      const why = refused.length > 0 ? refused.map((r) => r.reason).join('; ') : error.message;
      return { status: `Blocked: ${why}`, blocked: true };
    }
    case 'ENOTFOUND':
    case 'ENODATA':
      return { status: 'Host not found', blocked: false };
    case 'ECONNREFUSED':
      return { status: 'Connection refused', blocked: false };
    case 'EABORTED':
      return { status: 'Not checked: the check was stopped before this link answered', blocked: false };
    case 'ETIMEDOUT':
      return { status: `Timed out: ${error.message}`, blocked: false };
    default:
      return { status: `${error.code ?? 'Error'}: ${error.message}`, blocked: false };
  }
}

/** Checks one link; never throws. */
export async function checkLink(url: string, opts: LinkCheckOptions): Promise<LinkStatus> {
  const result: LinkStatus = {
    URL: url,
    StatusCode: 0,
    Status: '',
    Blocked: false,
    Redirects: [],
    Location: null,
  };
  const max = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let target = requestable(url);
  for (;;) {
    if (typeof target === 'string') return { ...result, Status: target };
    if (!(target instanceof URL)) return { ...result, Status: `Blocked: ${target.message}`, Blocked: true };
    let answer: Answer;
    try {
      answer = await probe(target, opts);
    } catch (err) {
      answer = { error: err as NodeJS.ErrnoException };
    }
    if ('error' in answer) {
      const { status, blocked } = describeError(answer.error);
      return { ...result, Status: status, Blocked: blocked };
    }
    const reason = http.STATUS_CODES[answer.status] ?? 'Unknown status';
    if (!REDIRECTS.has(answer.status) || answer.location === null) {
      return { ...result, StatusCode: answer.status, Status: reason };
    }
    if (!opts.follow)
      return { ...result, StatusCode: answer.status, Status: reason, Location: answer.location };
    result.Redirects.push({ URL: target.href, StatusCode: answer.status });
    if (result.Redirects.length > max) {
      return { ...result, Status: `Too many redirects (more than ${max})`, Location: answer.location };
    }
    target = requestable(answer.location, target);
  }
}

/** Checks every link, `concurrency` at a time; results in the order given. */
export async function checkLinks(urls: readonly string[], opts: LinkCheckOptions): Promise<LinkCheckResult> {
  const unique = [...new Set(urls)].slice(0, MAX_CHECKED_LINKS);
  const links: LinkStatus[] = new Array(unique.length);
  let next = 0;
  const worker = async () => {
    while (next < unique.length) {
      const at = next++;
      links[at] = await checkLink(unique[at]!, opts);
    }
  };
  const workers = Math.max(1, Math.min(opts.concurrency ?? DEFAULT_CONCURRENCY, unique.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return { Errors: links.filter((l) => l.StatusCode === 0 || l.StatusCode >= 400).length, Links: links };
}
