// `mailroom keys`: make, list and revoke stored API keys straight on the configured store, so an
// operator can make the first key before any HTTP credentials exist (and whether or not a server
// is running).
import { ConfigError, loadConfig } from '../config/load.ts';
import {
  API_KEY_SCOPES,
  type ApiKey,
  type ApiKeyScope,
  apiKeyState,
  isApiKeyId,
  issueApiKey,
  keyNameProblem,
  MAX_ACTIVE_API_KEYS,
} from '../domain/api-key.ts';
import { KEY_CACHE_TTL_MS } from '../http/middleware/api-key-cache.ts';

export const KEYS_USAGE = `Usage:
  mailroom keys create --name NAME --scopes send,read,manage [--expires 30d|ISO-TIME] [--json] [store options]
  mailroom keys list [--json] [store options]
  mailroom keys revoke <key-id>... [store options]

create prints the key (mr_<id>_<secret>) on standard output; it is shown this once only, and only
a hash of it is stored. --expires takes a duration (m, h, d, w) or an ISO 8601 time. A revoked key
stops working on running servers within ${KEY_CACHE_TTL_MS / 1000} seconds. At most ${MAX_ACTIVE_API_KEYS} keys may be active.

Store options are those of 'mailroom start' that choose the store (--data-dir, --database-url,
--config).
`;

export interface KeysIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** The clock, for tests; Date.now otherwise. */
  now?: () => number;
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Takes `--name value` (or `--name` alone for a boolean) out of argv; the rest goes to the config. */
function takeFlag(argv: string[], name: string, boolean = false): string | undefined {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const arg = argv[i]!;
  if (arg.includes('=')) {
    argv.splice(i, 1);
    return arg.slice(arg.indexOf('=') + 1);
  }
  const value = boolean ? 'true' : argv[i + 1];
  if (value === undefined) throw new ConfigError(`keys: --${name} needs a value`);
  argv.splice(i, boolean ? 1 : 2);
  return value;
}

function parseScopes(text: string): ApiKeyScope[] {
  const scopes = text
    .split(/[,+]/)
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = scopes.find((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
  if (unknown !== undefined || scopes.length === 0) {
    throw new ConfigError(
      `keys: ${unknown === undefined ? 'no scope given' : `unknown scope "${unknown}"`}; scopes are ${API_KEY_SCOPES.join(', ')}`,
    );
  }
  return scopes as ApiKeyScope[];
}

/** `30d`, `12h`, `2w`, `90m` from now, or an ISO 8601 time; in the future either way. */
function parseExpiry(text: string, now: number): string {
  const m = /^(\d{1,6})([mhdw])$/.exec(text.trim());
  let at: number;
  if (m) at = now + Number(m[1]) * UNIT_MS[m[2]!]!;
  else if (/^\d{4}-\d{2}-\d{2}(T.+)?$/.test(text)) at = Date.parse(text);
  else at = Number.NaN;
  if (Number.isNaN(at))
    throw new ConfigError(`keys: --expires "${text}" is neither a duration (30d, 12h) nor an ISO 8601 time`);
  if (at <= now) throw new ConfigError(`keys: --expires "${text}" is not in the future`);
  return new Date(at).toISOString();
}

function line(k: ApiKey, now: number): string {
  return [
    k.id,
    apiKeyState(k, now).padEnd(7),
    k.scopes.join(',').padEnd(17),
    k.createdAt,
    `used ${k.lastUsedAt ?? 'never'}`,
    `expires ${k.expiresAt ?? 'never'}`,
    k.name,
  ].join('  ');
}

function json(k: ApiKey, now: number) {
  return { ...k, state: apiKeyState(k, now) };
}

/** Runs one keys command; returns the process exit code (0 ok, 1 something refused). */
export async function runKeysCommand(args: string[], io: KeysIo): Promise<number> {
  const now = io.now ?? Date.now;
  const [sub, ...rest] = args;
  const firstOption = rest.findIndex((a) => a.startsWith('--'));
  const ids = firstOption < 0 ? rest : rest.slice(0, firstOption);
  const argv = firstOption < 0 ? [] : rest.slice(firstOption);
  const asJson = takeFlag(argv, 'json', true) !== undefined;

  let create: { name: string; scopes: ApiKeyScope[]; expiresAt: string | null } | null = null;
  if (sub === 'create') {
    const name = takeFlag(argv, 'name');
    const scopes = takeFlag(argv, 'scopes');
    const expires = takeFlag(argv, 'expires');
    if (name === undefined) throw new ConfigError(`keys create: --name is required\n\n${KEYS_USAGE}`);
    if (scopes === undefined) throw new ConfigError(`keys create: --scopes is required\n\n${KEYS_USAGE}`);
    const problem = keyNameProblem(name);
    if (problem) throw new ConfigError(`keys create: ${problem}`);
    create = {
      name,
      scopes: parseScopes(scopes),
      expiresAt: expires === undefined ? null : parseExpiry(expires, now()),
    };
  } else if (sub === 'revoke') {
    if (ids.length === 0) throw new ConfigError(`keys revoke: which key?\n\n${KEYS_USAGE}`);
  } else if (sub !== 'list') {
    throw new ConfigError(`keys: unknown command "${sub ?? ''}"\n\n${KEYS_USAGE}`);
  }

  const config = loadConfig({ argv, env: io.env });
  const { openConfiguredStorage } = await import('../app.ts');
  const storage = await openConfiguredStorage(config);
  try {
    const keys = storage.apiKeys;
    if (create) {
      const issued = await issueApiKey((k, max) => keys.createApiKey(k, max), { ...create, now: now() });
      if (issued.outcome === 'limit') {
        io.err(`mailroom: ${MAX_ACTIVE_API_KEYS} keys are active already; revoke one first\n`);
        return 1;
      }
      if (asJson) {
        io.out(`${JSON.stringify({ ...json(issued.key, now()), key: issued.token }, null, 2)}\n`);
      } else {
        io.out(`${issued.token}\n`);
        io.err(
          `key ${issued.key.id} (${issued.key.scopes.join(', ')}) made; it is shown this once only, so keep it now\n`,
        );
      }
      return 0;
    }
    if (sub === 'list') {
      const at = now();
      const list: ApiKey[] = [];
      // Every key, a page at a time.
      for (let start = 0; ; start += 1000) {
        const page = await keys.apiKeys({ start, limit: 1000 });
        list.push(...page);
        if (page.length < 1000) break;
      }
      io.out(
        asJson
          ? `${JSON.stringify(
              list.map((k) => json(k, at)),
              null,
              2,
            )}\n`
          : list.map((k) => `${line(k, at)}\n`).join(''),
      );
      return 0;
    }
    let failed = 0;
    for (const id of ids) {
      const key = isApiKeyId(id) ? await keys.revokeApiKey(id, new Date(now()).toISOString()) : null;
      if (key) io.out(`${id}: revoked\n`);
      else {
        io.out(`${id}: no such key\n`);
        failed++;
      }
    }
    return failed > 0 ? 1 : 0;
  } finally {
    await storage.close();
  }
}
