// An Rspamd client over its HTTP protocol: `POST <base>/checkv2` with the raw message as the body
// and the SMTP context as request headers (IP, Helo, From, Rcpt, Deliver-To, User), answered with
// JSON (score, required_score, action, symbols). Meant for the normal worker (port 11333) or the
// proxy (11332); the controller (11334) answers too only where it needs no password, as none is sent.
//
// - Verdict: IsSpam when Rspamd's action is one that treats the message as spam: `reject`,
//   `add header`, `rewrite subject`, `discard` or `quarantine`. `no action`, `greylist` and
//   `soft reject` (a temporary failure, e.g. rate limits) are not spam.
// - Score is Rspamd's total; Rules are its symbols, highest score first (then by name), with the
//   symbol's options appended to its description in brackets.
// - Failures reject with a SpamCheckError (see types.ts).
import net from 'node:net';
import { startDeadline } from './deadline.ts';
import {
  SpamCheckError,
  type SpamChecker,
  type SpamContext,
  type SpamResult,
  type SpamRule,
} from './types.ts';

/** Actions whose meaning is "this message is spam". */
export const RSPAMD_SPAM_ACTIONS: ReadonlySet<string> = new Set([
  'reject',
  'add header',
  'rewrite subject',
  'discard',
  'quarantine',
]);

/** Options longer than this are cut in descriptions (URL lists can be long). */
const MAX_OPTIONS_TEXT = 200;

export interface RspamdOptions {
  /** Base URL of the worker, e.g. `http://127.0.0.1:11333` (a path prefix is kept). */
  url: string;
  /** Deadline for the whole check: connect, send, score, read the answer. */
  timeoutMs: number;
}

/** Scores messages with Rspamd's HTTP API. */
export class RspamdChecker implements SpamChecker {
  readonly engine = 'rspamd' as const;
  /** The `checkv2` endpoint under the base URL. */
  readonly endpoint: URL;
  readonly timeoutMs: number;

  constructor(options: RspamdOptions) {
    const base = new URL(options.url);
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.endpoint = new URL('checkv2', base);
    this.timeoutMs = options.timeoutMs;
  }

