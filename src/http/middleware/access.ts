// Who may use the HTTP API, the web UI and the /api/events WebSocket. One policy, built once at
// start from the http* settings, answers four questions for every request, in this order:
//   1. Host: is this host name served here? A loopback-only server reached through a DNS name that
//      an attacker's page re-pointed at 127.0.0.1 (DNS rebinding) sees that name in Host → 421.
//   2. Cross-origin: is an unsafe request (POST, PUT, PATCH, DELETE…) sent by a page of another
//      origin? Browsers resend basic-auth credentials cross-site, so credentials alone do not stop
//      CSRF → 403. WebSocket handshakes must carry a same-origin Origin (cross-site WebSocket
//      hijacking) → 403.
//   3. Credentials: basic auth against the htpasswd file or a bearer token, whenever either is
//      configured → 401 with a challenge, so browsers prompt. A bearer token is checked against
//      the configured tokens, then the stored API keys (api-key-cache.ts); stored keys alone
//      satisfy a server that must have credentials, but never switch credentials off or on.
//   4. Probes (GET/HEAD /livez and /readyz) and tracking links (/t/o/, /t/c/) skip all three:
//      they reveal nothing. Signed attachment downloads (GET/HEAD /api/v1/inbound/attachments/)
//      skip them too: the HMAC signature in the URL is their credential, checked by the route.
// Credentials are never logged nor echoed; a successful basic-auth check is cached briefly under an
// HMAC of the header, so bcrypt/scrypt runs once per client and minute rather than per request.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs/promises';
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Context, MiddlewareHandler } from 'hono';
import { ConfigError } from '../../config/load.ts';
import { type Config, envName, flagName } from '../../config/schema.ts';
import { API_KEY_SCOPES } from '../../domain/api-key.ts';
import { InboxBook } from '../../domain/inbox.ts';
import { type AuthUsers, loadAuthFile } from '../../smtp/auth-file.ts';
import type { ApiKeyStore } from '../../storage/ports.ts';
import type { AppEnv } from '../deps.ts';
import { HttpProblem, PROBLEM_CONTENT_TYPE, type ProblemCode, problemResponse } from '../errors.ts';
import { parseListen } from '../server.ts';
import { ApiKeyCache } from './api-key-cache.ts';

/** The settings the policy is built from. */
export type AccessConfig = Pick<
  Config,
  'httpListen' | 'httpAuthFile' | 'httpTokens' | 'httpAllowUnauthenticated' | 'httpAllowedHosts'
> &
  Partial<Pick<Config, 'inbox'>>;

/**
 * Who made a request: a user of the auth file, a configured token (by position) or stored key
 * (`key:<id>`), or nobody. `inbox`: the one inbox (domain/inbox.ts) this user or token may see;
 * absent for one who sees every inbox.
 */
export type Principal =
  | { kind: 'user'; name: string; inbox?: string }
  | { kind: 'token'; name: string; scopes: readonly TokenScope[]; inbox?: string }
  | { kind: 'anonymous' };

/** Context variables this middleware sets; the integrator adds them to AppEnv['Variables']. */
export interface AccessVariables {
  principal: Principal;
}

/** The answer for a WebSocket upgrade; on refusal, hand it to writeUpgradeRefusal(). */
export type UpgradeVerdict =
  | { ok: true; principal: Principal }
  | {
      ok: false;
      status: number;
      /** Problem code from errors.ts: unauthorized, forbidden or misdirected-request. */
      code: AccessProblemCode;
      /** Human-readable detail; never contains credentials. */
      reason: string;
      /** WWW-Authenticate challenges for a 401. */
      challenges: readonly string[];
    };

export interface AccessPolicy {
  /** True when every request (probes aside) must carry basic-auth or bearer credentials. */
  readonly credentialsRequired: boolean;
  /** Hono middleware enforcing Host, cross-origin and credential checks; mount it before the routes. */
  middleware(): MiddlewareHandler<AppEnv>;
  /**
   * The same checks for a WebSocket upgrade (which bypasses Hono), plus a strict Origin check.
   * Async because a basic-auth check may have to run bcrypt/scrypt.
   */
  checkUpgrade(req: IncomingMessage): Promise<UpgradeVerdict>;
  /** Stops accepting a stored key at once (it was revoked here); other nodes notice within KEY_CACHE_TTL_MS. */
  forgetKey(id: string): void;
}

