// Builds the frozen Config from defaults < config file < environment < flags.
// The only module that reads process.env (through the `env` parameter).
import fs from 'node:fs';
import { type Config, envName, flagName, SETTINGS, type Setting } from './schema.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1024,
  k: 1024,
  mb: 1024 ** 2,
  m: 1024 ** 2,
  gb: 1024 ** 3,
  g: 1024 ** 3,
};
const DURATION_UNITS: Record<string, number> = {
  '': 1,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

function describe(s: Setting): string {
  return `--${flagName(s.key)} (${envName(s.key)})`;
}

function parseNumberWithUnit(s: Setting, raw: string, units: Record<string, number>): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(raw);
  const unit = m ? units[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new ConfigError(
      `${describe(s)}: "${raw}" is not a ${s.type} (units: ${Object.keys(units).filter(Boolean).join(', ')})`,
    );
  }
  return Math.round(Number(m[1]) * unit);
}

/** Parses one raw value (string from env/flag, or JSON value from a file) for a setting. */
export function parseValue(s: Setting, raw: unknown): Config[keyof Config] {
  const text = Array.isArray(raw) ? raw.join(',') : String(raw);
  let value: string | number | boolean | string[];
  switch (s.type) {
    case 'string':
      value = text;
      break;
    case 'bool': {
      const t = text.toLowerCase();
      if (['true', '1', 'yes', 'on', ''].includes(t)) value = true;
      else if (['false', '0', 'no', 'off'].includes(t)) value = false;
      else throw new ConfigError(`${describe(s)}: "${text}" is not a boolean (true/false)`);
      break;
    }
    case 'int':
      if (!/^\s*-?\d+\s*$/.test(text))
        throw new ConfigError(`${describe(s)}: "${text}" is not a whole number`);
      value = Number(text);
      break;
    case 'size':
      value = parseNumberWithUnit(s, text, SIZE_UNITS);
      break;
    case 'duration':
      value = parseNumberWithUnit(s, text, DURATION_UNITS);
      break;
    case 'listen': {
      if (text === '') {
        value = '';
        break;
      }
      const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/i.exec(text);
      const port = m ? Number(m[3]) : -1;
      if (!m || port > 65535)
        throw new ConfigError(`${describe(s)}: "${text}" is not host:port (e.g. 127.0.0.1:1025)`);
      value = text;
      break;
    }
    case 'enum':
      if (!s.values?.includes(text))
        throw new ConfigError(`${describe(s)}: "${text}" is not one of ${s.values?.join(', ')}`);
      value = text;
      break;
    case 'list': {
      const items = text
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
      const bad = items.find((v) => s.values && !s.values.includes(v));
      if (bad !== undefined)
        throw new ConfigError(`${describe(s)}: "${bad}" is not one of ${s.values?.join(', ')}`);
      value = items;
      break;
    }
  }
  if (typeof value === 'number') {
    if (s.min !== undefined && value < s.min)
      throw new ConfigError(`${describe(s)}: ${text} is below the minimum ${s.min}`);
    if (s.max !== undefined && value > s.max)
      throw new ConfigError(`${describe(s)}: ${text} is above the maximum ${s.max}`);
  }
  return value as Config[keyof Config];
}

export interface LoadInput {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
}

