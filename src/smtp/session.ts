// One SMTP session: a thin adapter between smtp-server's callbacks and the stage hooks. It owns
// the per-session deadlines (command line, DATA, whole session, STARTTLS handshake), counts bad
// commands and failed AUTHs, and turns verdicts into replies through ./replies.ts.
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import type {
  SMTPServer,
  SMTPServerAddress,
  SMTPServerAuthentication,
  SMTPServerAuthenticationResponse,
  SMTPServerDataStream,
  SMTPServerSession,
} from 'smtp-server';
import type { Config } from '../config/schema.ts';
import type { Envelope, Listener } from '../domain/message.ts';
import type { Spool } from '../ingest/spool.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { ChaosStage } from './chaos.ts';
import { type CollectedData, collectData } from './data-collector.ts';
import { runHook } from './hook-runner.ts';
import type { Hooks } from './hooks/index.ts';
import { defer, type Refusal, reject, type SessionFacts, type Verdict } from './hooks/types.ts';
import { LineGuard } from './line-guard.ts';
import { ENHANCED_PREFIX, REPLIES, type ReplyReason, replyError, replyText } from './replies.ts';
import { rewriteBuiltinReply } from './reply-filter.ts';

type Connection = SMTPServer['connections'] extends Set<infer C> ? C : never;
type Send = Connection['send'];
type Callback = (err?: Error | null) => void;
type TimerName = 'session' | 'data' | 'handshake' | 'greet';

export interface SessionContext {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  spool: Spool;
  hooks: Hooks;
  listener: Listener;
  requireAuth: boolean;
  /**
   * Queues an authenticated user's message for delivery and returns its id; null when mail is
   * captured (then every message goes to the inbox through the spool).
   */
  submit: ((envelope: Envelope, raw: Uint8Array) => Promise<string>) | null;
  /**
   * MX mode: checks who really sent an unauthenticated message (SPF, DKIM, DMARC, ARC) and returns
   * it with our Authentication-Results on top. Never throws for DNS trouble (temperror results).
   */
  authenticateSender?: (envelope: Envelope, raw: Uint8Array) => Promise<Uint8Array>;
  /**
   * Mail kept without sender checks: renames Authentication-Results fields in our name, which only
   * a sender could have written, so nothing downstream takes them for ours.
   */
  distrustResults?: (raw: Uint8Array) => Uint8Array;
  /**
   * Routed mail: a reject route that matches the whole message refuses it here, before the 250,
   * with its own code and text; null takes it.
   */
  checkContent?: (envelope: Envelope, raw: Uint8Array) => Promise<{ code: number; text: string } | null>;
}

/** Replies that mean the client sent an unknown or malformed command (RFC 5321 §4.2.4, §4.3.2). */
const BAD_COMMAND_CODES = new Set([500, 501, 502, 504]);

export class SmtpSession {
  readonly id = randomBytes(9).toString('base64url');
  private readonly ctx: SessionContext;
  private readonly socket: Duplex;
  private readonly counts: { fromIp: number; total: number };
  private readonly onEnd: (s: SmtpSession) => void;
  private readonly log: Logger;
  private readonly guard: LineGuard;
  private readonly started = Date.now();
  private conn: Connection | null = null;
  private tls: Envelope['tls'] = null;
  private authUser: string | null = null;
  private authFailures = 0;
  private badCommands = 0;
  private messages = 0;
  private closeAfterAuthReply = false;
  private greeted = false;
  private closing = false;
  /** A spool commit is in flight: hanging up now could tell the client 421 about stored mail. */
  private committing = false;
  private deferredHangUp: ReplyReason | null = null;
  private ended = false;
  private readonly timers = new Map<TimerName, NodeJS.Timeout>();

  constructor(
    ctx: SessionContext,
    socket: Duplex,
    counts: { fromIp: number; total: number },
    onEnd: (s: SmtpSession) => void,
  ) {
    this.ctx = ctx;
    this.socket = socket;
    this.counts = counts;
    this.onEnd = onEnd;
    this.log = ctx.logger.child({ session: this.id, listener: ctx.listener });
    this.guard = new LineGuard({
      commandTimeoutMs: ctx.config.smtpCommandTimeout,
      onViolation: (v) => this.hangUp(v),
    });
  }