/** The problem codes (errors.ts) a refusal uses: 401, 403 and 421. */
export type AccessProblemCode = Extract<ProblemCode, 'unauthorized' | 'forbidden' | 'misdirected-request'>;

/** Tokens shorter than this are refused at start: they could be guessed. */
export const MIN_TOKEN_LENGTH = 24;

/**
 * What a token may do: `send` (POST /api/v1/send and /send/batch), `read` (every GET, and live
 * updates), `manage` (every other change: deletes, read state, tags, the queue, suppressions,
 * templates). A token written as `<secret>:send` or `<secret>:read+manage` has only those; a bare
 * token has all three.
 */
export const TOKEN_SCOPES = API_KEY_SCOPES;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** `+` joins scopes: the setting is itself a comma-separated list. */
const SCOPES_SUFFIX = /:((?:send|read|manage)(?:\+(?:send|read|manage))*)$/;
/** `@team-a` at the very end limits a token to one inbox (`<secret>@team-a`, `<secret>:read@team-a`). */
const INBOX_SUFFIX = /@([a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?)$/;

interface ConfiguredToken {
  secret: string;
  scopes: TokenScope[];
  inbox?: string;
}

/** A configured token: its secret, scopes and inbox. */
function parseToken(entry: string): ConfiguredToken {
  const i = INBOX_SUFFIX.exec(entry);
  const rest = i ? entry.slice(0, i.index) : entry;
  const inbox = i ? { inbox: i[1]! } : {};
  const m = SCOPES_SUFFIX.exec(rest);
  if (!m) return { secret: rest, scopes: [...TOKEN_SCOPES], ...inbox };
  return {
    secret: rest.slice(0, m.index),
    scopes: [...new Set(m[1]!.split('+') as TokenScope[])],
    ...inbox,
  };
}

/**
 * What a user or token limited to one inbox may reach: its messages and what reads or waits for
 * them, sending, live updates, and the UI. Everything else (the queue, routes, keys, tickets,
 * chaos, tag renames…) concerns every inbox and is refused with a 403.
 */
export function inboxScopedPathAllowed(method: string, path: string, upgrade: boolean): boolean {
  if (upgrade) return true;
  // Store-wide figures.
  if (path === '/metrics') return false;
  if (!path.startsWith('/api/')) return true;
  if (path === '/api/v1/messages' || path === '/api/v1/search') return true;
  if (path.startsWith('/api/v1/message/')) return true;
  if (path === '/api/v1/tags') return method === 'GET' || method === 'HEAD' || method === 'PUT';
  if (path === '/api/v1/send' || path === '/api/v1/send/batch') return true;
  if (INBOX_SCOPED_READS.has(path)) return method === 'GET' || method === 'HEAD';
  return false;
}

/** Read-only endpoints an inbox-limited principal may use; each answers within the inbox. */
const INBOX_SCOPED_READS = new Set([
  '/api/v1/info',
  '/api/v1/webui',
  '/api/v1/wait',
  '/api/v1/wait/cursor',
  '/api/v1/inboxes',
  '/api/v1/openapi.json',
]);

/** The scope a request needs from a token. */
export function requiredScope(method: string, path: string, upgrade: boolean): TokenScope {
  // Keys are credentials: even listing them needs manage.
  if (!upgrade && (path === '/api/v1/keys' || path.startsWith('/api/v1/keys/'))) return 'manage';
  if (upgrade || method === 'GET' || method === 'HEAD') return 'read';
  if (method === 'POST' && (path === '/api/v1/send' || path === '/api/v1/send/batch')) return 'send';
  return 'manage';
}
/** How long a successful basic-auth verification is reused without re-hashing. */
export const BASIC_CACHE_TTL_MS = 60_000;
const BASIC_CACHE_MAX = 1024;

const REALM = 'Mailroom';
const PROBE_PATHS = new Set(['/livez', '/readyz']);
/**
 * Open pixels and click redirects (routes/tracking) are fetched by recipients' mail programs, with
 * no credentials and under the public host name: they pass like probes. Each checks its own HMAC
 * signature and reveals nothing but an image or the redirect the signature was made for.
 */
function isTrackingPath(path: string): boolean {
  return path.startsWith('/t/o/') || path.startsWith('/t/c/');
}
/**
 * Attachment download URLs (routes/inbound-attachments) are fetched by webhook receivers, which
 * hold no API credentials. Each URL is signed for one part of one message until an expiry; the
 * route refuses any other before reading anything.
 */
function isSignedDownloadPath(path: string): boolean {
  return path.startsWith('/api/v1/inbound/attachments/');
}
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Content types a cross-origin page may send without a CORS preflight (Fetch standard). */
const SIMPLE_CONTENT_TYPES = new Set([
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'text/plain',
]);

/** Optional seams for tests. */
export interface AccessOptions {
  loadUsers?: (file: string) => Promise<AuthUsers>;
  now?: () => number;
  /** Stored API keys, accepted as bearer tokens after the configured ones. */
  keys?: ApiKeyStore;
}

interface Refusal {
  ok: false;
  code: AccessProblemCode;
  detail: string;
  challenges: readonly string[];
}
type Decision = { ok: true; principal: Principal } | Refusal;

/** The request facts the checks look at, from a Fetch Request or a Node IncomingMessage. */
interface RequestFacts {
  method: string;
  path: string;
  host: string | undefined;
  origin: string | undefined;
  secFetchSite: string | undefined;
  contentType: string | undefined;
  authorization: string | undefined;
}

const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });
/**
 * The principal the access middleware set on this request's context, or undefined if it did not
 * run. Kept on the context, not keyed by the request object: a later middleware may replace
 * `c.req.raw` (Hono's body limit does, for a body without Content-Length).
 */
