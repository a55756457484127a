// One SMTP session: the ESMTP state machine (RFC 5321 §4.1, with PIPELINING, SIZE, 8BITMIME,
// SMTPUTF8, ENHANCEDSTATUSCODES, STARTTLS and AUTH PLAIN/LOGIN) on top of the framing in ./wire.ts.
// It owns the per-session deadlines (command line, DATA, whole session, STARTTLS handshake), counts
// bad commands and failed AUTHs, runs the stage hooks and turns their verdicts into replies through
// ./replies.ts. Command syntax is parsed in ./commands.ts.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import type { Config } from '../config/schema.ts';
import type { Envelope, Listener } from '../domain/message.ts';
import type { Spool } from '../ingest/spool.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { asBuffer } from '../runtime/thread-bytes.ts';
import type { ChaosStage } from './chaos.ts';
import { heloName, isHttpRequest, mailParameters, parsePath, splitCommand } from './commands.ts';
import { runHook } from './hook-runner.ts';
import type { Hooks } from './hooks/index.ts';
import { defer, type Refusal, reject, type SessionFacts, type Verdict } from './hooks/types.ts';
import { LineGuard } from './line-guard.ts';
import { REPLIES, type ReplyReason, replyText } from './replies.ts';
import { type SaslState, type SaslStep, saslContinue, saslStart } from './sasl.ts';
import { type MessageData, SmtpWire, type WireHandler } from './wire.ts';

type TimerName = 'session' | 'data' | 'handshake' | 'greet';

export interface SessionContext {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  spool: Spool;
  hooks: Hooks;
  listener: Listener;
  requireAuth: boolean;
  /** AUTH is offered: users are configured (or any credentials are accepted). */
  authEnabled: boolean;
  /** The server's certificate for STARTTLS. */
  secureContext: SecureContext;
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

interface Answer {
  code: number;
  text: string;
}

/** Replies that mean the client sent an unknown or malformed command (RFC 5321 §4.2.4, §4.3.2). */
const BAD_COMMAND_CODES = new Set([500, 501, 502, 504, 555]);

export class SmtpSession implements WireHandler {
  readonly id = randomBytes(9).toString('base64url');
  private readonly ctx: SessionContext;
  private readonly wire: SmtpWire;
  private readonly remote: { address: string; port: number };
  private readonly counts: { fromIp: number; total: number };
  private readonly onEnd: (s: SmtpSession) => void;
  private readonly log: Logger;
  private readonly guard: LineGuard;
  private readonly started = Date.now();
  private tls: Envelope['tls'] = null;
  private authUser: string | null = null;
  /** The EHLO/HELO name; null before one (and after STARTTLS, RFC 3207 §4.2). */
  private helo: string | null = null;
  /** The transaction: its reverse-path once MAIL was accepted (null: none), and its recipients. */
  private mailFrom: string | null = null;
  private smtpUtf8 = false;
  private rcptTo: string[] = [];
  /** An AUTH exchange waiting for the client's next line. */
  private sasl: SaslState | null = null;
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
    socket: Socket,
    remote: { address: string; port: number },
    counts: { fromIp: number; total: number },
    onEnd: (s: SmtpSession) => void,
  ) {
    this.ctx = ctx;
    this.remote = remote;
    this.counts = counts;
    this.onEnd = onEnd;
    this.log = ctx.logger.child({ session: this.id, listener: ctx.listener });
    this.guard = new LineGuard({
      commandTimeoutMs: ctx.config.smtpCommandTimeout,
      onViolation: (v) => this.hangUp(v),
    });
    this.wire = new SmtpWire(socket, this);
    this.watch(socket);
    if (socket instanceof TLSSocket) this.recordTls(socket);
  }

  /** Idle deadline and end of session on `socket` (the TLS socket after STARTTLS). */
  private watch(socket: Socket): void {
    socket.once('close', () => this.end());
    socket.on('error', (err: Error) => {
      this.log.debug({ err: err.message }, 'smtp connection error');
      socket.destroy();
    });
    socket.setTimeout(this.ctx.config.smtpIdleTimeout, () => this.hangUp('idle-timeout'));
  }

  /** Starts the session: the connect stage, then the greeting. */
  start(): void {
    this.setTimer('session', this.ctx.config.smtpSessionTimeout, () => this.hangUp('session-timeout'));
    this.ctx.metrics.sessions.inc({ listener: this.ctx.listener });
    this.ctx.metrics.sessionsActive.add(1, { listener: this.ctx.listener });
    this.log.info({ clientIp: this.remote.address, clientPort: this.remote.port }, 'smtp connect');
    this.greetWhenQuiet();
  }

