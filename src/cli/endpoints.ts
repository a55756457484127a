// Where the client commands (wait, sendmail) find a running Mailroom: the listen addresses of the
// configuration, turned into addresses one can connect to.
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';

/** "host:port" or "[v6]:port" → parts; an empty or wildcard host means this machine's loopback. */
export function connectable(listen: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen.trim());
  if (!m) return null;
  return { host: reachable(m[1] ?? m[2] ?? ''), port: Number(m[3]) };
}

/** A listening address as one connects to it: the wildcard addresses mean this machine's loopback. */
export function reachable(host: string): string {
  return host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
}

/** `http://host:port` with an IPv6 address in brackets. */
export function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The configuration (defaults, --config or MAILROOM_CONFIG, MAILROOM_* variables) without flags. */
export function clientConfig(env: NodeJS.ProcessEnv, configFile?: string): Config {
  return loadConfig({ argv: configFile ? ['--config', configFile] : [], env });
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/i;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}