  async check(raw: Uint8Array, context: SpamContext, signal?: AbortSignal): Promise<SpamResult> {
    const deadline = startDeadline(this.timeoutMs, signal);
    const where = `rspamd at ${this.endpoint.origin}`;
    let status: number;
    let text: string;
    try {
      const response = await fetch(this.endpoint, {
        method: 'POST',
        headers: rspamdHeaders(context),
        body: raw as Uint8Array<ArrayBuffer>,
        redirect: 'error',
        signal: deadline.signal,
      });
      status = response.status;
      text = await response.text();
    } catch (err) {
      if (deadline.signal.aborted) {
        throw deadline.expired
          ? new SpamCheckError(this.engine, 'timeout', `${where} did not answer within ${this.timeoutMs} ms`)
          : new SpamCheckError(this.engine, 'aborted', `spam check aborted (${where})`);
      }
      throw new SpamCheckError(this.engine, 'unavailable', `cannot reach ${where}: ${fetchFailure(err)}`, {
        cause: err,
      });
    } finally {
      deadline.dispose();
    }
    if (status !== 200) {
      throw new SpamCheckError(
        this.engine,
        'protocol',
        `${where} answered HTTP ${status}${errorDetail(text) ? `: ${errorDetail(text)}` : ''}`,
      );
    }
    try {
      return parseRspamdReply(JSON.parse(text));
    } catch (err) {
      throw new SpamCheckError(
        this.engine,
        'protocol',
        `${where} sent an answer that is not a check result: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}

/**
 * Request headers carrying the SMTP context. Values come from the SMTP client, so control
 * characters are dropped (no header injection) and UTF-8 (SMTPUTF8 addresses) is sent as raw
 * bytes, which is how Rspamd reads it.
 */
export function rspamdHeaders(context: SpamContext): Headers {
  const headers = new Headers({ 'Content-Type': 'message/rfc822' });
  const put = (name: string, value: string | undefined | null): void => {
    const clean = headerValue(value);
    if (clean !== '') headers.append(name, clean);
  };
  const ip = clientIp(context.clientIp);
  if (ip) headers.set('IP', ip);
  put('Helo', context.helo);
  if (context.mailFrom === '') headers.set('From', '<>');
  else put('From', context.mailFrom);
  const rcpts = (context.rcptTo ?? []).map(headerValue).filter((r) => r !== '');
  for (const rcpt of rcpts) headers.append('Rcpt', rcpt);
  if (rcpts.length === 1) headers.set('Deliver-To', rcpts[0]!);
  put('User', context.authUser);
  return headers;
}

function headerValue(value: string | undefined | null): string {
  if (!value) return '';
  const printable = value.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return Buffer.from(printable, 'utf8').toString('latin1');
}

/** A valid IP address (IPv4-mapped IPv6 written as IPv4), or undefined. */
function clientIp(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(value);
  const ip = mapped ? mapped[1]! : value;
  return net.isIP(ip) ? ip : undefined;
}

interface RspamdSymbol {
  name?: unknown;
  score?: unknown;
  description?: unknown;
  options?: unknown;
}

/** Turns Rspamd's `checkv2` JSON into a result; throws an Error when the shape is wrong. */
export function parseRspamdReply(reply: unknown): SpamResult {
  if (typeof reply !== 'object' || reply === null) throw new Error('not a JSON object');
  const r = reply as { score?: unknown; action?: unknown; symbols?: unknown; error?: unknown };
  if (typeof r.error === 'string') throw new Error(`rspamd error: ${r.error}`);
  if (typeof r.score !== 'number' || !Number.isFinite(r.score)) throw new Error('no numeric "score"');
  if (typeof r.action !== 'string') throw new Error('no "action"');
  const symbols = r.symbols ?? {};
  if (typeof symbols !== 'object' || symbols === null) throw new Error('"symbols" is not an object');
  const rules: SpamRule[] = Object.entries(symbols as Record<string, RspamdSymbol>).map(([key, sym]) => ({
    Score: typeof sym?.score === 'number' && Number.isFinite(sym.score) ? sym.score : 0,
    Name: typeof sym?.name === 'string' && sym.name !== '' ? sym.name : key,
    Description: describe(sym),
  }));
  rules.sort((a, b) => b.Score - a.Score || (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  return {
    IsSpam: RSPAMD_SPAM_ACTIONS.has(r.action),
    Error: '',
    Score: r.score,
    Rules: rules,
    Engine: 'rspamd',
  };
}

/** `description [option, option]`, either part alone when the other is missing. */
function describe(sym: RspamdSymbol | undefined): string {
  const description = typeof sym?.description === 'string' ? sym.description.trim() : '';
  const options = Array.isArray(sym?.options) ? sym.options.filter((o) => typeof o === 'string') : [];
  if (options.length === 0) return description;
  let list = options.join(', ');
  if (list.length > MAX_OPTIONS_TEXT) list = `${list.slice(0, MAX_OPTIONS_TEXT)}...`;
  return description ? `${description} [${list}]` : `[${list}]`;
}

/** The `error` field of an Rspamd error body, or a short excerpt of a non-JSON one. */
function errorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body?.error === 'string') return body.error;
  } catch {
    // not JSON: fall through to the excerpt
  }
  const excerpt = text.replace(/\s+/g, ' ').trim();
  return excerpt.length > 120 ? `${excerpt.slice(0, 120)}...` : excerpt;
}

/** fetch() reports network failures as "fetch failed" with the useful part in `cause`. */
function fetchFailure(err: unknown): string {
  const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN') return 'cannot resolve host';
  return cause?.message || (err as Error).message || String(err);
}
