// One SMTP transaction to a remote server, with nodemailer's SMTPConnection doing the protocol
// (EHLO, STARTTLS, AUTH, pipelining, dot-stuffing) and this module deciding what the remote's
// replies mean for each recipient. Remote servers may be hostile or broken: every attempt has an
// overall deadline and a cap on the bytes it will read, so a tarpit or an endless multi-line
// reply ends the attempt (deferred) instead of holding a worker slot or growing memory.
//
// Connections are reused, as Postfix's connection cache does: after a transaction the session goes
// back to an SmtpSessionCache (per server, TLS mode and credentials) for the next delivery to the
// same place, which then skips the connect, greeting, EHLO, STARTTLS and AUTH round trips. A cached
// session lives at most `idleMs` unused and `maxAgeMs` in all; a reused session the server dropped
// meanwhile is replaced by a new one when the server answered nothing in the attempt (so it never
// said 354, and has none of the message: no duplicate).
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

function openSocket(
  target: SmtpTarget,
  limits: SmtpLimits,
  onData: (bytes: number) => void,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port });
    socket.on('data', (chunk: Buffer) => onData(chunk.length));
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

/** An open, greeted (and, as asked, encrypted and authenticated) connection to one server. */
interface Session {
  key: string;
  conn: SMTPConnection;
  socket: net.Socket;
  /** Bytes read in the current attempt: the read cap is per attempt, not per connection. */
  read: number;
  /** What the current attempt does when the cap is passed. */
  onFlood: () => void;
  openedAt: number;
  transactions: number;
  /** The current transaction's MAIL FROM carries SMTPUTF8. */
  utf8: boolean;
  closed: boolean;
  idleTimer: NodeJS.Timeout | null;
}

/**
 * Makes MAIL FROM carry SMTPUTF8 when the transaction needs it: nodemailer adds it only for a
 * non-ASCII envelope address, not for UTF-8 in the headers alone; it writes every command through
 * _sendCommand.
 */
function watchCommands(session: Session): void {
  const c = session.conn as unknown as { _sendCommand(command: string, log?: string): void };
  const send = c._sendCommand.bind(session.conn);
  c._sendCommand = (command, log) => {
    const utf8 = session.utf8 && /^MAIL FROM:/i.test(command) && !/ SMTPUTF8\b/i.test(command);
    send(utf8 ? `${command} SMTPUTF8` : command, log);
  };
}

function destroy(session: Session): void {
  session.closed = true;
  if (session.idleTimer) clearTimeout(session.idleTimer);
  session.conn.close();
  session.socket.destroy();
}

/** Says goodbye politely, without waiting for the answer for long. */
function quit(session: Session): void {
  session.closed = true;
  if (session.idleTimer) clearTimeout(session.idleTimer);
  session.conn.quit();
  setTimeout(() => session.socket.destroy(), 1000).unref();
}

export interface SessionCacheOptions {
  /** A session unused this long is closed (Postfix smtp_connection_cache_time_limit, 2 s). */
  idleMs: number;
  /** A session is not reused after this long (Postfix smtp_connection_reuse_time_limit, 300 s). */
  maxAgeMs: number;
  /** Transactions per session at most. */
  maxTransactions: number;
  /** Idle sessions kept per server; more are closed. */
  maxIdlePerServer: number;
}

export const DEFAULT_SESSION_CACHE: SessionCacheOptions = {
  idleMs: 2_000,
  maxAgeMs: 300_000,
  maxTransactions: 1_000,
  maxIdlePerServer: 100,
};

function sessionKey(t: SmtpTarget): string {
  return JSON.stringify([
    t.host,
    t.port,
    t.tls,
    t.heloName,
    t.auth?.user ?? '',
    t.servername ?? '',
    t.verifyTls,
  ]);
}

