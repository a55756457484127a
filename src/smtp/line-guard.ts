// Watches the command stream as it arrives, before it is cut into lines (./wire.ts hands it every
// chunk first): an absolute deadline for each command line (a client trickling one byte a second
// keeps the socket's idle timer fresh forever) and the RFC 5321 §4.5.3.1.4 limit of 512 octets per
// line. Acting is done through the session (reply + close), which also stops the wire from cutting
// the offending line.

const LF = 0x0a;
/** RFC 5321 §4.5.3.1.4: a command line is at most 512 octets including CRLF. */
export const MAX_COMMAND_LINE = 512;
/** RFC 4954 §4: AUTH lines and SASL responses may be up to 12288 octets. */
export const MAX_AUTH_LINE = 12288;

export type GuardViolation = 'command-timeout' | 'command-too-long';

type Mode = 'command' | 'suspended' | 'data';

export class LineGuard {
  private readonly commandTimeoutMs: number;
  private readonly onViolation: (v: GuardViolation) => void;
  private mode: Mode = 'command';
  private lineLength = 0;
  /** The first octets of the current line, enough to recognise AUTH and DATA. */
  private head = '';
  private saslPending = false;
  private timer: NodeJS.Timeout | null = null;
  private received = 0;

  constructor(opts: { commandTimeoutMs: number; onViolation: (v: GuardViolation) => void }) {
    this.commandTimeoutMs = opts.commandTimeoutMs;
    this.onViolation = opts.onViolation;
  }

  /** Message data is flowing: the DATA deadline applies instead. */
  enterData(): void {
    this.mode = 'data';
    this.resetLine();
  }

  /** Back to commands: after the reply to DATA, or when a suspension ends. */
  resume(): void {
    this.mode = 'command';
    this.resetLine();
  }

  /** Nothing is judged until resume(): used while the reply to DATA or a TLS handshake is pending. */
  suspend(): void {
    this.mode = 'suspended';
    this.resetLine();
  }

  /**
   * Octets received over the whole session, on every socket watched. The session reads it just
   * before its greeting: anything above 0 then means the client talked out of turn.
   */
  get bytesReceived(): number {
    return this.received;
  }

  get suspended(): boolean {
    return this.mode === 'suspended';
  }

  /** The next line answers a 334 challenge and may be as long as an AUTH line. */
  expectSaslResponse(): void {
    this.saslPending = true;
  }

  stop(): void {
    this.resetLine();
  }

  private resetLine(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.lineLength = 0;
    this.head = '';
  }

  private limit(): number {
    return this.saslPending || /^AUTH(\s|$)/i.test(this.head) ? MAX_AUTH_LINE : MAX_COMMAND_LINE;
  }

  /** Every chunk received, in order, before anything acts on it. */
  feed(chunk: Buffer): void {
    this.received += chunk.length;
    let start = 0;
    while (this.mode === 'command') {
      const lf = chunk.indexOf(LF, start);
      const end = lf === -1 ? chunk.length : lf + 1;
      if (this.head.length < 16) this.head += chunk.toString('latin1', start, Math.min(end, start + 16));
      this.lineLength += end - start;
      if (this.lineLength > this.limit()) {
        this.onViolation('command-too-long');
        return;
      }
      if (lf === -1) break;
      // A complete line: its deadline is met. Suspend after DATA until the session knows whether
      // message data follows (RFC 2920 §3.1: DATA ends a pipelined group).
      const isData = /^DATA\s*$/i.test(this.head);
      this.saslPending = false;
      this.resetLine();
      if (isData) this.suspend();
      start = end;
    }
    if (this.mode === 'command' && this.lineLength > 0 && !this.timer) {
      this.timer = setTimeout(() => this.onViolation('command-timeout'), this.commandTimeoutMs);
      this.timer.unref();
    }
  }
}
