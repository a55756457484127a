// What the sender checks may ask of DNS, and a guard around the injected resolver that enforces
// it: a deadline for every lookup, and a cap on the DKIM keys one message can make us fetch.
import type { HeaderBlock } from './sender-auth-headers.ts';
import { fieldsNamed, normalDomain, readTags } from './sender-auth-headers.ts';

/**
 * A DNS resolver with the contract of `dns.promises.resolve(name, rrtype)`, which is what mailauth
 * calls: TXT answers are arrays of character-strings (`string[][]`), A/AAAA answers address strings,
 * MX answers `{ exchange, priority }` objects. A name that does not exist must reject with code
 * ENOTFOUND and a name without records of the type with ENODATA; any other rejection (ESERVFAIL,
 * ETIMEOUT, ECONNREFUSED, ...) is a temporary failure and gives temperror results.
 */
export type DnsResolver = (name: string, rrtype: string) => Promise<unknown>;

export interface SignatureRef {
  domain: string;
  selector: string;
  /** The key record's owner name, `selector._domainkey.domain` (RFC 6376 §3.6.2.1). */
  keyName: string;
}

/** What the header block says before any check runs. */
export interface MessageScan {
  signatures: SignatureRef[];
  /** Key names of ARC-Seal and ARC-Message-Signature fields (RFC 8617 §4.1). */
  arcKeyNames: Set<string>;
  /** The highest ARC instance (i=) present, 0 without ARC fields. */
  arcInstances: number;
  /** The RFC5322.From domain, or null when there is no usable one. */
  fromDomain: string | null;
}

export interface GuardedResolver {
  resolve: (name: string, rrtype: string) => Promise<unknown[]>;
  /** Key names not looked up because of the signature cap. */
  refused: Set<string>;
  /** Names whose lookup failed temporarily or was cut off by the deadline. */
  failed: Set<string>;
}

/** Error codes that mean "no such record": an answer, not a failure (RFC 7208 §4.3, RFC 6376 §6.1.2). */
const NO_RECORD = new Set(['ENOTFOUND', 'ENODATA']);

const SIGNATURE_LIMIT_CODE = 'ESIGLIMIT';

export function keyName(selector: string, domain: string): string {
  return normalDomain(`${selector}._domainkey.${domain}`);
}

function signatureRef(value: string): SignatureRef | null {
  const tags = readTags(value);
  const domain = tags.get('d');
  const selector = tags.get('s');
  if (!domain || !selector) return null;
  return { domain: normalDomain(domain), selector, keyName: keyName(selector, domain) };
}

// The address in angle brackets if there is one, else the first bare one; only a hint for ordering
// lookups, DMARC itself takes the author domain from mailauth's full parse.
function fromDomainOf(block: HeaderBlock): string | null {
  const value = fieldsNamed(block, 'from')[0]?.value ?? '';
  const match = /<[^<>@]*@([^<>\s]+)>/.exec(value) ?? /@([A-Za-z0-9.-]+)/.exec(value);
  return match ? normalDomain(match[1]!) : null;
}

export function scanMessage(block: HeaderBlock): MessageScan {
  const signatures = fieldsNamed(block, 'dkim-signature')
    .map((f) => signatureRef(f.value))
    .filter((s): s is SignatureRef => s !== null);
  const arcKeyNames = new Set<string>();
  let arcInstances = 0;
  for (const f of [...fieldsNamed(block, 'arc-seal'), ...fieldsNamed(block, 'arc-message-signature')]) {
    const ref = signatureRef(f.value);
    if (ref) arcKeyNames.add(ref.keyName);
    const instance = Number(readTags(f.value).get('i'));
    if (Number.isInteger(instance) && instance > arcInstances) arcInstances = instance;
  }
  return { signatures, arcKeyNames, arcInstances, fromDomain: fromDomainOf(block) };
}

// Same last two labels: a cheap stand-in for DMARC's relaxed alignment (RFC 7489 §3.1.1), used only
// to decide which signatures get their keys fetched first.
function nearAuthor(domain: string, fromDomain: string | null): boolean {
  if (!fromDomain) return false;
  const tail = (d: string) => d.split('.').slice(-2).join('.');
  return tail(domain) === tail(fromDomain);
}

/**
 * The DKIM key names we are willing to fetch: at most `limit` distinct ones, those of signers near
 * the author's domain first (they are the ones DMARC can use), then in header order, newest first.
 * ARC keys are not counted here; RFC 8617 §4.2.1 already bounds a chain to 50 sets.
 */
export function allowedKeyNames(scan: MessageScan, limit: number): Set<string> {
  const ordered = [
    ...scan.signatures.filter((s) => nearAuthor(s.domain, scan.fromDomain)),
    ...scan.signatures.filter((s) => !nearAuthor(s.domain, scan.fromDomain)),
  ];
  const allowed = new Set<string>();
  for (const s of ordered) {
    if (allowed.size >= limit) break;
    allowed.add(s.keyName);
  }
  for (const name of scan.arcKeyNames) allowed.add(name);
  return allowed;
}

function lookupError(code: string, name: string, message: string): Error {
  return Object.assign(new Error(`${message} (${name})`), { code, hostname: name });
}

function errorCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

// A resolver that throws synchronously, rejects with a non-Error or answers with something other
// than a list is treated as a temporary DNS failure, the same as a SERVFAIL.
async function ask(resolver: DnsResolver, name: string, rrtype: string): Promise<unknown[]> {
  let answer: unknown;
  try {
    answer = await resolver(name, rrtype);
  } catch (err) {
    if (err instanceof Error) throw err;
    throw lookupError('ESERVFAIL', name, `DNS lookup failed: ${String(err)}`);
  }
  if (!Array.isArray(answer)) throw lookupError('EBADRESP', name, 'DNS resolver returned no list');
  return answer;
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal, name: string): Promise<T> {
  const timedOut = () => lookupError('ETIMEOUT', name, 'sender checks deadline reached');
  if (signal.aborted) return Promise.reject(timedOut());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(timedOut());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Wraps the resolver so that (1) after `signal` aborts every pending and later lookup fails with
 * ETIMEOUT, which mailauth turns into temperror results, and (2) DKIM key lookups outside
 * `allowedKeys` fail with ESIGLIMIT without reaching DNS.
 */
export function guardResolver(
  resolver: DnsResolver,
  opts: { signal: AbortSignal; allowedKeys: Set<string> },
): GuardedResolver {
  const refused = new Set<string>();
  const failed = new Set<string>();
  const resolve = async (name: string, rrtype: string): Promise<unknown[]> => {
    const owner = normalDomain(name);
    if (rrtype.toUpperCase() === 'TXT' && owner.includes('._domainkey.') && !opts.allowedKeys.has(owner)) {
      refused.add(owner);
      throw lookupError(SIGNATURE_LIMIT_CODE, name, 'DKIM signature limit reached');
    }
    try {
      return await untilAborted(ask(resolver, name, rrtype), opts.signal, name);
    } catch (err) {
      if (!NO_RECORD.has(errorCode(err) ?? '')) failed.add(owner);
      throw err;
    }
  };
  return { resolve, refused, failed };
}