  /**
   * Runs the connect stage (hooks, then the 220) once the client has had its chance to talk out of
   * turn, and refuses it if it did (RFC 5321 §3.1). By default that chance is one poll phase of the
   * event loop: start() runs in the poll phase that accepted the socket (or finished its TLS
   * handshake), the first setImmediate runs after it, and the second after the next poll phase,
   * which reads whatever the client wrote straight after connecting. An honest client waits for
   * the greeting, so this costs it nothing. With --smtp-greet-pause the wait is that long instead
   * (postscreen's pregreet test). Bytes that arrive before the greeting at any point (during the
   * pause, or while the connect hooks run) are refused at once (see chunk()).
   */
  private greetWhenQuiet(): void {
    const greet = () => {
      if (this.ended || this.closing) return;
      if (this.guard.bytesReceived > 0) this.refuseEarlyTalker();
      else void this.connectStage();
    };
    const pause = this.ctx.config.smtpGreetPause;
    if (pause > 0) this.setTimer('greet', pause, greet);
    else setImmediate(() => setImmediate(greet));
  }

  private async connectStage(): Promise<void> {
    try {
      const chaos = await this.chaos('connect');
      if (chaos === 'dropped') return;
      const verdict =
        chaos ??
        (await this.runHook('connect', 'hook-failed', () =>
          this.ctx.hooks.connect({ ...this.facts(), ...this.counts }),
        ));
      if (this.ended || this.closing || this.greeted) return;
      if (verdict.kind !== 'accept') {
        const answer = this.refuse('connect', verdict);
        this.closeWith(answer.code, answer.text);
        return;
      }
      this.greeted = true;
      this.wire.reply(220, `${this.ctx.config.smtpHostname} ESMTP Mailroom`);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'smtp connect stage failed');
      this.hangUp('hook-failed');
    }
  }

  /** 554 5.5.1 instead of a greeting, then close: the client sent something before our 220. */
  private refuseEarlyTalker(): void {
    if (this.closing) return;
    const answer = this.refuse('connect', reject('early-talker'));
    this.closeWith(answer.code, answer.text);
  }

  private facts(): SessionFacts {
    return {
      sessionId: this.id,
      listener: this.ctx.listener,
      clientIp: this.remote.address,
      clientPort: this.remote.port,
      secure: this.tls !== null,
      authUser: this.authUser,
    };
  }

  private recordTls(socket: TLSSocket): void {
    this.tls = { protocol: socket.getProtocol() ?? 'unknown', cipher: socket.getCipher()?.name ?? 'unknown' };
  }

  // --- wire handler ---

  chunk(chunk: Buffer): void {
    this.guard.feed(chunk);
    if (!this.greeted && !this.closing) this.refuseEarlyTalker();
  }

  line(line: string): void | Promise<void> {
    if (this.closing || this.ended) return;
    const pending = this.sasl ? this.saslResponse(line) : this.command(line);
    if (!pending) return;
    return pending.catch((err: unknown) => {
      this.log.error({ err: (err as Error).message }, 'smtp handler failed');
      this.answer(451, replyText('hook-failed'));
    });
  }

  async data(data: MessageData): Promise<void> {
    this.clearTimer('data');
    let answer: Answer;
    try {
      answer = await this.finishData(data);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'smtp data handling failed');
      answer = { code: 451, text: replyText('hook-failed') };
    }
    this.resetTransaction();
    this.guard.resume();
    this.answer(answer.code, answer.text);
    // A deadline or shutdown that came during the commit closes the session now, after the reply.
    const deferred = this.deferredHangUp;
    this.deferredHangUp = null;
    if (deferred) this.hangUp(deferred);
  }

  // --- commands ---

  private command(line: string): void | Promise<void> {
    const { verb, rest } = splitCommand(line);
    switch (verb) {
      case 'EHLO':
      case 'HELO':
        return this.hello(verb, rest);
      case 'MAIL':
        return this.mail(rest);
      case 'RCPT':
        return this.rcpt(rest);
      case 'DATA':
        return this.startData();
      case 'RSET':
        this.resetTransaction();
        return this.answer(250, '2.0.0 Flushed');
      case 'NOOP':
        return this.answer(250, '2.0.0 OK');
      case 'QUIT':
        return this.closeWith(221, '2.0.0 Bye');
      case 'HELP':
        return this.answer(214, '2.0.0 See RFC 5321');
      case 'VRFY':
        // RFC 5321 §3.5.3: 252 when the address is not verified but mail for it is taken.
        if (!rest) return this.answer(501, '5.5.4 Syntax: VRFY address');
        return this.answer(252, '2.1.5 Cannot VRFY user, but will accept message and attempt delivery');
      case 'STARTTLS':
        return this.startTls(rest);
      case 'AUTH':
        return this.auth(rest);
      default:
        // A web page posting to this port (cross-protocol request forgery): nothing to talk about.
        if (isHttpRequest(line)) {
          return this.closeWith(421, '4.7.0 HTTP requests not allowed here');
        }
        return this.answer(500, '5.5.2 Error: command not recognized');
    }
  }

  private hello(verb: 'EHLO' | 'HELO', rest: string): void {
    const name = heloName(rest);
    if (!name) {
      this.answer(501, `5.5.4 Syntax: ${verb} hostname`);
      return;
    }
    this.helo = name.toLowerCase();
    this.resetTransaction();
    const host = this.ctx.config.smtpHostname;
    if (verb === 'HELO') {
      this.answer(250, host);
      return;
    }
    const lines = [host, 'PIPELINING', `SIZE ${this.ctx.config.maxMessageSize}`, '8BITMIME', 'SMTPUTF8'];
    lines.push('ENHANCEDSTATUSCODES');
    if (!this.tls) lines.push('STARTTLS');
    // RFC 4954 §4: no AUTH offered where it would be refused (before TLS, or once authenticated).
    if (this.ctx.authEnabled && !this.authUser && (this.tls || this.ctx.config.smtpAuthAllowInsecure)) {
      lines.push('AUTH PLAIN LOGIN');
    }
    this.answer(250, lines);
  }

  private async mail(rest: string): Promise<void> {
    if (!this.helo) return this.answer(503, '5.5.1 Error: send HELO/EHLO first');
    if (this.mailFrom !== null) return this.answer(503, '5.5.1 Error: nested MAIL command');
    const path = parsePath(rest, 'FROM');
    if (!path.ok) {
      if (path.error === 'syntax') return this.answer(501, '5.1.7 Bad sender address syntax');
      return this.answer(
        501,
        `5.5.4 ${path.error === 'duplicate' ? 'Duplicate' : 'Bad'} MAIL FROM parameter`,
      );
    }
    const params = mailParameters(path.params, this.ctx.config.maxMessageSize);
    if (!params.ok) return this.answer(params.code, params.text);
    const { smtpUtf8 } = params;
    const chaos = await this.chaos('mail-from');
    if (chaos === 'dropped') return;
    if (chaos) return this.answerRefusal('mail-from', chaos);
    const input = {
      ...this.facts(),
      address: path.address,
      smtpUtf8,
      requireAuth: this.ctx.requireAuth,
      outbound: this.outbound,
    };
    const verdict = await this.runHook('mail-from', 'hook-failed', () => this.ctx.hooks.mailFrom(input));
    if (verdict.kind !== 'accept') return this.answerRefusal('mail-from', verdict);
    this.mailFrom = path.address;
    this.smtpUtf8 = smtpUtf8;
    this.rcptTo = [];
    this.answer(250, '2.1.0 Accepted');
  }

  private async rcpt(rest: string): Promise<void> {
    if (!this.helo) return this.answer(503, '5.5.1 Error: send HELO/EHLO first');
    if (this.mailFrom === null) return this.answer(503, '5.5.1 Error: need MAIL command');
    const path = parsePath(rest, 'TO');
    if (!path.ok || path.address === '') return this.answer(501, '5.1.3 Bad recipient address syntax');
    for (const key of path.params.keys()) {
      return this.answer(555, `5.5.4 Unsupported RCPT TO parameter ${key}`);
    }
    const chaos = await this.chaos('rcpt-to');
    if (chaos === 'dropped') return;
    if (chaos) return this.answerRefusal('rcpt-to', chaos);
    const input = {
      ...this.facts(),
      address: path.address,
      mailFrom: this.mailFrom,
      smtpUtf8: this.smtpUtf8,
      accepted: this.rcptTo,
      outbound: this.outbound,
    };
    const verdict = await this.runHook('rcpt-to', 'hook-failed', () => this.ctx.hooks.rcptTo(input));
    if (verdict.kind !== 'accept') return this.answerRefusal('rcpt-to', verdict);
    // A transaction that ended meanwhile (RSET cannot overtake: commands wait) keeps nothing.
    if (this.mailFrom === null) return this.answer(503, '5.5.1 Error: need MAIL command');
    // A repeated recipient is kept once, in its latest spelling.
    const key = path.address.toLowerCase();
    const at = this.rcptTo.findIndex((r) => r.toLowerCase() === key);
    if (at === -1) this.rcptTo.push(path.address);
    else this.rcptTo[at] = path.address;
    this.answer(250, '2.1.5 Accepted');
  }

  private startData(): void {
    if (!this.helo) {
      this.answer(503, '5.5.1 Error: send HELO/EHLO first');
      return;
    }
    if (this.mailFrom === null) {
      this.answer(503, '5.5.1 Error: need MAIL command');
      return;
    }
    if (this.rcptTo.length === 0) {
      this.answer(503, '5.5.1 Error: need RCPT command');
      return;
    }
    this.wire.startData(this.ctx.config.maxMessageSize);
    this.guard.enterData();
    this.setTimer('data', this.ctx.config.smtpDataTimeout, () => this.hangUp('data-timeout'));
    this.wire.reply(354, 'End data with <CR><LF>.<CR><LF>');
  }

  private startTls(rest: string): void {
    if (rest) {
      this.answer(501, '5.5.4 Syntax: STARTTLS');
      return;
    }
    if (this.tls) {
      this.answer(503, '5.5.1 Error: TLS already active');
      return;
    }
    this.wire.reply(220, '2.0.0 Ready to start TLS');
    // Bytes until the handshake are not commands, and the handshake has a deadline.
    this.guard.suspend();
    this.setTimer('handshake', this.ctx.config.smtpCommandTimeout, () => {
      this.log.info('smtp STARTTLS handshake not completed in time');
      this.destroy();
    });
    // The TLS socket gets the idle deadline once it is up.
    this.wire.current.setTimeout(0);
    this.wire.startTls(this.ctx.secureContext, (socket) => {
      this.clearTimer('handshake');
      this.recordTls(socket);
      // RFC 3207 §4.2: nothing learnt before TLS counts after it.
      this.helo = null;
      this.authUser = null;
      this.resetTransaction();
      this.guard.resume();
      this.watch(socket);
    });
  }

  // --- AUTH (RFC 4954) ---

  private auth(rest: string): void | Promise<void> {
    if (!this.ctx.authEnabled) return this.answer(502, '5.5.1 Error: AUTH not available');
    if (!this.tls && !this.ctx.config.smtpAuthAllowInsecure) {
      return this.answer(REPLIES['tls-required-for-auth'].code, replyText('tls-required-for-auth'));
    }
    if (!this.helo) return this.answer(503, '5.5.1 Error: send HELO/EHLO first');
    if (this.authUser) return this.answer(503, '5.5.1 Error: No identity changes permitted');
    if (this.mailFrom !== null) return this.answer(503, '5.5.1 Error: Mail transaction in progress');
    return this.saslStep(saslStart(rest));
  }

  private saslResponse(line: string): void | Promise<void> {
    const state = this.sasl!;
    this.sasl = null;
    return this.saslStep(saslContinue(state, line));
  }

  private saslStep(step: SaslStep): void | Promise<void> {
    if (step.kind === 'challenge') {
      this.sasl = step.state;
      return this.answer(334, step.text);
    }
    if (step.kind === 'refused') return this.answer(step.code, step.text);
    return this.authenticate(step.method, step.username, step.password);
  }

  private async authenticate(method: string, username: string, password: string): Promise<void> {
    const chaos = await this.chaos('auth');
    if (chaos === 'dropped') return;
    if (chaos) return this.answerRefusal('auth', chaos);
    const verdict = await this.runHook('auth', 'auth-temporary-failure', () =>
      this.ctx.hooks.auth({ ...this.facts(), method, username, password }),
    );
    if (verdict.kind === 'accept') {
      this.authUser = username;
      this.log.info({ user: username, method }, 'smtp auth succeeded');
      return this.answer(235, '2.7.0 Authentication successful');
    }
    if (verdict.kind === 'reject') {
      this.authFailures++;
      this.ctx.metrics.authFailures.inc();
      this.closeAfterAuthReply = this.authFailures >= this.ctx.config.maxAuthFailures;
    }
    this.log.warn({ user: username, method, reason: verdict.reason }, 'smtp auth failed');
    this.answer(REPLIES[verdict.reason].code, replyText(verdict.reason));
  }

  // --- the message ---

  /** This session's mail goes out through the queue: an authenticated user, and a transport that sends. */
  private get outbound(): boolean {
    return this.authUser !== null && this.ctx.submit !== null;
  }

  private resetTransaction(): void {
    this.mailFrom = null;
    this.smtpUtf8 = false;
    this.rcptTo = [];
  }

  private async finishData(data: MessageData): Promise<Answer> {
    let { raw } = data;
    const envelope: Envelope = {
      mailFrom: this.mailFrom ?? '',
      rcptTo: this.rcptTo,
      clientIp: this.remote.address,
      clientPort: this.remote.port,
      helo: this.helo ?? '',
      tls: this.tls,
      authUser: this.authUser,
      listener: this.ctx.listener,
      receivedAt: new Date().toISOString(),
      sessionId: this.id,
    };
    const chaos = await this.chaos('data');
    if (chaos === 'dropped') return { code: 451, text: replyText('hook-failed') };
    if (chaos) return this.refuse('data', chaos);
    // A client that left, or was told 421, while its reply was held never saw a 250: keep nothing.
    if (this.ended || this.closing) {
      this.log.info('smtp client gone before the reply to DATA; nothing stored');
      return { code: 451, text: replyText('hook-failed') };
    }
    const input = { ...this.facts(), envelope, raw, scan: data.scan, sizeExceeded: data.sizeExceeded };
    const verdict = await this.runHook('data', 'hook-failed', () => this.ctx.hooks.data(input));
    if (verdict.kind !== 'accept') return this.refuse('data', verdict);
    this.committing = true;
    try {
      // An authenticated user's mail leaves through the queue; everything else is kept here.
      const submit = this.outbound ? this.ctx.submit : null;
      if (!submit && this.authUser === null && this.ctx.authenticateSender)
        raw = asBuffer(await this.ctx.authenticateSender(envelope, raw));
      else if (!submit && this.ctx.distrustResults) raw = asBuffer(this.ctx.distrustResults(raw));
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
      return { code: 250, text: replyText('queued', id) };
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'spool commit failed');
      return this.refuse('data', defer('spool-failed'));
    } finally {
      this.committing = false;
    }
  }

  // --- replies ---

  private refuse(stage: string, verdict: Refusal): Answer {
    this.ctx.metrics.messagesRejected.inc({ stage, reason: verdict.reason });
    this.log.info({ stage, reason: verdict.reason, verdict: verdict.kind }, 'smtp rejected');
    if (verdict.reply) {
      // RFC 3463: X.7.1 = delivery not authorized, message refused; the class follows the code.
      const enhanced = verdict.reply.enhanced ?? `${Math.floor(verdict.reply.code / 100)}.7.1`;
      return { code: verdict.reply.code, text: `${enhanced} ${verdict.reply.text}` };
    }
    return { code: REPLIES[verdict.reason].code, text: replyText(verdict.reason) };
  }

  private answerRefusal(stage: string, verdict: Refusal): void {
    const answer = this.refuse(stage, verdict);
    this.answer(answer.code, answer.text);
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

  /** Every reply to a command passes here: replies drive the bad-command and AUTH counters. */
  private answer(code: number, text: string | readonly string[]): void {
    if (this.closing || this.ended) return;
    this.wire.reply(code, text);
    if (code === 334) this.guard.expectSaslResponse();
    // A refused DATA: the guard suspended itself on seeing the line; commands go on.
    if (this.guard.suspended) this.guard.resume();
    if (BAD_COMMAND_CODES.has(code) && ++this.badCommands >= this.ctx.config.maxBadCommands) {
      this.hangUp('too-many-bad-commands');
    }
    if (code === 535 && this.closeAfterAuthReply) this.hangUp('auth-too-many-failures');
  }

  /** Replies with `reason` and closes the session. */
  hangUp(reason: ReplyReason): void {
    if (this.ended || this.closing) return;
    if (this.committing) {
      // The client must hear how its message ended (250 or 451) before any 421: a 421 instead of
      // the 250 of a stored message would make it send the message again.
      this.deferredHangUp ??= reason;
      return;
    }
    this.log.info({ reason }, 'smtp closing session');
    if (reason !== 'shutting-down') this.ctx.metrics.messagesRejected.inc({ stage: 'session', reason });
    this.closeWith(REPLIES[reason].code, replyText(reason));
  }

  /** The last reply: nothing is read after it, and the connection ends once it is written. */
  private closeWith(code: number, text: string): void {
    this.closing = true;
    this.wire.reply(code, text);
    this.wire.close();
  }

  private setTimer(name: TimerName, ms: number, fn: () => void): void {
    this.clearTimer(name);
    this.timers.set(name, setTimeout(fn, ms).unref());
  }

  private clearTimer(name: TimerName): void {
    const timer = this.timers.get(name);
    if (!timer) return;
    clearTimeout(timer);
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
    this.wire.current.destroy();
    this.end();
  }
}
