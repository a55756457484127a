// Release (testing tools): a captured message sent on to a real SMTP server, as Mailpit's
// "release" does, for the moment a tester wants to see it in a real mailbox. One SMTP transaction
// over the outbound client (./smtp-client.ts) to the configured server, for recipients the
// allow and block lists admit, with the stored bytes unchanged except two header edits: Bcc
// fields are dropped (a relayed Bcc would tell every recipient who else got it) and, with
// --release-from, From is rewritten. Each attempt is recorded on the message as an event.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { globMatch } from '../routing/glob.ts';
import type { InboundEventInput, InboundStore } from '../storage/inbound-ports.ts';
import { checkAddress } from './addresses.ts';
import { deliverOverSmtp, type SmtpLimits, type SmtpTarget, type TlsMode } from './smtp-client.ts';
import type { RecipientResult, TransportResult } from './transport.ts';

/** One entry of --release-allow or --release-block. */
export interface RecipientPattern {
  text: string;
  test(address: string): boolean;
}

export interface ReleaseSettings {
  target: SmtpTarget;
  allow: readonly RecipientPattern[];
  block: readonly RecipientPattern[];
  /** --release-from: From and envelope sender of every released message; null keeps them. */
  from: string | null;
  limits: SmtpLimits;
}

/**
 * An HTTP request waits for the whole transaction, so the deadlines are far shorter than the
 * queue's (which allow a slow server ten minutes): a server that does not answer within these
 * is reported as a failure the tester can retry.
 */
export const RELEASE_LIMITS: SmtpLimits = {
  connectMs: 15_000,
  socketMs: 60_000,
  attemptMs: 120_000,
  maxReadBytes: 1024 * 1024,
};

/** `/regex/flags` is a regular expression (searched in the address); anything else a glob on the whole address. */
export function parsePattern(text: string): RecipientPattern {
  const re = /^\/(.+)\/([a-z]*)$/.exec(text);
  if (!re) return { text, test: (address) => globMatch(text, address) };
  let compiled: RegExp;
  try {
    // No g or y: test() would then depend on the previous call.
    if (/[gy]/.test(re[2]!)) throw new Error('the g and y flags are not allowed');
    compiled = new RegExp(re[1]!, re[2]);
  } catch (err) {
    throw new Error(`${text} is not a valid regular expression: ${(err as Error).message}`);
  }
  return { text, test: (address) => compiled.test(address) };
}

function patternsOf(setting: string, list: readonly string[]): RecipientPattern[] {
  return list.map((p) => {
    try {
      return parsePattern(p);
    } catch (err) {
      throw new ConfigError(`${setting}: ${(err as Error).message}`);
    }
  });
}