/** Idle SMTP sessions by server, for the next delivery to the same one. */
export class SmtpSessionCache {
  private readonly o: SessionCacheOptions;
  private readonly idle = new Map<string, Session[]>();
  private readonly now: () => number;
  private closing = false;

  constructor(options: Partial<SessionCacheOptions> = {}, now: () => number = Date.now) {
    this.o = { ...DEFAULT_SESSION_CACHE, ...options };
    this.now = now;
  }

  /** Idle sessions held now (tests, metrics). */
  get size(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }

  /** The most recently used live session to this server, or null. */
  take(key: string): Session | null {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const s = list.pop()!;
      if (s.idleTimer) clearTimeout(s.idleTimer);
      s.idleTimer = null;
      if (s.closed || this.now() - s.openedAt >= this.o.maxAgeMs) {
        if (!s.closed) quit(s);
        continue;
      }
      s.socket.ref();
      return s;
    }
    return null;
  }

  /** Keeps a session that just finished a transaction, or closes it when it has served enough. */
  give(s: Session): void {
    const list = this.idle.get(s.key) ?? [];
    const spent = s.transactions >= this.o.maxTransactions || this.now() - s.openedAt >= this.o.maxAgeMs;
    if (this.closing || s.closed || spent || list.length >= this.o.maxIdlePerServer) {
      if (!s.closed) quit(s);
      return;
    }
    this.idle.set(s.key, list);
    list.push(s);
    // An idle session does not keep the process alive, and goes after idleMs.
    s.socket.unref();
    s.idleTimer = setTimeout(() => {
      const at = list.indexOf(s);
      if (at >= 0) list.splice(at, 1);
      quit(s);
    }, this.o.idleMs);
    s.idleTimer.unref();
  }

  /** Closes every idle session (QUIT) and keeps none from now on. */
  close(): void {
    this.closing = true;
    for (const list of this.idle.values()) for (const s of list.splice(0)) quit(s);
  }
}

/** Thrown inside an attempt when a reused session turns out to be gone before DATA. */
class DroppedSession extends Error {}

/**
 * Runs one transaction. Resolves with a result for every recipient whenever the remote answered;
 * rejects with SmtpAttemptError when there was no conversation to speak of.
 */
export async function deliverOverSmtp(
  target: SmtpTarget,
  message: SmtpMessage,
  options: {
    limits?: SmtpLimits;
    classify?: Classify;
    signal?: AbortSignal;
    /** Where sessions are reused from and returned to; without one, each attempt has its own. */
    sessions?: SmtpSessionCache;
  } = {},
): Promise<TransportResult> {
  const limits = options.limits ?? DEFAULT_SMTP_LIMITS;
  const classify = options.classify ?? byReplyCode;
  const cache = options.sessions ?? null;
  let session: Session | null = null;
  let abandon: (why: string) => void = () => {};
  const abandoned = new Promise<never>((_, reject) => {
    abandon = (why) => {
      if (session) destroy(session);
      reject(new SmtpAttemptError(why));
    };
  });
  abandoned.catch(() => {});
  const deadline = setTimeout(() => abandon(`no answer within ${limits.attemptMs} ms`), limits.attemptMs);
  const onAbort = () => abandon('the worker is stopping');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const flood = () => abandon(`the server sent more than ${limits.maxReadBytes} bytes`);
  const step = <T>(run: (done: (err: SMTPConnection.SMTPError | null | undefined, v?: T) => void) => void) =>
    Promise.race([
      new Promise<T>((resolve, reject) => run((err, v) => (err ? reject(err) : resolve(v as T)))),
      abandoned,
    ]);
  try {
    const key = sessionKey(target);
    session = cache?.take(key) ?? null;
    for (;;) {
      const reused = session !== null;
      let current: Session;
      if (session) {
        current = session;
        current.read = 0;
        current.onFlood = flood;
      } else {
        const opened = await openSession(target, key, limits, flood, abandoned, step, message.recipients);
        if ('result' in opened) return opened.result;
        current = opened.session;
        session = current;
      }
      try {
        const { result, reusable } = await transact(current, message, classify, step, reused);
        if (reusable && cache) {
          session = null;
          cache.give(current);
        }
        return result;
      } catch (err) {
        if (!(err instanceof DroppedSession)) throw err;
        // The server closed the cached connection while it was idle: a new one (only a reused
        // session throws this, so once).
        destroy(current);
        session = null;
      }
    }
  } finally {
    clearTimeout(deadline);
    options.signal?.removeEventListener('abort', onAbort);
    if (session && !session.closed) quit(session);
  }
}

