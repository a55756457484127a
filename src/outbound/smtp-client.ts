// One SMTP transaction to a remote server, with nodemailer's SMTPConnection doing the protocol
// (EHLO, STARTTLS, AUTH, pipelining, dot-stuffing) and this module deciding what the remote's
// replies mean for each recipient. Remote servers may be hostile or broken: every attempt has an
// overall deadline and a cap on the bytes it will read, so a tarpit or an endless multi-line
// reply ends the attempt (deferred) instead of holding a worker slot or growing memory.
//
// Internationalized mail (RFC 6531): an envelope domain goes out as A-labels, which any server
// takes; a non-ASCII local part, or UTF-8 in an address header, needs the server's SMTPUTF8. A
// server that does not offer it is not sent such a message at all (RFC 6531 §3.2): those
// recipients fail for good with a reply of our own, before MAIL FROM.
import net from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { checkAddress } from './addresses.ts';
import type { RecipientResult, TransportResult } from './transport.ts';

export type TlsMode = 'implicit' | 'starttls' | 'opportunistic' | 'none';

export interface SmtpTarget {
  host: string;
  port: number;
  tls: TlsMode;
  /** The name we give in EHLO. */
  heloName: string;
  auth?: { user: string; pass: string };
  /** Check the server's certificate against `host` (off only for test servers). */
  verifyTls: boolean;
  /** The name the certificate is checked against (and sent as SNI) when `host` is an address. */
  servername?: string;
}

export interface SmtpLimits {
  connectMs: number;
  /** Inactivity on an open connection. */
  socketMs: number;
  /** The whole attempt, connection to QUIT. */
  attemptMs: number;
  /** Bytes read from the server in one attempt: replies are short, a flood is not SMTP. */
  maxReadBytes: number;
}

export const DEFAULT_SMTP_LIMITS: SmtpLimits = {
  connectMs: 30_000,
  socketMs: 300_000,
  attemptMs: 600_000,
  maxReadBytes: 1024 * 1024,
};

export interface SmtpMessage {
  mailFrom: string;
  recipients: string[];
  raw: Uint8Array;
}

/** What a reply means for a recipient; the bounce rules refine this (classify). */
export type Classify = (reply: string) => 'deferred' | 'bounced';

/** RFC 5321 §4.2.1: 4yz is a transient failure, 5yz permanent; anything else (no reply) transient. */
export const byReplyCode: Classify = (reply) => (/^5\d\d/.test(reply.trim()) ? 'bounced' : 'deferred');

/** Thrown when the attempt could not be made at all (connection, TLS, deadline): every recipient waits. */
export class SmtpAttemptError extends Error {}

function openSocket(target: SmtpTarget, limits: SmtpLimits, onFlood: () => void): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port });
    let read = 0;
    socket.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > limits.maxReadBytes) onFlood();
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SmtpAttemptError(`connecting to ${target.host}:${target.port} timed out`));
    }, limits.connectMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new SmtpAttemptError(`connecting to ${target.host}:${target.port}: ${err.message}`));
    });
  });
}

function connectionOptions(
  target: SmtpTarget,
  limits: SmtpLimits,
  socket: net.Socket,
): SMTPConnection.Options {
  return {
    host: target.host,
    port: target.port,
    connection: socket,
    secure: target.tls === 'implicit',
    requireTLS: target.tls === 'starttls',
    ignoreTLS: target.tls === 'none',
    opportunisticTLS: target.tls === 'opportunistic',
    name: target.heloName,
    greetingTimeout: limits.socketMs,
    socketTimeout: limits.socketMs,
    tls: {
      servername: target.servername ?? (net.isIP(target.host) ? undefined : target.host),
      rejectUnauthorized: target.verifyTls,
    },
    logger: false,
  };
}

type RecipientError = SMTPConnection.SMTPError & { recipient?: string };

function allDeferred(recipients: string[], reply: string): TransportResult {
  return { results: recipients.map((address) => ({ address, outcome: 'deferred', reply })), reply };
}

/**
 * The RCPT refusals of the transaction. An error for the whole envelope carries them; a refusal
 * after DATA does not, so they are read from the connection's envelope (nodemailer keeps them
 * there; the SMTP client tests fail if that ever changes).
 */
function rcptRefusals(err: SMTPConnection.SMTPError, conn: SMTPConnection | null): RecipientError[] {
  const own = (err as { rejectedErrors?: RecipientError[] }).rejectedErrors;
  if (own?.length) return own;
  const kept = conn as unknown as { _envelope?: { rejectedErrors?: RecipientError[] } } | null;
  return kept?._envelope?.rejectedErrors ?? [];
}