function passwordOf(config: Config, readFile: (file: string) => string): string {
  if (config.releasePassword && config.releasePasswordFile)
    throw new ConfigError('give --release-password or --release-password-file, not both');
  if (!config.releasePasswordFile) return config.releasePassword;
  try {
    return readFile(config.releasePasswordFile).split(/\r?\n/)[0] ?? '';
  } catch (err) {
    // The error names the file and what went wrong, never its content.
    throw new ConfigError(`--release-password-file: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}

/** The release settings, checked; null when --release-host is not set (release is off). */
export function releaseFromConfig(
  config: Config,
  readFile: (file: string) => string = (f) => fs.readFileSync(f, 'utf8'),
): ReleaseSettings | null {
  if (!config.releaseHost) return null;
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(config.releaseHost);
  if (!m) throw new ConfigError('--release-host: give the release server as host:port');
  const password = passwordOf(config, readFile);
  if (password && !config.releaseUser)
    throw new ConfigError('--release-password needs --release-user (the user name for AUTH)');
  if (config.releaseUser && !password)
    throw new ConfigError('--release-user needs --release-password or --release-password-file');
  let from: string | null = null;
  if (config.releaseFrom) {
    const checked = checkAddress(config.releaseFrom);
    if (!checked.ok) throw new ConfigError(`--release-from ${checked.problem}`);
    from = checked.value.address;
  }
  return {
    target: {
      host: m[1] ?? m[2]!,
      port: Number(m[3]),
      // The config loader only admits the enum's values.
      tls: config.releaseTls as TlsMode,
      heloName: config.smtpHostname,
      verifyTls: config.releaseVerifyTls,
      ...(config.releaseUser ? { auth: { user: config.releaseUser, pass: password } } : {}),
    },
    allow: patternsOf('--release-allow', config.releaseAllow),
    block: patternsOf('--release-block', config.releaseBlock),
    from,
    limits: RELEASE_LIMITS,
  };
}

export interface Screened {
  /** Plain addresses, each once, in the order given. */
  accepted: string[];
  refused: { address: string; reason: string }[];
}

/** Takes `a@b`, `<a@b>` or `Name <a@b>` (as Mailpit does) and judges each by address and lists. */
export function screenRecipients(settings: Pick<ReleaseSettings, 'allow' | 'block'>, to: string[]): Screened {
  const out: Screened = { accepted: [], refused: [] };
  const seen = new Set<string>();
  for (const given of to) {
    const bracketed = /^[^<>]*<([^<>]*)>\s*$/.exec(given);
    const checked = checkAddress(bracketed ? bracketed[1]!.trim() : given.trim());
    if (!checked.ok) {
      out.refused.push({ address: given, reason: `is not a plain address: it ${checked.problem}` });
      continue;
    }
    const address = checked.value.address;
    const blocked = settings.block.find((p) => p.test(address));
    if (blocked) out.refused.push({ address, reason: `matches the block list (${blocked.text})` });
    else if (settings.allow.length > 0 && !settings.allow.some((p) => p.test(address)))
      out.refused.push({ address, reason: 'matches nothing in the allow list' });
    else if (!seen.has(address.toLowerCase())) {
      seen.add(address.toLowerCase());
      out.accepted.push(address);
    }
  }
  return out;
}

/** The stored bytes with Bcc fields dropped and, when `from` is given, From rewritten to it. */
export function prepareForRelease(raw: Uint8Array, from: string | null): Buffer {
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const rest = end < 0 ? '' : text.slice(end);
  // One entry per field: a line that starts with white space continues the field above (RFC 5322 §2.2.3).
  const fields = head.split(/\r\n(?![ \t])/);
  const name = (field: string) => field.slice(0, field.indexOf(':')).trim().toLowerCase();
  const kept: string[] = [];
  let fromWritten = false;
  for (const field of fields) {
    const n = name(field);
    if (n === 'bcc') continue;
    if (from !== null && n === 'from') {
      if (!fromWritten) kept.push(`From: ${from}`);
      fromWritten = true;
      continue;
    }
    kept.push(field);
  }
  if (from !== null && !fromWritten) kept.unshift(`From: ${from}`);
  return Buffer.from(kept.join('\r\n') + rest, 'latin1');
}

export interface ReleaseOutcome {
  /** Every recipient took the message. */
  ok: boolean;
  mailFrom: string;
  results: RecipientResult[];
  /** The server's last reply, or why there was no conversation. */
  reply: string;
  /** Why the event could not be stored, or null; the message has gone out either way. */
  recordError: string | null;
}

export type SendOverSmtp = (
  target: SmtpTarget,
  message: { mailFrom: string; recipients: string[]; raw: Uint8Array },
  options: { limits: SmtpLimits },
) => Promise<TransportResult>;

export interface ReleaseDeps {
  settings: ReleaseSettings;
  events: Pick<InboundStore, 'addInboundEvents'>;
  now: () => number;
  send?: SendOverSmtp;
}

/** Sends a stored message on and records the attempt as release:succeeded or release:failed. */
export class Releaser {
  private readonly deps: ReleaseDeps;
  private readonly send: SendOverSmtp;

  constructor(deps: ReleaseDeps) {
    this.deps = deps;
    this.send = deps.send ?? deliverOverSmtp;
  }

  get settings(): ReleaseSettings {
    return this.deps.settings;
  }

  async release(
    message: { id: string; mailFrom: string; raw: Uint8Array },
    recipients: string[],
  ): Promise<ReleaseOutcome> {
    const { settings } = this.deps;
    const mailFrom = settings.from ?? message.mailFrom;
    const raw = prepareForRelease(message.raw, settings.from);
    let outcome: ReleaseOutcome;
    try {
      const r = await this.send(settings.target, { mailFrom, recipients, raw }, { limits: settings.limits });
      const ok = r.results.every((x) => x.outcome === 'delivered');
      outcome = { ok, mailFrom, results: r.results, reply: r.reply, recordError: null };
    } catch (err) {
      // No conversation at all (refused connection, TLS, deadline): nobody got it.
      const reply = (err as Error).message;
      outcome = {
        ok: false,
        mailFrom,
        results: recipients.map((address) => ({ address, outcome: 'deferred', reply })),
        reply,
        recordError: null,
      };
    }
    try {
      await this.deps.events.addInboundEvents(
        [this.event(message.id, outcome)],
        new Date(this.deps.now()).toISOString(),
      );
    } catch (err) {
      // The message went out: failing the request now would invite a second release.
      outcome.recordError = (err as Error).message;
    }
    return outcome;
  }

  private event(messageId: string, o: ReleaseOutcome): InboundEventInput {
    const { target, from } = this.deps.settings;
    return {
      // Each release is an event of its own, even of the same message to the same address.
      id: `release:${messageId}:${randomUUID()}`,
      type: o.ok ? 'release:succeeded' : 'release:failed',
      messageId,
      routeId: null,
      data: {
        Server: `${target.host}:${target.port}`,
        MailFrom: o.mailFrom,
        FromRewritten: from !== null,
        Reply: o.reply,
        Recipients: o.results.map((r) => ({ Address: r.address, Outcome: r.outcome, Reply: r.reply })),
      },
    };
  }
}
