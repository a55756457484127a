// One SMTP transaction to a remote server, with nodemailer's SMTPConnection doing the protocol
// (EHLO, STARTTLS, AUTH, pipelining, dot-stuffing) and this module deciding what the remote's
// replies mean for each recipient. Remote servers may be hostile or broken: every attempt has an
// overall deadline and a cap on the bytes it will read, so a tarpit or an endless multi-line
// reply ends the attempt (deferred) instead of holding a worker slot or growing memory.
import net from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
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
    // The null reverse-path (a DSN) is MAIL FROM:<>, which nodemailer writes for `false`.
    const envelope: SMTPConnection.Envelope = {
      from: message.mailFrom === '' ? false : message.mailFrom,
      to: message.recipients,
      size: message.raw.byteLength,
    };
    try {
      const info = await step<SMTPConnection.SentMessageInfo>((done) =>
        c.send(envelope, Buffer.from(message.raw), (err, info) => done(err, info)),
      );
      c.quit();
      return fromInfo(info, message.recipients, classify);
    } catch (err) {
      if (err instanceof SmtpAttemptError) throw err;
      const result = fromError(err as SMTPConnection.SMTPError, message.recipients, classify, c);
      c.close();
      return result;
    }
  } finally {
    clearTimeout(deadline);
    options.signal?.removeEventListener('abort', onAbort);
    conn?.close();
    socket?.destroy();
  }
}