/** Results for every recipient from a failed send: per-recipient RCPT replies, else the one reply. */
function fromError(
  err: SMTPConnection.SMTPError,
  recipients: string[],
  classify: Classify,
  conn: SMTPConnection | null,
): TransportResult {
  const reply = err.response ?? `451 4.4.0 ${err.message}`;
  const perRecipient = new Map<string, string>();
  for (const r of rcptRefusals(err, conn)) {
    if (r.recipient) perRecipient.set(r.recipient, r.response ?? reply);
  }
  // A reply with a code is the remote's verdict; no code (a dropped connection mid-DATA) is ours.
  const verdict = err.responseCode ? classify(reply) : 'deferred';
  const results: RecipientResult[] = recipients.map((address) => {
    const own = perRecipient.get(address);
    return own ? { address, outcome: classify(own), reply: own } : { address, outcome: verdict, reply };
  });
  return { results, reply };
}

function fromInfo(
  info: SMTPConnection.SentMessageInfo,
  recipients: string[],
  classify: Classify,
): TransportResult {
  const rejected = new Map<string, string>();
  for (const r of (info.rejectedErrors ?? []) as (SMTPConnection.SMTPError & { recipient?: string })[]) {
    if (r.recipient) rejected.set(r.recipient, r.response ?? info.response);
  }
  const results: RecipientResult[] = recipients.map((address) => {
    const refusal = rejected.get(address);
    return refusal
      ? { address, outcome: classify(refusal), reply: refusal }
      : { address, outcome: 'delivered', reply: info.response };
  });
  return { results, reply: info.response };
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * An envelope address as sent: a domain in Unicode (U-labels) as A-labels (RFC 5890), so that it
 * needs no SMTPUTF8. An ASCII domain, or an address that does not check, goes as it is.
 */
export function wireAddress(address: string): string {
  const domain = address.slice(address.lastIndexOf('@') + 1);
  if (!address.includes('@') || !NON_ASCII.test(domain)) return address;
  const checked = checkAddress(address);
  return checked.ok ? checked.value.address : address;
}

/** The header fields that hold addresses (RFC 5322 §3.6.2, §3.6.3, §3.6.6). */
const ADDRESS_FIELDS = /^(?:from|sender|reply-to|to|cc|bcc|resent-(?:from|sender|to|cc|bcc)):/i;

/** Some address header of the message holds UTF-8 (RFC 6532), which only SMTPUTF8 may carry. */
export function utf8InAddressHeaders(raw: Uint8Array): boolean {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const end = bytes.indexOf('\r\n\r\n');
  const head = bytes.subarray(0, end < 0 ? bytes.length : end).toString('latin1');
  if (!NON_ASCII.test(head)) return false;
  // One entry per field: a folded line belongs to the field above it.
  return head.split(/\r\n(?![ \t])/).some((field) => ADDRESS_FIELDS.test(field) && NON_ASCII.test(field));
}

/** Our reply for a recipient not sent to a server without SMTPUTF8 (RFC 6531 §3.2; X.6.7 of RFC 5248). */
export function noSmtpUtf8Reply(what: string): string {
  return `553 5.6.7 remote server does not support SMTPUTF8 (RFC 6531), needed for ${what}`;
}

/**
 * Whether the server's EHLO advertised an extension. nodemailer keeps the list on the connection
 * without exporting it; the SMTPUTF8 tests fail if that ever changes.
 */
function advertises(conn: SMTPConnection, extension: string): boolean {
  const kept = (conn as unknown as { _supportedExtensions?: string[] })._supportedExtensions;
  return kept?.includes(extension) ?? false;
}

/**
 * Makes MAIL FROM carry SMTPUTF8. nodemailer adds it itself only for a non-ASCII envelope
 * address, not for UTF-8 in the headers alone; it writes every command through _sendCommand.
 */
function requestSmtpUtf8(conn: SMTPConnection): void {
  const c = conn as unknown as { _sendCommand(command: string, log?: string): void };
  const send = c._sendCommand.bind(conn);
  c._sendCommand = (command, log) =>
    send(
      /^MAIL FROM:/i.test(command) && !/ SMTPUTF8\b/i.test(command) ? `${command} SMTPUTF8` : command,
      log,
    );
}

/** How one transaction goes with this server, as far as SMTPUTF8 is concerned. */
interface Utf8Plan {
  /** MAIL FROM as sent (domain as A-labels). */
  mailFrom: string;
  /** The recipients sent to: the address on the wire, and its place in the job. */
  sent: { wire: string; index: number }[];
  /** The results of the recipients this server is not sent, by their place in the job. */
  refused: Map<number, RecipientResult>;
  /** MAIL FROM must carry the SMTPUTF8 parameter. */
  param: boolean;
}

/**
 * Without SMTPUTF8 nothing that needs it is sent (RFC 6531 §3.2): a recipient whose local part is
 * not ASCII fails here, and so does every recipient when the sender or an address header needs it.
 */
function planUtf8(message: SmtpMessage, offered: boolean): Utf8Plan {
  const mailFrom = wireAddress(message.mailFrom);
  const whole = NON_ASCII.test(mailFrom)
    ? 'the sender address'
    : utf8InAddressHeaders(message.raw)
      ? 'an address header'
      : null;
  const plan: Utf8Plan = { mailFrom, sent: [], refused: new Map(), param: false };
  message.recipients.forEach((address, index) => {
    const wire = wireAddress(address);
    const needs = whole !== null || NON_ASCII.test(wire);
    if (needs && !offered) {
      const reply = noSmtpUtf8Reply(whole ?? 'the recipient address');
      plan.refused.set(index, { address, outcome: 'bounced', reply });
      return;
    }
    plan.param ||= needs;
    plan.sent.push({ wire, index });
  });
  return plan;
}

/** Every recipient's result: the server's for those sent (told by the job's address), else ours. */
function combine(message: SmtpMessage, plan: Utf8Plan, remote: TransportResult | null): TransportResult {
  const answered = new Map(plan.sent.map((s, k) => [s.index, remote?.results[k]]));
  const results = message.recipients.map((address, i): RecipientResult => {
    const r = plan.refused.get(i) ?? answered.get(i)!;
    return { ...r, address };
  });
  return { results, reply: remote?.reply ?? results[0]?.reply ?? '' };
}

/**
 * Runs one transaction. Resolves with a result for every recipient whenever the remote answered;
 * rejects with SmtpAttemptError when there was no conversation to speak of.
 */
export async function deliverOverSmtp(
  target: SmtpTarget,
  message: SmtpMessage,
  options: { limits?: SmtpLimits; classify?: Classify; signal?: AbortSignal } = {},
): Promise<TransportResult> {
  const limits = options.limits ?? DEFAULT_SMTP_LIMITS;
  const classify = options.classify ?? byReplyCode;
  let conn: SMTPConnection | null = null;
  let socket: net.Socket | null = null;
  let abandon: (why: string) => void = () => {};
  const abandoned = new Promise<never>((_, reject) => {
    abandon = (why) => {
      conn?.close();
      socket?.destroy();
      reject(new SmtpAttemptError(why));
    };
  });
  abandoned.catch(() => {});
  const deadline = setTimeout(() => abandon(`no answer within ${limits.attemptMs} ms`), limits.attemptMs);
  const onAbort = () => abandon('the worker is stopping');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    socket = await Promise.race([
      openSocket(target, limits, () => abandon(`the server sent more than ${limits.maxReadBytes} bytes`)),
      abandoned,
    ]);
    const c = new SMTPConnection(connectionOptions(target, limits, socket));
    conn = c;
    const step = <T>(
      run: (done: (err: SMTPConnection.SMTPError | null | undefined, v?: T) => void) => void,
    ) =>
      Promise.race([
        new Promise<T>((resolve, reject) => run((err, v) => (err ? reject(err) : resolve(v as T)))),
        abandoned,
      ]);
    c.on('error', () => {});
    try {
      // nodemailer reports a failure during the handshake (a refused STARTTLS, say) as an event.
      await step((done) => {
        c.once('error', (err) => done(err));
        c.connect((err) => done(err));
      });
    } catch (err) {
      if (err instanceof SmtpAttemptError) throw err;
      const e = err as SMTPConnection.SMTPError;
      if (e.code === 'ETLS') {
        throw new SmtpAttemptError(`TLS is required and could not be set up: ${e.response ?? e.message}`);
      }
      // A refusal before MAIL FROM (greeting, EHLO) is about the server, not the recipients: wait,
      // as Postfix does with smtp_skip_5xx_greeting when no other server is left to try.
      if (e.responseCode && e.response) return allDeferred(message.recipients, e.response);
      throw new SmtpAttemptError(e.message);
    }
    if (target.auth) {
      try {
        await step((done) =>
          c.login({ user: target.auth!.user, pass: target.auth!.pass }, (err) => done(err)),
        );
      } catch (err) {
        if (err instanceof SmtpAttemptError) throw err;
        // Refused credentials are the operator's to fix, never the recipients' fault: wait.
        const e = err as SMTPConnection.SMTPError;
        return allDeferred(message.recipients, e.response ?? `454 4.7.0 ${e.message}`);
      }
    }
    const plan = planUtf8(message, advertises(c, 'SMTPUTF8'));
    if (plan.sent.length === 0) {
      c.quit();
      return combine(message, plan, null);
    }
    if (plan.param) requestSmtpUtf8(c);
    const wire = plan.sent.map((r) => r.wire);
    // The null reverse-path (a DSN) is MAIL FROM:<>, which nodemailer writes for `false`.
    const envelope: SMTPConnection.Envelope = {
      from: plan.mailFrom === '' ? false : plan.mailFrom,
      to: wire,
      size: message.raw.byteLength,
    };
    try {
      const info = await step<SMTPConnection.SentMessageInfo>((done) =>
        c.send(envelope, Buffer.from(message.raw), (err, info) => done(err, info)),
      );
      c.quit();
      return combine(message, plan, fromInfo(info, wire, classify));
    } catch (err) {
      if (err instanceof SmtpAttemptError) throw err;
      const result = fromError(err as SMTPConnection.SMTPError, wire, classify, c);
      c.close();
      return combine(message, plan, result);
    }
  } finally {
    clearTimeout(deadline);
    options.signal?.removeEventListener('abort', onAbort);
    conn?.close();
    socket?.destroy();
  }
}
