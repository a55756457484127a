// A deliberately dumb SMTP client over a raw socket: writes exactly the bytes given and reads
// replies, so tests can send what real clients never would.
import net from 'node:net';
import tls from 'node:tls';

export interface Reply {
  code: number;
  /** Text of every line after the code and separator. */
  lines: string[];
  /** The whole reply as received, lines joined with \n. */
  text: string;
}

export class RawClient {
  private socket: net.Socket | tls.TLSSocket;
  private buffer = '';
  private waiters: (() => void)[] = [];
  closed: Promise<void>;
  isClosed = false;

  private constructor(socket: net.Socket | tls.TLSSocket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => {
      const done = () => {
        this.isClosed = true;
        this.wake();
        resolve();
      };
      socket.once('close', done);
    });
    this.listen(socket);
  }

  private listen(socket: net.Socket | tls.TLSSocket): void {
    socket.on('data', (d: Buffer) => {
      this.buffer += d.toString('latin1');
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static async connect(
    port: number,
    opts: { tls?: boolean; localAddress?: string } = {},
  ): Promise<RawClient> {
    const where = { port, host: '127.0.0.1', localAddress: opts.localAddress };
    const socket = opts.tls ? tls.connect({ ...where, rejectUnauthorized: false }) : net.connect(where);
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** The next complete reply (possibly multi-line); rejects on close or after `ms`. */
  async reply(ms = 3000): Promise<Reply> {
    const end = Date.now() + ms;
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*(\d{3})(?: [^\n]*)?\r?\n/.exec(this.buffer);
      if (m) {
        this.buffer = this.buffer.slice(m[0].length);
        const lines = m[0].trimEnd().split(/\r?\n/);
        return { code: Number(m[1]), lines: lines.map((l) => l.slice(4)), text: lines.join('\n') };
      }
      if (this.isClosed) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer)}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no reply within ${ms} ms; unread: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Connects, reads the greeting and says EHLO; returns the client and the EHLO reply. */
  static async ready(port: number, opts: { tls?: boolean; localAddress?: string } = {}) {
    const client = await RawClient.connect(port, opts);
    const greeting = await client.reply();
    if (greeting.code !== 220) throw new Error(`greeting: ${greeting.text}`);
    const ehlo = await client.command('EHLO client.example.test');
    return { client, ehlo };
  }

  /** Sends a command and returns its reply. */
  async command(line: string, ms?: number): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.reply(ms);
  }

  /** Upgrades the current socket to TLS (after a 220 to STARTTLS). */
  async startTls(): Promise<void> {
    const secure = tls.connect({ socket: this.socket as net.Socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.buffer = '';
    this.listen(secure);
    secure.once('close', () => {
      this.isClosed = true;
      this.wake();
    });
  }

  /** Bytes received that were not consumed as replies. */
  get unread(): string {
    return this.buffer;
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