type Step = <T>(
  run: (done: (err: SMTPConnection.SMTPError | null | undefined, v?: T) => void) => void,
) => Promise<T>;

/**
 * Connects, reads the greeting, says EHLO, sets up TLS as the target asks and logs in: a session
 * ready for MAIL FROM. A refusal on the way is a result (every recipient waits); no conversation
 * at all is an SmtpAttemptError.
 */
async function openSession(
  target: SmtpTarget,
  key: string,
  limits: SmtpLimits,
  flood: () => void,
  abandoned: Promise<never>,
  step: Step,
  recipients: string[],
): Promise<{ session: Session } | { result: TransportResult }> {
  let session: Session | null = null;
  const socket = await Promise.race([
    openSocket(target, limits, (bytes) => {
      if (!session) return;
      session.read += bytes;
      if (session.read > limits.maxReadBytes) session.onFlood();
    }),
    abandoned,
  ]);
  const c = new SMTPConnection(connectionOptions(target, limits, socket));
  const s: Session = {
    key,
    conn: c,
    socket,
    read: 0,
    onFlood: flood,
    openedAt: Date.now(),
    transactions: 0,
    utf8: false,
    closed: false,
    idleTimer: null,
  };
  session = s;
  socket.once('close', () => {
    s.closed = true;
  });
  c.on('error', () => {});
  c.once('end', () => {
    s.closed = true;
  });
  watchCommands(s);
  try {
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
      if (e.responseCode && e.response) {
        quit(s);
        return { result: allDeferred(recipients, e.response) };
      }
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
        quit(s);
        return { result: allDeferred(recipients, e.response ?? `454 4.7.0 ${e.message}`) };
      }
    }
    return { session: s };
  } catch (err) {
    destroy(s);
    throw err;
  }
}

/**
 * One transaction on a ready session. `reusable`: the session is in a state to carry another
 * (after a refusal, RSET has put it back). A reused session found closed before DATA throws
 * DroppedSession, so the caller can try a new one without any risk of sending twice.
 */
async function transact(
  session: Session,
  message: SmtpMessage,
  classify: Classify,
  step: Step,
  reused: boolean,
): Promise<{ result: TransportResult; reusable: boolean }> {
  const c = session.conn;
  session.transactions++;
  const plan = planUtf8(message, advertises(c, 'SMTPUTF8'));
  if (plan.sent.length === 0) return { result: combine(message, plan, null), reusable: !session.closed };
  session.utf8 = plan.param;
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
    return { result: combine(message, plan, fromInfo(info, wire, classify)), reusable: !session.closed };
  } catch (err) {
    if (err instanceof SmtpAttemptError) throw err;
    const e = err as SMTPConnection.SMTPError;
    // Not a byte came back in this attempt: the server never said 354, so it has none of the message.
    if (reused && !e.responseCode && session.read === 0) throw new DroppedSession(e.message);
    const result = combine(message, plan, fromError(e, wire, classify, c));
    // A refusal leaves a working session behind (RSET clears the transaction); 421 or no reply
    // at all does not.
    if (!e.responseCode || e.responseCode === 421 || session.closed) return { result, reusable: false };
    const reset = await step<boolean>((done) => c.reset((resetErr) => done(null, !resetErr))).catch(
      () => false,
    );
    return { result, reusable: reset && !session.closed };
  }
}