  /** Hands the socket to smtp-server with the guard in front and the reply filter installed. */
  start(server: SMTPServer, remote: { address: string; port: number }): void {
    this.guard.attach(this.socket);
    this.socket.once('close', () => this.end());
    server.connect(this.socket as Parameters<SMTPServer['connect']>[0], { id: this.id });
    for (const c of server.connections) if (c.id === this.id) this.conn = c;
    const conn = this.conn!;
    const send: Send = conn.send.bind(conn);
    conn.send = (code, data, context) => this.filterSend(send, code, data, context);
    // smtp-server's init() has armed a 100 ms timer that calls connectionReady() (onConnect, then
    // the 220): a fixed pause that caps one-connection-per-message clients at ~10 messages/s.
    // This connection's timer finds a no-op; greetWhenQuiet() calls the real one.
    const ready = conn.connectionReady.bind(conn);
    conn.connectionReady = () => {};
    if (this.socket instanceof TLSSocket) this.recordTls(this.socket);
    this.setTimer('session', this.ctx.config.smtpSessionTimeout, () => this.hangUp('session-timeout'));
    this.ctx.metrics.sessions.inc({ listener: this.ctx.listener });
    this.ctx.metrics.sessionsActive.add(1, { listener: this.ctx.listener });
    this.log.info({ clientIp: remote.address, clientPort: remote.port }, 'smtp connect');
    this.greetWhenQuiet(() => ready());
  }

  /**
   * Runs smtp-server's connect sequence (onConnect hooks, onSecure on implicit TLS, the 220) once
   * the client has had its chance to talk out of turn, and refuses it if it did (RFC 5321 §3.1).
   * By default that chance is one poll phase of the event loop: start() runs in the poll phase
   * that accepted the socket (or finished its TLS handshake), the first setImmediate runs after
   * it, and the second after the next poll phase, which reads whatever the client wrote straight
   * after connecting. An honest client waits for the greeting, so this costs it nothing. With
   * --smtp-greet-pause the wait is that long instead (postscreen's pregreet test); a command line
   * sent during it is refused at once through smtp-server's "talk too soon" (see filterSend).
   */
  private greetWhenQuiet(ready: () => void): void {
    const greet = () => {
      if (this.ended || this.closing) return;
      if (this.guard.bytesReceived > 0) this.refuseEarlyTalker();
      else ready();
    };
    const pause = this.ctx.config.smtpGreetPause;
    if (pause > 0) this.setTimer('greet', pause, greet);
    else setImmediate(() => setImmediate(greet));
  }

  /** 554 5.5.1 instead of a greeting, then close: the client sent something before our 220. */
  private refuseEarlyTalker(): void {
    const conn = this.conn!;
    if (!this.closing) {
      this.closing = true;
      const err = this.refuse('connect', reject('early-talker'));
      conn.send(err.responseCode, err.message, false);
    }
    conn.close();
  }

  private facts(): SessionFacts {
    const conn = this.conn!;
    return {
      sessionId: this.id,
      listener: this.ctx.listener,
      clientIp: conn.remoteAddress,
      clientPort: conn.remotePort,
      secure: this.tls !== null,
      authUser: this.authUser,
    };
  }

  async handleConnect(cb: Callback): Promise<void> {
    const chaos = await this.chaos('connect');
    if (chaos === 'dropped') return;
    if (chaos) return cb(this.refuse('connect', chaos));
    const verdict = await this.runHook('connect', 'hook-failed', () =>
      this.ctx.hooks.connect({ ...this.facts(), ...this.counts }),
    );
    cb(verdict.kind === 'accept' ? null : this.refuse('connect', verdict));
  }

  handleSecure(socket: TLSSocket, cb: Callback): void {
    this.clearTimer('handshake');
    this.recordTls(socket);
    // After STARTTLS the raw socket's listeners are gone (smtp-server removed them), so the guard
    // and the end-of-session signal move to the TLS socket, before smtp-server pipes it.
    this.guard.attach(socket);
    socket.once('close', () => this.end());
    cb();
  }