export function principalOf(c: { get: (key: 'principal') => unknown }): Principal | undefined {
  return c.get('principal') as Principal | undefined;
}

// --- host names -----------------------------------------------------------------------------

interface HostName {
  /** Lower-case, no brackets around IPv6, no trailing dot; IPv4 in dotted form. */
  name: string;
  /** Explicit port, '' when absent (or the scheme default). */
  port: string;
}

/**
 * Parses a Host header value (or a listen host) with the WHATWG URL parser, so the name is
 * compared in the same canonical form a browser would send (lower case, punycode, dotted IPv4).
 */
function parseHostValue(value: string): HostName | null {
  if (value === '' || /[\s/\\?#@]/.test(value)) return null;
  let url: URL;
  try {
    url = new URL(`http://${value}`);
  } catch {
    return null;
  }
  let name = url.hostname;
  if (name.startsWith('[')) name = name.slice(1, -1);
  else if (name.endsWith('.')) name = name.slice(0, -1);
  return name === '' ? null : { name, port: url.port };
}

function isLoopbackName(name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  // ::1, and IPv4-mapped 127.0.0.0/8 as the URL parser writes it (::ffff:7fXX:XXXX).
  return name === '::1' || /^::ffff:7f[0-9a-f]{2}:/.test(name);
}

interface AllowedHosts {
  /** `*` was listed: any Host header is accepted (never any Origin, though). */
  any: boolean;
  exact: Set<string>;
  /** `*.example.com` entries, stored as ".example.com"; match sub-domains only. */
  suffixes: string[];
}

function parseAllowedHosts(entries: readonly string[]): AllowedHosts {
  const allowed: AllowedHosts = { any: false, exact: new Set(), suffixes: [] };
  for (const entry of entries) {
    if (entry === '*') {
      allowed.any = true;
      continue;
    }
    const wildcard = entry.startsWith('*.');
    const parsed = parseHostValue(wildcard ? entry.slice(2) : entry);
    // A port is refused even when it is the default one, which the URL parser drops.
    if (parsed?.port !== '' || /:\d+$/.test(entry) || entry.includes('*', wildcard ? 1 : 0)) {
      throw new ConfigError(
        `--${flagName('httpAllowedHosts')}: "${entry}" is not a host name; ` +
          'give bare names without scheme or port, e.g. mail.example.com, *.example.com or *',
      );
    }
    if (wildcard) allowed.suffixes.push(`.${parsed.name}`);
    else allowed.exact.add(parsed.name);
  }
  return allowed;
}

/** An explicit allowed-hosts entry (not `*`) names this host. */
function listedHost(allowed: AllowedHosts, name: string): boolean {
  return allowed.exact.has(name) || allowed.suffixes.some((s) => name.endsWith(s));
}

// --- origins --------------------------------------------------------------------------------

interface OriginParts {
  name: string;
  /** Effective port: explicit, or the scheme's default. */
  port: string;
  scheme: string;
}

/** Parses an Origin header; null for "null" (opaque origins) and anything unparsable. */
function parseOrigin(value: string): OriginParts | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const host = parseHostValue(url.host);
  if (!host) return null;
  const scheme = url.protocol.slice(0, -1);
  return { name: host.name, port: url.port || defaultPort(scheme), scheme };
}

function defaultPort(scheme: string): string {
  return scheme === 'https' ? '443' : '80';
}

/**
 * Does the Origin name the host the request was sent to? A Host without a port is taken to use the
 * default port of the Origin's scheme (TLS may end at a proxy, so the request's scheme is unknown).
 */
function sameHost(origin: OriginParts, host: HostName | null): boolean {
  if (!host) return false;
  return origin.name === host.name && origin.port === (host.port || defaultPort(origin.scheme));
}

// --- credentials ----------------------------------------------------------------------------

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function checkTokens(
  entries: readonly string[],
  inboxes: InboxBook,
): { hash: Buffer; scopes: TokenScope[]; inbox?: string }[] {
  const tokens = entries.map(parseToken);
  tokens.forEach(({ secret: token }, i) => {
    if (token.length < MIN_TOKEN_LENGTH) {
      // The token itself is never quoted: it is a secret.
      throw new ConfigError(
        `--${flagName('httpTokens')}: token ${i + 1} of ${tokens.length} is ${token.length} characters long; ` +
          `each token must be at least ${MIN_TOKEN_LENGTH} (e.g. the output of \`openssl rand -hex 24\`)`,
      );
    }
  });
  tokens.forEach((t, i) => {
    if (t.inbox !== undefined && !inboxes.has(t.inbox))
      throw new ConfigError(
        `--${flagName('httpTokens')}: token ${i + 1} of ${tokens.length} names inbox "${t.inbox}", which --${flagName('inbox')} does not define`,
      );
  });
  return tokens.map((t) => ({
    hash: sha256(t.secret),
    scopes: t.scopes,
    ...(t.inbox !== undefined ? { inbox: t.inbox } : {}),
  }));
}

/** Compares against every token's hash in constant time, without stopping at the first match. */
function matchToken(hashes: readonly Buffer[], presented: string): number {
  const h = sha256(presented);
  let found = -1;
  hashes.forEach((expected, i) => {
    if (timingSafeEqual(expected, h) && found === -1) found = i;
  });
  return found;
}

interface CacheEntry {
  until: number;
  user: Promise<string | null>;
}

/**
 * Verifies `Basic` credentials, reusing a successful result for BASIC_CACHE_TTL_MS. Entries are
 * keyed by an HMAC of the header under a per-process key, so the cache holds no password nor an
 * unkeyed hash of one. Concurrent requests with the same header share one verification.
 */
function basicVerifier(users: AuthUsers, now: () => number): (token68: string) => Promise<string | null> {
  const key = randomBytes(32);
  const cache = new Map<string, CacheEntry>();
  return (token68) => {
    const id = createHmac('sha256', key).update(token68).digest('base64');
    const hit = cache.get(id);
    if (hit && hit.until > now()) return hit.user;
    if (hit) cache.delete(id);
    const decoded = Buffer.from(token68, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    // RFC 7617: the user id cannot contain a colon; the password may. A malformed pair still
    // costs a hash check so it answers no faster than a wrong password.
    const [user, password] = colon > 0 ? [decoded.slice(0, colon), decoded.slice(colon + 1)] : ['', ''];
    const result = users.verify(user, password).then(
      (ok) => (ok && user !== '' ? user : null),
      () => null,
    );
    if (cache.size >= BASIC_CACHE_MAX) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    const entry: CacheEntry = { until: now() + BASIC_CACHE_TTL_MS, user: result };
    cache.set(id, entry);
    // Failures are not remembered: the next attempt pays for its own hash.
    void result.then((u) => {
      if (u === null && cache.get(id) === entry) cache.delete(id);
    });
    return result;
  };
}

// --- the policy -----------------------------------------------------------------------------

function refuse(code: AccessProblemCode, detail: string, challenges: readonly string[] = []): Refusal {
  return { ok: false, code, detail, challenges };
}

function refusalResponse(r: Refusal): Response {
  const res = problemResponse(r.code, r.detail);
  for (const challenge of r.challenges) res.headers.append('WWW-Authenticate', challenge);
  return res;
}

/** The listen address's host in canonical form; null when the listener is disabled. */
function listenHostName(listen: string): HostName | null {
  if (listen === '') return null;
  const { host } = parseListen(listen);
  return parseHostValue(isIP(host) === 6 ? `[${host}]` : host);
}

/**
 * Builds the access policy from the http* settings, loading the auth file. Throws ConfigError
 * when the settings would expose an unauthenticated server beyond loopback, a token is too short,
 * an allowed-hosts entry is malformed, or the auth file cannot be read, parsed or is empty.
 */
export async function createAccessPolicy(
  config: AccessConfig,
  options: AccessOptions = {},
): Promise<AccessPolicy> {
  const now = options.now ?? Date.now;
  const inboxes = InboxBook.parse(config.inbox ?? []);
  const tokens = checkTokens(config.httpTokens, inboxes);
  const allowed = parseAllowedHosts(config.httpAllowedHosts);
  const listenHost = listenHostName(config.httpListen);
  // A disabled listener (empty --http-listen) exposes nothing.
  const loopbackOnly = config.httpListen === '' || (listenHost !== null && isLoopbackName(listenHost.name));

  let users: AuthUsers | null = null;
  if (config.httpAuthFile !== '') {
    const file = config.httpAuthFile;
    const flag = `--${flagName('httpAuthFile')}`;
    try {
      await fs.access(file, fs.constants.R_OK);
    } catch (err) {
      throw new ConfigError(
        `${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    try {
      users = await (options.loadUsers ?? loadAuthFile)(file);
    } catch (err) {
      throw new ConfigError(`${flag}: ${(err as Error).message}`);
    }
    if (users.size === 0) throw new ConfigError(`${flag}: ${file} lists no users, so nobody could sign in`);
  }

  const configured = users !== null || tokens.length > 0;
  const keys = options.keys ? new ApiKeyCache(options.keys, { now }) : null;
  // Stored keys count as credentials where credentials are a must (beyond loopback, not explicitly
  // open); they never make credentials required on a server that serves without them.
  const keysOnly =
    !configured &&
    !loopbackOnly &&
    !config.httpAllowUnauthenticated &&
    options.keys !== undefined &&
    (await options.keys.countActiveApiKeys(new Date(now()).toISOString())) > 0;
  const credentialsRequired = configured || keysOnly;
  if (!loopbackOnly && !credentialsRequired && !config.httpAllowUnauthenticated) {
    const opt = (key: 'httpAuthFile' | 'httpTokens' | 'httpAllowUnauthenticated') =>
      `--${flagName(key)} (${envName(key)})`;
    throw new ConfigError(
      `--${flagName('httpListen')} ${config.httpListen} is reachable beyond loopback, but no HTTP credentials ` +
        'are configured, so anyone who can reach the port could read and delete mail. Choose one: ' +
        `set ${opt('httpAuthFile')} to an htpasswd file (hashes from \`mailroom hash-password\` or \`htpasswd -B\`); ` +
        `set ${opt('httpTokens')} to one or more API tokens of at least ${MIN_TOKEN_LENGTH} characters; ` +
        `or set ${opt('httpAllowUnauthenticated')} to serve without credentials on a network you trust. ` +
        'An API key made with `mailroom keys create` counts too. Alternatively listen on 127.0.0.1 only.',
    );
  }

  const challenges: string[] = [];
  if (users) challenges.push(`Basic realm="${REALM}", charset="UTF-8"`);
  if (tokens.length > 0 || (keys && credentialsRequired)) challenges.push(`Bearer realm="${REALM}"`);
  const verifyBasic = users ? basicVerifier(users, now) : null;

  /**
   * Host rule. Accepted: anything when `*` is listed; anything when credentials are required and
   * the listener is not loopback-only (the credentials protect it, and such servers are reached
   * under names we cannot know); otherwise loopback names, IP literals (a rebinding attack always
   * carries the attacker's DNS name, never an address), the listen host, and listed names.
   */
  function hostAllowed(host: HostName | null): boolean {
    if (allowed.any || (credentialsRequired && !loopbackOnly)) return true;
    if (!host) return false;
    return (
      isLoopbackName(host.name) ||
      isIP(host.name) !== 0 ||
      host.name === listenHost?.name ||
      listedHost(allowed, host.name)
    );
  }

  /** Cross-origin rule for unsafe methods; null when the request may proceed. */
  function crossOriginRefusal(f: RequestFacts, host: HostName | null): Refusal | null {
    const origin = f.origin === undefined ? undefined : parseOrigin(f.origin);
    const sameOrigin = origin ? sameHost(origin, host) : origin === undefined;
    const mediaType = f.contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
    if (!sameOrigin && SIMPLE_CONTENT_TYPES.has(mediaType)) {
      return refuse('forbidden', `A ${mediaType} ${f.method} from another origin is refused.`);
    }
    if (origin && listedHost(allowed, origin.name)) return null;
    if (f.secFetchSite !== undefined) {
      const site = f.secFetchSite.toLowerCase();
      if (site === 'same-origin' || site === 'none') return null;
      return refuse('forbidden', `A ${f.method} sent by a page of another origin is refused.`);
    }
    if (!sameOrigin) return refuse('forbidden', `A ${f.method} from another origin is refused.`);
    return null;
  }

  /** Strict Origin rule for WebSocket handshakes: present, and this host or a listed one. */
  function upgradeOriginRefusal(f: RequestFacts, host: HostName | null): Refusal | null {
    if (f.origin === undefined) return refuse('forbidden', 'A WebSocket handshake must carry an Origin.');
    const origin = parseOrigin(f.origin);
    if (origin && (sameHost(origin, host) || listedHost(allowed, origin.name))) return null;
    return refuse('forbidden', 'WebSocket connections from another origin are refused.');
  }

  async function authenticate(authorization: string | undefined): Promise<Principal | Refusal> {
    if (!credentialsRequired) return ANONYMOUS;
    if (authorization === undefined || authorization.trim() === '') {
      return refuse('unauthorized', 'Sign in with basic auth or send a bearer token.', challenges);
    }
    const m = /^([A-Za-z]+) +(\S+) *$/.exec(authorization);
    const scheme = m?.[1]?.toLowerCase();
    const credentials = m?.[2] ?? '';
    if (scheme === 'basic' && verifyBasic && /^[A-Za-z0-9+/]+={0,2}$/.test(credentials)) {
      const user = await verifyBasic(credentials);
      if (user !== null) {
        const inbox = inboxes.inboxOfUser(user);
        return inbox === null ? { kind: 'user', name: user } : { kind: 'user', name: user, inbox };
      }
    } else if (scheme === 'bearer' && (tokens.length > 0 || keys)) {
      const i = matchToken(
        tokens.map((t) => t.hash),
        credentials,
      );
      if (i !== -1) {
        const { scopes, inbox } = tokens[i]!;
        return { kind: 'token', name: `token ${i + 1}`, scopes, ...(inbox !== undefined ? { inbox } : {}) };
      }
      const key = keys ? await keys.verify(credentials) : null;
      if (key) return { kind: 'token', name: `key:${key.id}`, scopes: key.scopes };
    }
    // Which part was wrong (scheme, user, password, token) is not said.
    return refuse('unauthorized', 'The credentials were not accepted.', challenges);
  }

  async function decide(f: RequestFacts, upgrade: boolean): Promise<Decision> {
    const method = f.method.toUpperCase();
    if (
      !upgrade &&
      (method === 'GET' || method === 'HEAD') &&
      (PROBE_PATHS.has(f.path) || isTrackingPath(f.path) || isSignedDownloadPath(f.path))
    ) {
      return { ok: true, principal: ANONYMOUS };
    }
    const host = f.host === undefined ? null : parseHostValue(f.host);
    if (!hostAllowed(host)) {
      const shown = f.host === undefined ? 'missing' : JSON.stringify(f.host.slice(0, 255));
      return refuse(
        'misdirected-request',
        `The Host header (${shown}) is not a name this server answers to; ` +
          `add the name to --${flagName('httpAllowedHosts')} if it is yours.`,
      );
    }
    const origin = upgrade
      ? upgradeOriginRefusal(f, host)
      : SAFE_METHODS.has(method)
        ? null
        : crossOriginRefusal(f, host);
    if (origin) return origin;
    const principal = await authenticate(f.authorization);
    if ('ok' in principal) return principal;
    if (principal.kind === 'token') {
      const needed = requiredScope(method, f.path, upgrade);
      if (!principal.scopes.includes(needed)) {
        return refuse(
          'forbidden',
          `This token may ${principal.scopes.join(', ')}; this request needs ${needed}.`,
        );
      }
    }
    if (principal.kind !== 'anonymous' && principal.inbox !== undefined) {
      if (!inboxScopedPathAllowed(method, f.path, upgrade)) {
        return refuse(
          'forbidden',
          `These credentials see only inbox ${principal.inbox}; this request concerns every inbox.`,
        );
      }
    }
    return { ok: true, principal };
  }

  return {
    credentialsRequired,
    forgetKey: (id) => keys?.forget(id),
    middleware() {
      return async (c, next) => {
        const decision = await decide(
          {
            method: c.req.method,
            path: c.req.path,
            host: c.req.header('host') ?? new URL(c.req.url).host,
            origin: c.req.header('origin'),
            secFetchSite: c.req.header('sec-fetch-site'),
            contentType: c.req.header('content-type'),
            authorization: c.req.header('authorization'),
          },
          false,
        );
        if (!decision.ok) return refusalResponse(decision);
        (c as unknown as Context<{ Variables: AccessVariables }>).set('principal', decision.principal);
        await next();
      };
    },
    async checkUpgrade(req) {
      const header = (name: string): string | undefined => {
        const v = req.headers[name];
        return Array.isArray(v) ? v.join(', ') : v;
      };
      const decision = await decide(
        {
          method: req.method ?? 'GET',
          path: (req.url ?? '/').split('?')[0] ?? '/',
          host: header('host'),
          origin: header('origin'),
          secFetchSite: header('sec-fetch-site'),
          contentType: header('content-type'),
          authorization: header('authorization'),
        },
        true,
      );
      if (decision.ok) return decision;
      return {
        ok: false,
        status: new HttpProblem(decision.code, decision.detail).status,
        code: decision.code,
        reason: decision.detail,
        challenges: decision.challenges,
      };
    },
  };
}

/** Answers a refused WebSocket handshake with a problem+json HTTP response and closes the socket. */
export function writeUpgradeRefusal(socket: Duplex, verdict: Extract<UpgradeVerdict, { ok: false }>): void {
  const body = JSON.stringify(new HttpProblem(verdict.code, verdict.reason).body());
  const lines = [
    `HTTP/1.1 ${verdict.status} ${STATUS_CODES[verdict.status] ?? 'Error'}`,
    'Connection: close',
    `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...verdict.challenges.map((c) => `WWW-Authenticate: ${c}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
