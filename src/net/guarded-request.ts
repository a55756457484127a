// One HTTP(S) request to a URL a user chose (a webhook receiver, a link in a message), on a fresh
// connection pinned by the safe lookup to addresses the policy allowed. A pooled socket would skip
// the lookup and its check, hence no agent. IP literal hosts bypass `lookup`: callers check them
// with `checkLiteralHost` before calling this.
import http from 'node:http';
import https from 'node:https';
import type { AddressPolicy } from './address-policy.ts';
import { type AddressResolver, bareHost, createSafeLookup } from './safe-lookup.ts';

export interface GuardedRequestOptions {
  method: string;
  headers: Record<string, string>;
  policy: AddressPolicy;
  resolver: AddressResolver;
  /** Trust anchors for servers with a private CA (closed networks, tests); Node's own otherwise. */
  ca?: string | string[];
}

/** Opens the request (not yet ended); it may throw on an unusable URL. */
export function openGuardedRequest(target: URL, o: GuardedRequestOptions): http.ClientRequest {
  const options: https.RequestOptions = {
    protocol: target.protocol,
    hostname: bareHost(target.hostname),
    port: target.port || undefined,
    path: `${target.pathname}${target.search}`,
    method: o.method,
    headers: o.headers,
    agent: false,
    lookup: createSafeLookup({ resolver: o.resolver, policy: o.policy }),
  };
  if (target.protocol === 'https:') return https.request({ ...options, ...(o.ca ? { ca: o.ca } : {}) });
  return http.request(options);
}