  private recordTls(socket: TLSSocket): void {
    this.tls = { protocol: socket.getProtocol() ?? 'unknown', cipher: socket.getCipher()?.name ?? 'unknown' };
  }

  async handleAuth(
    auth: SMTPServerAuthentication,
    cb: (e: Error | null, r?: SMTPServerAuthenticationResponse) => void,
  ): Promise<void> {
    const username = auth.username ?? '';
    const chaos = await this.chaos('auth');
    if (chaos === 'dropped') return;
    if (chaos) {
      const err = this.refuse('auth', chaos);
      return cb(null, { user: undefined, message: err.message, responseCode: err.responseCode });
    }
    const verdict = await this.runHook('auth', 'auth-temporary-failure', () =>
      this.ctx.hooks.auth({ ...this.facts(), method: auth.method, username, password: auth.password ?? '' }),
    );
    if (verdict.kind === 'accept') {
      this.authUser = username;
      this.log.info({ user: username, method: auth.method }, 'smtp auth succeeded');
      return cb(null, { user: username });
    }
    if (verdict.kind === 'reject') {
      this.authFailures++;
      this.ctx.metrics.authFailures.inc();
      this.closeAfterAuthReply = this.authFailures >= this.ctx.config.maxAuthFailures;
    }
    this.log.warn({ user: username, method: auth.method, reason: verdict.reason }, 'smtp auth failed');
    cb(null, {
      user: undefined,
      message: replyText(verdict.reason),
      responseCode: REPLIES[verdict.reason].code,
    });
  }

  /** This session's mail goes out through the queue: an authenticated user, and a transport that sends. */
  private get outbound(): boolean {
    return this.authUser !== null && this.ctx.submit !== null;
  }

  async handleMailFrom(address: SMTPServerAddress, s: SMTPServerSession, cb: Callback): Promise<void> {
    const chaos = await this.chaos('mail-from');
    if (chaos === 'dropped') return;
    if (chaos) return cb(this.refuse('mail-from', chaos));
    const input = {
      ...this.facts(),
      address: address.address,
      smtpUtf8: Boolean(s.envelope.smtpUtf8),
      requireAuth: this.ctx.requireAuth,
      outbound: this.outbound,
    };
    const verdict = await this.runHook('mail-from', 'hook-failed', () => this.ctx.hooks.mailFrom(input));
    cb(verdict.kind === 'accept' ? null : this.refuse('mail-from', verdict));
  }

  async handleRcptTo(address: SMTPServerAddress, s: SMTPServerSession, cb: Callback): Promise<void> {
    const chaos = await this.chaos('rcpt-to');
    if (chaos === 'dropped') return;
    if (chaos) return cb(this.refuse('rcpt-to', chaos));
    const accepted = s.envelope.rcptTo.map((r) => r.address);
    const input = {
      ...this.facts(),
      address: address.address,
      mailFrom: s.envelope.mailFrom ? s.envelope.mailFrom.address : '',
      smtpUtf8: Boolean(s.envelope.smtpUtf8),
      accepted,
      outbound: this.outbound,
    };
    const verdict = await this.runHook('rcpt-to', 'hook-failed', () => this.ctx.hooks.rcptTo(input));
    cb(verdict.kind === 'accept' ? null : this.refuse('rcpt-to', verdict));
  }

  handleData(
    stream: SMTPServerDataStream,
    s: SMTPServerSession,
    cb: (e: Error | null, msg?: string) => void,
  ): void {
    this.guard.enterData();
    this.setTimer('data', this.ctx.config.smtpDataTimeout, () => this.hangUp('data-timeout'));
    void collectData(stream, this.ctx.config.maxMessageSize)
      .then(async (data) => {
        this.clearTimer('data');
        if (!data) {
          this.log.info('smtp client left during DATA; nothing stored');
          return;
        }
        const reply = await this.finishData(s, data);
        this.guard.resume();
        if (typeof reply === 'string') cb(null, reply);
        else cb(reply);
        // A deadline or shutdown that came during the commit closes the session now, after the reply.
        const deferred = this.deferredHangUp;
        this.deferredHangUp = null;
        if (deferred) this.hangUp(deferred);
      })
      .catch((err: unknown) => {
        this.log.error({ err: (err as Error).message }, 'smtp data handling failed');
        cb(replyError('hook-failed'));
      });
  }

