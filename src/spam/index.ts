// Spam scoring: builds the one checker the settings ask for. `spamassassin` ("host:port" of a
// spamd) and `rspamd` (base URL of its HTTP API) are alternatives; setting both is a
// configuration error, because sa-check returns a single result and quietly ignoring one daemon
// would hide a mistake. Settings are validated here so a typo fails at startup, not at the first
// check.
import net from 'node:net';
import type { Config } from '../config/schema.ts';
import { RspamdChecker } from './rspamd.ts';
import { SpamAssassinChecker } from './spamassassin.ts';
import type { SpamChecker } from './types.ts';

export { RSPAMD_SPAM_ACTIONS, RspamdChecker } from './rspamd.ts';
export { SPAMD_DEFAULT_MAX_SIZE, SpamAssassinChecker } from './spamassassin.ts';
export type { SpamChecker, SpamContext, SpamEngine, SpamErrorKind, SpamResult, SpamRule } from './types.ts';
export { SpamCheckError, spamErrorResult } from './types.ts';

export type SpamConfig = Pick<Config, 'spamassassin' | 'rspamd' | 'spamTimeout'>;

/**
 * The checker for these settings, or null when neither daemon is configured. Throws an Error
 * naming the setting when a value is malformed or both are set.
 */
export function createSpamChecker(config: SpamConfig): SpamChecker | null {
  const spamassassin = config.spamassassin.trim();
  const rspamd = config.rspamd.trim();
  if (spamassassin !== '' && rspamd !== '') {
    throw new Error(
      'spamassassin and rspamd are both set: choose one spam daemon (sa-check returns a single result)',
    );
  }
  if (spamassassin !== '') {
    const { host, port } = parseSpamdAddress(spamassassin);
    return new SpamAssassinChecker({ host, port, timeoutMs: config.spamTimeout });
  }
  if (rspamd !== '') return new RspamdChecker({ url: parseRspamdUrl(rspamd), timeoutMs: config.spamTimeout });
  return null;
}

/** `host:port`, `1.2.3.4:783` or `[::1]:783` → host (IPv6 unbracketed) and port. */
export function parseSpamdAddress(value: string): { host: string; port: number } {
  const bad = (why: string): Error =>
    new Error(
      `spamassassin must be host:port of a spamd, such as 127.0.0.1:783 or [::1]:783 (${why}): ${JSON.stringify(value)}`,
    );
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s/]+)):(\d{1,5})$/.exec(value);
  if (!m) throw bad(value.includes('://') ? 'a URL is not accepted' : 'expected host:port');
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw bad('port out of range');
  if (m[1] !== undefined && !net.isIPv6(m[1])) throw bad('not an IPv6 address in brackets');
  return { host: m[1] ?? m[2]!, port };
}

/** An http(s) URL without credentials, query or fragment, normalised. */
export function parseRspamdUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`rspamd must be an http(s) URL such as http://127.0.0.1:11333: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(
      `rspamd must be an http:// or https:// URL, not ${url.protocol}: ${JSON.stringify(value)}`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error('rspamd URL must not hold credentials (point it at the normal worker, which needs none)');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new Error(`rspamd URL must not have a query or fragment: ${JSON.stringify(value)}`);
  }
  return url.toString();
}
