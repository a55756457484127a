// A deliberately small SMTP client for tests that need to see every reply (real clients such as
// swaks, smtplib and nodemailer are used where their behaviour is what is being tested).
import net from 'node:net';

export interface Reply {
  code: number;
  lines: string[];
  text: string;
}

export class LineClient {
  private buffer = '';
  private readonly replies: Reply[] = [];
  private waiters: ((r: Reply) => void)[] = [];
  private partial: string[] = [];
  private closedError: Error | null = null;
  readonly socket: net.Socket;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => this.onData(d));
    const onEnd = (err?: Error) => {
      this.closedError = err ?? new Error('connection closed');
      for (const w of this.waiters) w({ code: 0, lines: [], text: this.closedError.message });
      this.waiters = [];
    };
    socket.on('error', onEnd);
    socket.on('close', () => onEnd());
  }

  static connect(port: number, host = '127.0.0.1'): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host, () => resolve(new LineClient(s)));
      s.once('error', reject);
    });
  }

  private onData(d: string): void {
    this.buffer += d;
    let i = this.buffer.indexOf('\r\n');
    while (i !== -1) {
      const line = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 2);
      this.partial.push(line);
      if (line.length < 4 || line[3] !== '-') {
        const reply: Reply = {
          code: Number(line.slice(0, 3)),
          lines: this.partial,
          text: this.partial.join('\n'),
        };
        this.partial = [];
        const w = this.waiters.shift();
        if (w) w(reply);
        else this.replies.push(reply);
      }
      i = this.buffer.indexOf('\r\n');
    }
  }

  /** The next complete (possibly multi-line) reply; code 0 once the connection has closed. */
  read(): Promise<Reply> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.closedError) return Promise.resolve({ code: 0, lines: [], text: this.closedError.message });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.read();
  }

  /** Sends one message on an open session; returns the final reply to the data. */
  async send(from: string, to: string[], body: string): Promise<Reply> {
    let r = await this.command(`MAIL FROM:<${from}>`);
    if (r.code !== 250) return r;
    for (const rcpt of to) {
      r = await this.command(`RCPT TO:<${rcpt}>`);
      if (r.code !== 250) return r;
    }
    r = await this.command('DATA');
    if (r.code !== 354) return r;
    const stuffed = body.replace(/(^|\r\n)\./g, '$1..');
    this.write(`${stuffed}${stuffed.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
    return this.read();
  }

  close(): void {
    this.socket.destroy();
  }
}