/** Splits `--flag value`, `--flag=value` and bare boolean `--flag` into a map; `--config` names a JSON file. */
export function parseFlags(argv: readonly string[]): { flags: Map<string, string>; rest: string[] } {
  const flags = new Map<string, string>();
  const rest: string[] = [];
  const byFlag = new Map<string, Setting>(SETTINGS.map((s) => [flagName(s.key), s]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      rest.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (name !== 'config' && name !== 'help' && !byFlag.has(name))
      throw new ConfigError(`unknown option --${name}`);
    // A list given several times holds every value (`--inbox a --inbox b`), as if comma-joined.
    const set = (value: string) => {
      const before = flags.get(name);
      flags.set(
        name,
        before !== undefined && byFlag.get(name)?.type === 'list' ? `${before},${value}` : value,
      );
    };
    if (eq !== -1) set(arg.slice(eq + 1));
    else if (name === 'help' || byFlag.get(name)?.type === 'bool') {
      const next = argv[i + 1];
      if (next !== undefined && /^(true|false)$/i.test(next)) {
        flags.set(name, next);
        i++;
      } else flags.set(name, 'true');
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new ConfigError(`--${name} needs a value`);
      set(next);
      i++;
    }
  }
  return { flags, rest };
}

export function loadConfig(input: LoadInput): Config {
  const { flags } = parseFlags(input.argv);
  const configFile = flags.get('config') ?? input.env.MAILROOM_CONFIG;
  let file: Record<string, unknown> = {};
  if (configFile) {
    try {
      file = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`--config ${configFile}: ${(err as Error).message}`);
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) {
      throw new ConfigError(`--config ${configFile}: expected a JSON object of settings`);
    }
    const known = new Set(SETTINGS.flatMap((s) => [s.key, flagName(s.key)]));
    const unknown = Object.keys(file).find((k) => !known.has(k));
    if (unknown) throw new ConfigError(`--config ${configFile}: unknown setting "${unknown}"`);
  }
  const out: Record<string, unknown> = {};
  const sources: Record<string, 'default' | 'file' | 'env' | 'flag'> = {};
  for (const s of SETTINGS as readonly Setting[]) {
    const flag = flags.get(flagName(s.key));
    const env = input.env[envName(s.key)];
    const fromFile = file[s.key] ?? file[flagName(s.key)];
    if (flag !== undefined) {
      out[s.key] = parseValue(s, flag);
      sources[s.key] = 'flag';
    } else if (env !== undefined) {
      out[s.key] = parseValue(s, env);
      sources[s.key] = 'env';
    } else if (fromFile !== undefined) {
      out[s.key] = parseValue(s, fromFile);
      sources[s.key] = 'file';
    } else {
      out[s.key] = Array.isArray(s.default) ? [...s.default] : s.default;
      sources[s.key] = 'default';
    }
  }
  if (out.databaseUrl && !/^postgres(ql)?:\/\//.test(String(out.databaseUrl))) {
    throw new ConfigError(
      '--database-url (MAILROOM_DATABASE_URL): only postgres:// or postgresql:// URLs are supported',
    );
  }
  if (Boolean(out.tlsCert) !== Boolean(out.tlsKey)) {
    throw new ConfigError('--tls-cert and --tls-key must be given together');
  }
  out.sources = Object.freeze(sources);
  return Object.freeze(out) as Config;
}

/** Help text for `mailroom start --help`, generated from the schema. */
export function helpText(): string {
  const lines = [
    'Usage: mailroom start [options]',
    '',
    'Options (each also as an env var, or a key in --config FILE.json):',
    '',
  ];
  for (const s of SETTINGS as readonly Setting[]) {
    const def = Array.isArray(s.default) ? s.default.join(',') : String(s.default);
    lines.push(
      `  --${flagName(s.key)} <${s.type}>  [${envName(s.key)}]  default: ${def === '' ? '(empty)' : def}`,
    );
    lines.push(`      ${s.doc}`);
  }
  lines.push(
    '  --config <file>  [MAILROOM_CONFIG]',
    '      JSON file of settings (flag or camelCase names).',
  );
  return lines.join('\n');
}

/** Markdown reference, written to docs/config.md by `npm run docs:config`. */
export function configMarkdown(): string {
  const rows = (SETTINGS as readonly Setting[]).map((s) => {
    const def = Array.isArray(s.default) ? s.default.join(',') : String(s.default);
    const shown =
      s.key === 'smtpHostname'
        ? '(host name)'
        : s.key === 'parseWorkers'
          ? '(cores − 1, 1 to 4)'
          : def || '(empty)';
    return `| \`--${flagName(s.key)}\` | \`${envName(s.key)}\` | ${s.type} | \`${shown}\` | ${s.doc} |`;
  });
  return [
    '# Configuration reference',
    '',
    'Generated from `src/config/schema.ts` by `npm run docs:config`; do not edit by hand.',
    '',
    'Precedence: command-line flag, then environment variable, then the JSON file named by `--config`',
    '(keys in flag or camelCase form), then the default. Sizes take KB/MB/GB suffixes, durations ms/s/m/h/d.',
    'An invalid value stops start-up with a message naming the setting. A list is comma-separated;',
    'a list flag given several times holds every value (`--inbox a --inbox b` is `--inbox a,b`).',
    '',
    '| flag | env var | type | default | meaning |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
