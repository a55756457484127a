// `mailroom sendmail`: a sendmail-compatible command for applications that hand their mail to
// /usr/sbin/sendmail (PHP's mail(), cron, many frameworks). It reads one message on standard input
// and submits it over SMTP to a running Mailroom, answering with sendmail's exit codes
// (sysexits.h), so the caller learns whether the mail was taken.
import os from 'node:os';
import { ConfigError } from '../config/load.ts';
import { checkAddress } from '../outbound/addresses.ts';
import { deliverOverSmtp, SmtpAttemptError, type TlsMode } from '../outbound/smtp-client.ts';
import type { RecipientResult } from '../outbound/transport.ts';
import { clientConfig, connectable, isLoopback } from './endpoints.ts';
import { prepareMessage } from './sendmail-message.ts';

/** sysexits.h */
export const EX = {
  OK: 0,
  USAGE: 64,
  DATAERR: 65,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  IOERR: 74,
  TEMPFAIL: 75,
  NOPERM: 77,
  CONFIG: 78,
} as const;

export const SENDMAIL_USAGE = `Usage:
  mailroom sendmail [-t] [-i] [-oi] [-f sender] [-F "Full Name"] [--host H] [--port P]
                    [--tls opportunistic|starttls|implicit|none] [recipient...] < message

Reads one message on standard input and submits it over SMTP to Mailroom (by default the
configured --smtp-listen on this machine: 127.0.0.1:1025 unless MAILROOM_SMTP_LISTEN or the
MAILROOM_CONFIG file say otherwise).

  -t        recipients from To, Cc and Bcc, or the Resent- ones when there are any (added to
            any given here); the Bcc fields are removed
  -i, -oi   a line with a single dot does not end the message
  -f, -r    envelope sender (default: the login name at this host's name; '<>' for none)
  -F        full name for the From field added when the message has none
  --host, --port, --tls   where and how to connect (TLS certificates are checked except on loopback)
  Other sendmail options (-o..., -v, -bm, -N, -B, -R, -V) are accepted and ignored.

AUTH: set MAILROOM_SENDMAIL_USER and MAILROOM_SENDMAIL_PASSWORD (never on the command line).
Missing From, Date and Message-ID fields are added.

Exit status (sysexits): 0 taken for every recipient; 64 usage (bad option, no recipient);
65 the message or an address cannot be read; 69 refused for good (5xx) for some recipient;
70 an internal error; 74 standard input could not be read; 75 try again later (no connection,
4xx); 77 AUTH refused; 78 nowhere to connect to (no SMTP listener configured).
`;

export interface SendmailIo {
  stdin: AsyncIterable<Uint8Array>;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** The login name for the default sender; os.userInfo() otherwise. */
  user?: () => string;
  hostname?: string;
  now?: () => number;
}

interface Options {
  fromHeaders: boolean;
  ignoreDots: boolean;
  sender: string | null;
  fullName: string;
  recipients: string[];
  host: string | null;
  port: number | null;
  tls: TlsMode;
}

class UsageError extends Error {}

const TLS_MODES: readonly string[] = ['opportunistic', 'starttls', 'implicit', 'none'];
/** Options whose value follows them, stuck on (-fann@x) or as the next word. */
const WITH_VALUE = new Set(['f', 'r', 'F', 'N', 'B', 'R', 'V', 'o', 'b']);

function parseLongOption(o: Options, name: string, value: string | undefined): void {
  if (value === undefined) throw new UsageError(`--${name} needs a value`);
  if (name === 'host') o.host = value;
  else if (name === 'port') {
    if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new UsageError(`--port ${value}?`);
    o.port = Number(value);
  } else if (name === 'tls') {
    if (!TLS_MODES.includes(value)) throw new UsageError(`--tls is one of ${TLS_MODES.join(', ')}`);
    o.tls = value as TlsMode;
  } else throw new UsageError(`unknown option --${name}`);
}

function applyValue(o: Options, flag: string, value: string): void {
  if (flag === 'f' || flag === 'r') o.sender = value;
  else if (flag === 'F') o.fullName = value;
  else if (flag === 'o' && (value === 'i' || value.startsWith('i '))) o.ignoreDots = true;
  else if (flag === 'b' && value !== 'm')
    throw new UsageError(`-b${value}: only -bm (send a message) is supported`);
  // -N, -B, -R, -V and other -o options change nothing here.
}

/** sendmail's getopt: flags may be bundled (-ti), values stuck on (-fann@x) or separate. */
function parseArgs(args: string[]): Options {
  const o: Options = {
    fromHeaders: false,
    ignoreDots: false,
    sender: null,
    fullName: '',
    recipients: [],
    host: null,
    port: null,
    tls: 'opportunistic',
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      o.recipients.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) parseLongOption(o, arg.slice(2, eq), arg.slice(eq + 1));
      else parseLongOption(o, arg.slice(2), args[++i]);
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      o.recipients.push(arg);
      continue;
    }
    for (let k = 1; k < arg.length; k++) {
      const flag = arg[k]!;
      if (WITH_VALUE.has(flag)) {
        const value = k + 1 < arg.length ? arg.slice(k + 1) : args[++i];
        if (value === undefined) throw new UsageError(`-${flag} needs a value`);
        applyValue(o, flag, value);
        break;
      }
      if (flag === 't') o.fromHeaders = true;
      else if (flag === 'i') o.ignoreDots = true;
      else if (flag !== 'v') throw new UsageError(`unknown option -${flag}`);
    }
  }
  return o;
}

