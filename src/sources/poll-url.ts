// Polled mailboxes are configured as URLs, one per account, so one list setting (flag, variable
// or file) describes them all:
//   imaps://user:password@imap.example.com/INBOX?after=move&move-to=Imported&name=support
//   pop3s://user:password@pop.example.com?after=delete
// imaps/pop3s speak TLS from the first byte; imap/pop3 must upgrade with STARTTLS/STLS, and only
// `tls=none` (for a server on loopback in a test rig, say) allows clear text, because the password
// would otherwise cross the network readable.
import { safeUrl } from '../observability/logger.ts';
import type { AfterImport, PollerAccount } from './types.ts';

export class PollUrlError extends Error {}

const SCHEMES: Record<string, { protocol: 'imap' | 'pop3'; port: number; implicitTls: boolean }> = {
  'imaps:': { protocol: 'imap', port: 993, implicitTls: true },
  'imap:': { protocol: 'imap', port: 143, implicitTls: false },
  'pop3s:': { protocol: 'pop3', port: 995, implicitTls: true },
  'pop3:': { protocol: 'pop3', port: 110, implicitTls: false },
};

const PARAMS = new Set([
  'name',
  'after',
  'flag',
  'move-to',
  'idle',
  'interval',
  'tls',
  'verify',
  'max-bytes',
]);

function duration(value: string, what: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(value);
  if (!m) throw new PollUrlError(`${what} must be a duration such as 30s or 5m, not "${value}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000;
  return Number(m[1]) * unit;
}

function flag(value: string, what: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new PollUrlError(`${what} must be true or false, not "${value}"`);
}

/** The URL without its password, for logs and errors. */
export const redactPollUrl = safeUrl;

/** One account from its URL; `maxMessageBytes` is the default size cap (the SMTP one). */
export function parsePollUrl(raw: string, defaults: { maxMessageBytes: number }): PollerAccount {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new PollUrlError(`${redactPollUrl(raw)} is not a URL`);
  }
  const where = redactPollUrl(raw);
  const scheme = SCHEMES[u.protocol];
  if (!scheme) throw new PollUrlError(`${where}: the scheme must be imaps, imap, pop3s or pop3`);
  if (!u.hostname) throw new PollUrlError(`${where}: no host`);
  if (!u.username || !u.password) throw new PollUrlError(`${where}: needs a user name and a password`);
  for (const key of u.searchParams.keys()) {
    if (!PARAMS.has(key)) throw new PollUrlError(`${where}: unknown parameter "${key}"`);
  }
  const p = (k: string) => u.searchParams.get(k) ?? undefined;
  const tlsParam = p('tls');
  if (tlsParam !== undefined && tlsParam !== 'none' && tlsParam !== 'starttls' && tlsParam !== 'implicit')
    throw new PollUrlError(`${where}: tls must be implicit, starttls or none`);
  const tls = tlsParam ?? (scheme.implicitTls ? 'implicit' : 'starttls');
  const after = (p('after') ?? 'leave') as AfterImport;
  const allowed: AfterImport[] =
    scheme.protocol === 'imap' ? ['leave', 'flag', 'move', 'delete'] : ['leave', 'delete'];
  if (!allowed.includes(after))
    throw new PollUrlError(`${where}: after must be one of ${allowed.join(', ')}`);
  const moveTo = p('move-to');
  if (after === 'move' && !moveTo) throw new PollUrlError(`${where}: after=move needs move-to`);
  const mailbox =
    scheme.protocol === 'imap' ? decodeURIComponent(u.pathname.replace(/^\//, '')) || 'INBOX' : undefined;
  const user = decodeURIComponent(u.username);
  const maxBytes = p('max-bytes');
  return {
    name: p('name') ?? `${user}@${u.hostname}${mailbox && mailbox !== 'INBOX' ? `/${mailbox}` : ''}`,
    protocol: scheme.protocol,
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : scheme.port,
    tls,
    tlsVerify: p('verify') === undefined ? true : flag(p('verify')!, 'verify'),
    user,
    password: decodeURIComponent(u.password),
    ...(mailbox !== undefined ? { mailbox } : {}),
    afterImport: after,
    ...(p('flag') !== undefined ? { flag: p('flag')! } : {}),
    ...(moveTo !== undefined ? { moveTo } : {}),
    ...(p('idle') !== undefined ? { idle: flag(p('idle')!, 'idle') } : {}),
    pollIntervalMs: p('interval') === undefined ? 60_000 : duration(p('interval')!, 'interval'),
    maxMessageBytes: maxBytes === undefined ? defaults.maxMessageBytes : Number(maxBytes),
  };
}