  private async finishData(s: SMTPServerSession, data: CollectedData): Promise<string | Error> {
    let { raw } = data;
    const envelope: Envelope = {
      mailFrom: s.envelope.mailFrom ? s.envelope.mailFrom.address : '',
      rcptTo: s.envelope.rcptTo.map((r) => r.address),
      clientIp: this.conn!.remoteAddress,
      clientPort: this.conn!.remotePort,
      helo: s.hostNameAppearsAs || '',
      tls: this.tls,
      authUser: this.authUser,
      listener: this.ctx.listener,
      receivedAt: new Date().toISOString(),
      sessionId: this.id,
    };
    const chaos = await this.chaos('data');
    if (chaos === 'dropped') return replyError('hook-failed');
    if (chaos) return this.refuse('data', chaos);
    // A client that left, or was told 421, while its reply was held never saw a 250: keep nothing.
    if (this.ended || this.closing) {
      this.log.info('smtp client gone before the reply to DATA; nothing stored');
      return replyError('hook-failed');
    }
    const input = { ...this.facts(), envelope, raw, scan: data.scan, sizeExceeded: data.sizeExceeded };
    const verdict = await this.runHook('data', 'hook-failed', () => this.ctx.hooks.data(input));
    if (verdict.kind !== 'accept') return this.refuse('data', verdict);
    this.committing = true;
    try {
      // An authenticated user's mail leaves through the queue; everything else is kept here.
      const submit = this.outbound ? this.ctx.submit : null;
      if (!submit && this.authUser === null && this.ctx.authenticateSender)
        raw = Buffer.from(await this.ctx.authenticateSender(envelope, raw));
      else if (!submit && this.ctx.distrustResults) raw = Buffer.from(this.ctx.distrustResults(raw));
      const refused = !submit && this.authUser === null ? await this.ctx.checkContent?.(envelope, raw) : null;
      if (refused) {
        const refusal = refused.code >= 500 ? reject('route-reject') : defer('route-reject');
        return this.refuse('data', { ...refusal, reply: refused });
      }
      const id = submit ? await submit(envelope, raw) : await this.ctx.spool.accept(envelope, raw);
      this.messages++;
      this.log.info(
        { message: id, bytes: raw.byteLength, recipients: envelope.rcptTo.length },
        submit ? 'message queued for delivery' : 'message stored',
      );
      return replyText('queued', id);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'spool commit failed');
      return this.refuse('data', defer('spool-failed'));
    } finally {
      this.committing = false;
    }
  }

  private refuse(stage: string, verdict: Refusal): Error & { responseCode: number } {
    this.ctx.metrics.messagesRejected.inc({ stage, reason: verdict.reason });
    this.log.info({ stage, reason: verdict.reason, verdict: verdict.kind }, 'smtp rejected');
    if (verdict.reply) {
      // RFC 3463: X.7.1 = delivery not authorized, message refused; the class follows the code.
      const enhanced = verdict.reply.enhanced ?? `${Math.floor(verdict.reply.code / 100)}.7.1`;
      return Object.assign(new Error(`${enhanced} ${verdict.reply.text}`), {
        responseCode: verdict.reply.code,
      });
    }
    return replyError(verdict.reason);
  }

  /**
   * Chaos testing, before the stage's own hook and outside the command deadline: a refusal to
   * answer with, 'dropped' when it closed the connection without a reply, or null to go on.
   */
  private async chaos(stage: ChaosStage): Promise<Refusal | 'dropped' | null> {
    const verdict = await this.ctx.hooks.chaos({ ...this.facts(), stage, outbound: this.outbound });
    if (verdict.kind === 'accept') return null;
    if (verdict.kind !== 'drop') return verdict;
    this.ctx.metrics.messagesRejected.inc({ stage, reason: `chaos-${stage}` });
    this.log.info({ stage, reason: 'chaos' }, 'smtp closing the connection without a reply');
    this.destroy();
    return 'dropped';
  }

  private runHook(
    stage: string,
    fallback: ReplyReason,
    fn: () => Verdict | Promise<Verdict>,
  ): Promise<Verdict> {
    return runHook(this.log, stage, { timeoutMs: this.ctx.config.smtpCommandTimeout, fallback }, fn);
  }

  /** Every reply passes here: enhanced codes from the table win, and replies drive the counters. */
  private filterSend(
    send: Send,
    code: number,
    data?: string | string[] | null,
    context?: string | false,
  ): void {
    if (code === 220 && !this.greeted && this.withholdGreeting()) return;
    const builtin = rewriteBuiltinReply(code, data);
    // smtp-server's 421 for a command parsed before its greeting: the same refusal as ours.
    if (builtin === 'early-talker') {
      this.refuseEarlyTalker();
      return;
    }
    if (builtin) {
      // smtp-server's 421s close the session; the re-worded reply must close it too.
      if (code === 421) this.closing = true;
      send(REPLIES[builtin].code, replyText(builtin), false);
      if (code === 421) this.conn?.close();
    } else if (typeof data === 'string' && ENHANCED_PREFIX.test(data)) send(code, data, false);
    else send(code, data, context);
    this.afterReply(code);
  }

  /**
   * Checked as the greeting goes out, after the connect hooks: true when it must not, because
   * the session was refused or closed meanwhile, or because the client talked while the hooks ran.
   */
  private withholdGreeting(): boolean {
    if (this.closing) return true;
    if (this.guard.bytesReceived === 0) return false;
    this.refuseEarlyTalker();
    return true;
  }

  private afterReply(code: number): void {
    if (code === 334) this.guard.expectSaslResponse();
    // A non-354 reply while suspended after DATA: the DATA was refused, commands go on.
    if (code !== 354 && this.guard.suspended) this.guard.resume();
    if (code === 220 && this.greeted && !this.tls) this.onStartTls();
    if (code === 220) this.greeted = true;
    if (this.closing) return;
    if (BAD_COMMAND_CODES.has(code) && ++this.badCommands >= this.ctx.config.maxBadCommands) {
      this.hangUp('too-many-bad-commands');
    }
    if (code === 535 && this.closeAfterAuthReply) this.hangUp('auth-too-many-failures');
  }

  /** STARTTLS accepted: bytes until the handshake are not commands, and the handshake has a deadline. */
  private onStartTls(): void {
    this.guard.suspend();
    this.setTimer('handshake', this.ctx.config.smtpCommandTimeout, () => {
      this.log.info('smtp STARTTLS handshake not completed in time');
      this.socket.destroy();
    });
  }

  /** Replies with `reason` and closes the session. */
  hangUp(reason: ReplyReason): void {
    if (this.ended || this.closing || !this.conn) return;
    if (this.committing) {
      // The client must hear how its message ended (250 or 451) before any 421: a 421 instead of
      // the 250 of a stored message would make it send the message again.
      this.deferredHangUp ??= reason;
      return;
    }
    this.closing = true;
    this.log.info({ reason }, 'smtp closing session');
    if (reason !== 'shutting-down') this.ctx.metrics.messagesRejected.inc({ stage: 'session', reason });
    this.conn.send(REPLIES[reason].code, replyText(reason), false);
    this.conn.close();
  }

  private setTimer(name: TimerName, ms: number, fn: () => void): void {
    this.clearTimer(name);
    this.timers.set(name, setTimeout(fn, ms).unref());
  }

  private clearTimer(name: TimerName): void {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
  }

  /** Called once, from whichever close signal comes first. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.guard.stop();
    this.ctx.metrics.sessionsActive.add(-1, { listener: this.ctx.listener });
    this.log.info({ durationMs: Date.now() - this.started, messages: this.messages }, 'smtp disconnect');
    this.onEnd(this);
  }

  destroy(): void {
    this.socket.destroy();
    this.end();
  }
}
