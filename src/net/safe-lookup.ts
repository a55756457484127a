// A `lookup` for node:net, node:http and node:https that resolves a user-given host through an
// injected resolver and hands the socket only the addresses the policy allows. Because the socket
// connects to exactly the addresses checked here, and asks nothing else, a DNS answer that changes
// between check and connect (DNS rebinding) cannot steer the connection to an internal address.
// Node skips `lookup` for IP literal hosts, so callers check those with `checkLiteralHost` first.
import type { LookupAddress, LookupOptions } from 'node:dns';
import net from 'node:net';
import type { AddressPolicy } from './address-policy.ts';

/** The part of node:dns/promises' Resolver used here (a Resolver instance fits). */
export interface AddressResolver {
  resolve4(host: string): Promise<string[]>;
  resolve6(host: string): Promise<string[]>;
}

export interface SafeLookupOptions {
  resolver: AddressResolver;
  policy: AddressPolicy;
}

export type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

export type SafeLookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

export interface RefusedAddress {
  address: string;
  reason: string;
}

/** Every address of a host is one the policy forbids; nothing was connected to. */
export class AddressBlockedError extends Error {
  readonly code = 'EADDRBLOCKED';
  readonly hostname: string;
  readonly refused: readonly RefusedAddress[];

  constructor(hostname: string, refused: readonly RefusedAddress[]) {
    super(`refused to connect to ${hostname}: ${refused.map((r) => r.reason).join('; ')}`);
    this.name = 'AddressBlockedError';
    this.hostname = hostname;
    this.refused = refused;
  }
}

/** IPv6 literals come bracketed in URLs ("[::1]"); sockets want them bare. */
export function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Throws AddressBlockedError when `host` is an IP literal the policy forbids; names pass. */
export function checkLiteralHost(host: string, policy: AddressPolicy): void {
  const ip = bareHost(host);
  if (!net.isIP(ip)) return;
  const verdict = policy.check(ip);
  if (!verdict.allowed) throw new AddressBlockedError(ip, [{ address: ip, reason: verdict.reason }]);
}

function wantedFamily(family: LookupOptions['family']): 0 | 4 | 6 {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

async function resolveAll(
  host: string,
  family: 0 | 4 | 6,
  resolver: AddressResolver,
): Promise<LookupAddress[]> {
  const asked = [
    family === 6 ? Promise.resolve([]) : resolver.resolve4(host),
    family === 4 ? Promise.resolve([]) : resolver.resolve6(host),
  ];
  const [v4, v6] = await Promise.allSettled(asked);
  const found = (r: PromiseSettledResult<string[]> | undefined) => (r?.status === 'fulfilled' ? r.value : []);
  const all = [
    ...found(v4).map((address) => ({ address, family: 4 })),
    ...found(v6).map((address) => ({ address, family: 6 })),
  ];
  if (all.length > 0) return all;
  // Nothing to connect to: the resolver's own failure (ENOTFOUND, ESERVFAIL...) says best why.
  const failure = [v4, v6].find((r) => r?.status === 'rejected') as PromiseRejectedResult | undefined;
  if (failure) throw failure.reason;
  throw Object.assign(new Error(`no addresses found for ${host}`), { code: 'ENOTFOUND', hostname: host });
}

/**
 * The addresses of `hostname` the policy allows, resolved once. IP literals are checked, not
 * resolved. Throws AddressBlockedError when the host has addresses but none is allowed.
 */
export async function resolveAllowed(
  hostname: string,
  family: 0 | 4 | 6,
  options: SafeLookupOptions,
): Promise<LookupAddress[]> {
  const literal = net.isIP(bareHost(hostname));
  const all = literal
    ? [{ address: bareHost(hostname), family: literal }]
    : await resolveAll(hostname, family, options.resolver);
  const allowed: LookupAddress[] = [];
  const refused: RefusedAddress[] = [];
  for (const entry of all) {
    const verdict = options.policy.check(entry.address, literal ? undefined : hostname);
    if (verdict.allowed) allowed.push(entry);
    else refused.push({ address: entry.address, reason: verdict.reason });
  }
  // Internal addresses among public ones are dropped, as the MX transport does; the connection
  // goes only to what is left.
  if (allowed.length === 0) throw new AddressBlockedError(hostname, refused);
  return allowed;
}

/** A `lookup` option for net.connect, http.request and https.request, checked by the policy. */
export function createSafeLookup(options: SafeLookupOptions): SafeLookup {
  return (hostname, lookupOptions, callback) => {
    resolveAllowed(hostname, wantedFamily(lookupOptions.family), options).then(
      (addresses) => {
        // With `all` (Node's happy eyeballs asks so) the socket tries each checked address;
        // otherwise it gets the first one.
        if (lookupOptions.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, lookupOptions.all ? [] : ''),
    );
  };
}
