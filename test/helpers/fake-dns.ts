// A declarative DNS zone for tests: a map from (name, type) to the answer node:dns would give.
// Answers have the shapes of `dns.promises.resolve` (TXT as arrays of character-strings, A/AAAA as
// address strings, MX as { exchange, priority }), and misses fail the way node:dns fails, which is
// what mailauth and other DNS users tell apart: ENOTFOUND for a name that does not exist (NXDOMAIN),
// ENODATA for a name that exists without records of the asked type (RFC 2308 §2.2 NODATA).

/** An answer that fails, e.g. `dnsFailure('ESERVFAIL')` for a broken authoritative server. */
export interface DnsFailure {
  readonly failure: string;
}

/** The records of one name, by type ('TXT', 'A', 'AAAA', 'MX', 'PTR', ...). */
export type FakeRecords = Readonly<Record<string, readonly unknown[] | DnsFailure>>;

/** The zone: owner names (case-insensitive, trailing dot optional) to their records. */
export type FakeZone = Readonly<Record<string, FakeRecords>>;

export interface FakeDnsQuery {
  name: string;
  rrtype: string;
}

export interface FakeDns {
  /** The resolver to inject: same contract as `dns.promises.resolve(name, rrtype)`. */
  resolve: (name: string, rrtype: string) => Promise<unknown[]>;
  /** Every question asked so far, in order (names lower-cased, without a trailing dot). */
  readonly queries: readonly FakeDnsQuery[];
  /** How many questions have been asked. */
  lookups(): number;
  /** Adds or replaces the answer for (name, rrtype). */
  set(name: string, rrtype: string, answer: readonly unknown[] | DnsFailure): void;
}

export function dnsFailure(code: string): DnsFailure {
  return { failure: code };
}

/**
 * One TXT record per value, each split into character-strings of at most 255 octets (RFC 1035
 * §3.3), as a long DKIM key is published. Values are ASCII here, so a character is an octet.
 */
export function txt(...values: string[]): string[][] {
  return values.map((value) => {
    const strings: string[] = [];
    for (let i = 0; i < value.length; i += 255) strings.push(value.slice(i, i + 255));
    return strings.length ? strings : [''];
  });
}

function normalName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

// node:dns names the failing system call after the record type, e.g. queryTxt.
function dnsError(code: string, name: string, rrtype: string): Error {
  const syscall = `query${rrtype.charAt(0)}${rrtype.slice(1).toLowerCase()}`;
  return Object.assign(new Error(`${syscall} ${code} ${name}`), { code, syscall, hostname: name });
}

function isFailure(answer: unknown): answer is DnsFailure {
  return typeof answer === 'object' && answer !== null && 'failure' in answer;
}

export function createFakeDns(zone: FakeZone = {}): FakeDns {
  const records = new Map<string, Map<string, readonly unknown[] | DnsFailure>>();
  const queries: FakeDnsQuery[] = [];

  const set = (name: string, rrtype: string, answer: readonly unknown[] | DnsFailure): void => {
    const owner = normalName(name);
    const byType = records.get(owner) ?? new Map<string, readonly unknown[] | DnsFailure>();
    byType.set(rrtype.toUpperCase(), answer);
    records.set(owner, byType);
  };
  for (const [name, byType] of Object.entries(zone)) {
    for (const [rrtype, answer] of Object.entries(byType)) set(name, rrtype, answer);
  }

  // A name exists if it owns records or if a name below it does (an empty non-terminal such as
  // _domainkey.example.com answers NODATA, not NXDOMAIN: RFC 8020 §2).
  const exists = (name: string): boolean =>
    [...records.keys()].some((owner) => owner === name || owner.endsWith(`.${name}`));

  const resolve = async (name: string, rrtype: string): Promise<unknown[]> => {
    const owner = normalName(name);
    const type = rrtype.toUpperCase();
    queries.push({ name: owner, rrtype: type });
    const answer = records.get(owner)?.get(type);
    if (isFailure(answer)) throw dnsError(answer.failure, name, type);
    // A fresh copy each time: callers may sort or mutate what they get.
    if (answer?.length) return structuredClone([...answer]);
    throw dnsError(exists(owner) ? 'ENODATA' : 'ENOTFOUND', name, type);
  };

  return { resolve, queries, lookups: () => queries.length, set };
}