async function readAll(stdin: AsyncIterable<Uint8Array>, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    size += chunk.byteLength;
    if (size > max) return null;
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** The exit status for the recipients' outcomes: the worst of them. */
function exitFor(failed: readonly RecipientResult[]): number {
  if (failed.length === 0) return EX.OK;
  const codes = failed.map((r) => Number(/^\d{3}/.exec(r.reply.trim())?.[0] ?? 0));
  // 530 authentication required, 534/538 mechanism or encryption needed, 535 credentials refused.
  if (codes.some((c) => [530, 534, 535, 538].includes(c))) return EX.NOPERM;
  return codes.some((c) => c >= 500) ? EX.UNAVAILABLE : EX.TEMPFAIL;
}

function checked(addresses: readonly string[], what: string): string | null {
  for (const a of addresses) {
    const r = checkAddress(a);
    if (!r.ok) return `${what} "${a}" ${r.problem}`;
  }
  return null;
}

/** As sendmail: the login name at this host; without a login name, the From address. */
function defaultSender(io: SendmailIo, hostname: string, headerFrom: string | null): string {
  let login = '';
  try {
    login = (io.user ?? (() => os.userInfo().username))();
  } catch {
    // No passwd entry (a container's arbitrary user id).
  }
  return login ? `${login}@${hostname}` : (headerFrom ?? `mailroom@${hostname}`);
}

/** Ends the call with this exit status and message. */
class Exit extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/** Where to connect: --host and --port, else the configured SMTP listener; and the size limit. */
function destination(o: Options, env: NodeJS.ProcessEnv): { host: string; port: number; maxBytes: number } {
  let config: ReturnType<typeof clientConfig>;
  try {
    config = clientConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new Exit(EX.CONFIG, err.message);
    throw err;
  }
  const listen = connectable(config.smtpListen);
  const port = o.port ?? listen?.port;
  if (port === undefined) throw new Exit(EX.CONFIG, 'no SMTP listener is configured; give --port');
  return { host: o.host ?? listen?.host ?? '127.0.0.1', port, maxBytes: config.maxMessageSize };
}

async function readMessage(stdin: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer> {
  let input: Buffer | null;
  try {
    input = await readAll(stdin, maxBytes);
  } catch (err) {
    throw new Exit(EX.IOERR, `reading standard input: ${(err as Error).message}`);
  }
  if (input === null) throw new Exit(EX.DATAERR, `the message is larger than ${maxBytes} bytes`);
  if (input.length === 0) throw new Exit(EX.DATAERR, 'no message on standard input');
  return input;
}

/** The recipients named on the command line (commas allowed) and, with -t, in the header. */
function recipientsOf(o: Options, fromHeader: readonly string[]): string[] {
  const named = o.recipients.flatMap((r) => r.split(',').map((a) => a.trim())).filter(Boolean);
  const recipients = [...new Set([...named, ...fromHeader])];
  if (recipients.length === 0) {
    throw new Exit(
      EX.USAGE,
      o.fromHeaders ? 'the message names no recipient in To, Cc or Bcc' : 'no recipient given',
    );
  }
  const problem = checked(recipients, 'recipient');
  if (problem) throw new Exit(EX.DATAERR, problem);
  return recipients;
}

async function call(args: string[], io: SendmailIo): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(args);
  } catch (err) {
    if (err instanceof UsageError) throw new Exit(EX.USAGE, `${err.message}\n\n${SENDMAIL_USAGE}`);
    throw err;
  }
  const { host, port, maxBytes } = destination(o, io.env);
  const hostname = io.hostname ?? os.hostname();
  const given = o.sender?.replace(/^<(.*)>$/, '$1');
  const problem = given ? checked([given], 'sender') : null;
  if (problem) throw new Exit(EX.USAGE, problem);
  const prepared = prepareMessage(await readMessage(io.stdin, maxBytes), {
    fromHeaders: o.fromHeaders,
    ignoreDots: o.ignoreDots,
    sender: (headerFrom) => given ?? defaultSender(io, hostname, headerFrom),
    fullName: o.fullName,
    hostname,
    now: new Date((io.now ?? Date.now)()),
  });
  const recipients = recipientsOf(o, prepared.headerRecipients);
  const user = io.env.MAILROOM_SENDMAIL_USER;
  const auth = user ? { user, pass: io.env.MAILROOM_SENDMAIL_PASSWORD ?? '' } : undefined;
  try {
    const result = await deliverOverSmtp(
      { host, port, tls: o.tls, heloName: hostname, verifyTls: !isLoopback(host), ...(auth ? { auth } : {}) },
      { mailFrom: prepared.sender, recipients, raw: prepared.raw },
      { limits: { connectMs: 10_000, socketMs: 60_000, attemptMs: 300_000, maxReadBytes: 1024 * 1024 } },
    );
    const failed = result.results.filter((r) => r.outcome !== 'delivered');
    for (const r of failed) io.err(`mailroom sendmail: ${r.address}: ${r.reply}\n`);
    return exitFor(failed);
  } catch (err) {
    if (err instanceof SmtpAttemptError) throw new Exit(EX.TEMPFAIL, `${host}:${port}: ${err.message}`);
    throw err;
  }
}

/** Runs one sendmail call; returns its exit status. */
export async function runSendmail(args: string[], io: SendmailIo): Promise<number> {
  try {
    return await call(args, io);
  } catch (err) {
    io.err(`mailroom sendmail: ${(err as Error).message}\n`);
    // Anything unforeseen is ours (EX_SOFTWARE), never a reason to retry or to blame the message.
    return err instanceof Exit ? err.code : EX.SOFTWARE;
  }
}
