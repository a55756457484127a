// A small POP3 client (RFC 1939) with CAPA (RFC 2449), STLS (RFC 2595) and implicit TLS. Built
// for polling a maildrop that may be hostile or broken: every command has a read deadline, every
// line and multi-line response has a byte cap, and the sizes the server announces (STAT, LIST) are
// only reported, never used to size a buffer or to decide where a message ends.
import net from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';

export type Pop3ErrorCode = 'ERR' | 'TIMEOUT' | 'CLOSED' | 'PROTOCOL' | 'TOO_LARGE' | 'TLS' | 'UNSUPPORTED';

export class Pop3Error extends Error {
  readonly code: Pop3ErrorCode;
  /** The RFC 2449 §8 response code of a -ERR ('IN-USE', 'AUTH', 'SYS/TEMP'...), when sent. */
  readonly responseCode: string | undefined;
  constructor(code: Pop3ErrorCode, message: string, responseCode?: string) {
    super(message);
    this.name = 'Pop3Error';
    this.code = code;
    this.responseCode = responseCode;
  }
}

export interface Pop3ClientOptions {
  host: string;
  port: number;
  tls: 'implicit' | 'starttls' | 'none';
  tlsOptions?: ConnectionOptions;
  /** Deadline for connecting (TCP, TLS, greeting) and for each command's whole response. */
  timeoutMs: number;
  /** Longest status or listing line; RFC 2449 §4 allows 512 octets, we allow more. 4096 by default. */
  maxLineBytes?: number;
  /** Cap on a CAPA, UIDL or LIST response. 32 MiB by default. */
  maxListingBytes?: number;
}

export interface Pop3Uid {
  /** Message number in this session. */
  n: number;
  uid: string;
}

export interface Pop3Size {
  n: number;
  octets: number;
}

const CRLF = Buffer.from('\r\n');
const DEFAULT_LINE_BYTES = 4096;
const DEFAULT_LISTING_BYTES = 32 * 1024 * 1024;
// RFC 1939 §7: a unique-id is 1 to 70 characters in the range 0x21 to 0x7E.
const UNIQUE_ID = /^[\x21-\x7e]{1,70}$/;

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

/** Reads CRLF-terminated lines from a socket that may be swapped for a TLS one (STLS). */
class LineReader {
  #buf: Buffer = Buffer.alloc(0);
  /** How much of #buf is known to hold no LF, so a long line is not scanned again per chunk. */
  #scanned = 0;
  #error: Error | null = null;
  #waiter: Waiter | null = null;
  #socket: net.Socket;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  get socket(): net.Socket {
    return this.#socket;
  }

  get buffered(): number {
    return this.#buf.length;
  }

  /** Moves reading to `next` (the TLS socket wrapping the current one). */
  switchTo(next: net.Socket): void {
    this.#socket.removeAllListeners('data');
    this.#socket.removeAllListeners('end');
    this.#socket.removeAllListeners('close');
    this.#socket = next;
    this.#attach(next);
  }

  #attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
      this.#wake();
    });
    // What the server sent before closing (the +OK to QUIT, say) can still be read.
    socket.on('end', () => this.fail(new Pop3Error('CLOSED', 'the server closed the connection'), true));
    socket.on('close', () => this.fail(new Pop3Error('CLOSED', 'the connection closed'), true));
    socket.on('error', (err) => this.fail(err));
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    if (!waiter) return;
    if (this.#error) waiter.reject(this.#error);
    else waiter.resolve();
  }

  /**
   * Ends the connection for good: reads reject with the first error once no complete line is
   * left, and none is left unless `keepBuffered` (data that came before a remote close).
   */
  fail(err: Error, keepBuffered = false): void {
    this.#error ??= err;
    if (!keepBuffered) {
      this.#buf = Buffer.alloc(0);
      this.#scanned = 0;
    }
    this.#socket.destroy();
    this.#wake();
  }

  /** One line without its line end; fails with TOO_LARGE once `limit` bytes pass without one. */
  async readLine(limit: number, tooLarge = `a line from the server passed ${limit} bytes`): Promise<Buffer> {
    for (;;) {
      const end = this.#buf.indexOf(0x0a, this.#scanned);
      if (end >= 0 && end < limit) {
        const line = this.#buf.subarray(0, end > 0 && this.#buf[end - 1] === 0x0d ? end - 1 : end);
        this.#buf = this.#buf.subarray(end + 1);
        this.#scanned = 0;
        return line;
      }
      if (end < 0) this.#scanned = this.#buf.length;
      if (end >= limit || this.#buf.length >= limit) {
        const err = new Pop3Error('TOO_LARGE', tooLarge);
        this.fail(err);
        throw err;
      }
      if (this.#error) throw this.#error;
      await new Promise<void>((resolve, reject) => {
        this.#waiter = { resolve, reject };
      });
    }
  }
}

function connectSocket(options: Pop3ClientOptions): net.Socket {
  if (options.tls !== 'implicit') return net.connect({ host: options.host, port: options.port });
  return tls.connect({
    host: options.host,
    port: options.port,
    servername: net.isIP(options.host) ? undefined : options.host,
    ...options.tlsOptions,
  });
}

/** Resolves once the TLS handshake is done. The error listener stays: a late error must not crash. */
function handshake(socket: tls.TLSSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.once('secureConnect', () => resolve());
  });
}

function checkArgument(value: string, what: string): void {
  // A CR or LF would end the command early and smuggle in another one.
  if (/[\r\n\0]/.test(value)) throw new Pop3Error('PROTOCOL', `${what} contains a line break or NUL`);
}

function parseStatus(line: string): { ok: boolean; text: string; code: string | undefined } {
  if (line === '+OK' || line.startsWith('+OK ')) return { ok: true, text: line.slice(4), code: undefined };
  if (line === '-ERR' || line.startsWith('-ERR ')) {
    const text = line.slice(5);
    return { ok: false, text, code: /^\[([^\]]+)\]/.exec(text)?.[1]?.toUpperCase() };
  }
  throw new Pop3Error('PROTOCOL', `not a POP3 status line: ${JSON.stringify(line.slice(0, 100))}`);
}

/** Two numbers of a LIST, UIDL or STAT line, checked to be what RFC 1939 says they are. */
function numberAt(word: string | undefined, what: string): number {
  if (!word || !/^\d{1,15}$/.test(word))
    throw new Pop3Error('PROTOCOL', `bad ${what}: ${JSON.stringify(word)}`);
  return Number(word);
}

export class Pop3Client {
  readonly greeting: string;
  /** CAPA (RFC 2449) keywords with their arguments; null when the server has no CAPA. */
  capabilities: Map<string, string[]> | null = null;
  #reader: LineReader;
  #options: Pop3ClientOptions & { maxLineBytes: number; maxListingBytes: number };
  #secure: boolean;
  #busy = false;

  private constructor(reader: LineReader, greeting: string, options: Pop3ClientOptions) {
    this.#reader = reader;
    this.greeting = greeting;
    this.#secure = options.tls === 'implicit';
    this.#options = {
      ...options,
      maxLineBytes: options.maxLineBytes ?? DEFAULT_LINE_BYTES,
      maxListingBytes: options.maxListingBytes ?? DEFAULT_LISTING_BYTES,
    };
  }

  /** Connects, reads the greeting, negotiates STLS when asked and reads the capabilities. */
  static async connect(options: Pop3ClientOptions): Promise<Pop3Client> {
    const socket = connectSocket(options);
    const reader = new LineReader(socket);
    const timer = setTimeout(
      () => reader.fail(new Pop3Error('TIMEOUT', `no POP3 greeting within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    try {
      const greeting = parseStatus(
        (await reader.readLine(options.maxLineBytes ?? DEFAULT_LINE_BYTES)).toString('latin1'),
      );
      if (!greeting.ok) throw new Pop3Error('ERR', `the server refused the session: ${greeting.text}`);
      const client = new Pop3Client(reader, greeting.text, options);
      clearTimeout(timer);
      await client.capa();
      if (options.tls === 'starttls') await client.#startTls();
      return client;
    } catch (err) {
      reader.fail(err as Error);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** True once the session is encrypted (implicit TLS or after STLS). */
  get secure(): boolean {
    return this.#secure;
  }

  has(capability: string): boolean {
    return this.capabilities?.has(capability.toUpperCase()) ?? false;
  }

  /** RFC 2449 §5; a server without CAPA answers -ERR, which leaves `capabilities` null. */
  async capa(): Promise<Map<string, string[]> | null> {
    const lines = await this.#multi('CAPA', this.#options.maxListingBytes, true);
    this.capabilities =
      lines === null
        ? null
        : new Map(
            lines.map((line) => {
              const [name = '', ...args] = line.toString('latin1').trim().split(/\s+/);
              return [name.toUpperCase(), args];
            }),
          );
    return this.capabilities;
  }

  /** USER/PASS (RFC 1939 §7). The password never appears in an error. */
  async login(user: string, password: string): Promise<void> {
    checkArgument(user, 'the user name');
    checkArgument(password, 'the password');
    await this.#simple(`USER ${user}`);
    await this.#simple(`PASS ${password}`, 'PASS');
  }

  async stat(): Promise<{ count: number; octets: number }> {
    const text = await this.#simple('STAT');
    const [count, octets] = text.split(' ');
    return { count: numberAt(count, 'STAT count'), octets: numberAt(octets, 'STAT size') };
  }

  /** RFC 1939 §7; a server that refuses UIDL fails with code UNSUPPORTED. */
  async uidl(): Promise<Pop3Uid[]> {
    let lines: Buffer[];
    try {
      lines = (await this.#multi('UIDL', this.#options.maxListingBytes)) ?? [];
    } catch (err) {
      if (err instanceof Pop3Error && err.code === 'ERR') {
        throw new Pop3Error('UNSUPPORTED', `the server does not support UIDL (RFC 1939 §7): ${err.message}`);
      }
      throw err;
    }
    const seen = new Set<string>();
    return lines.map((line) => {
      const [n, uid = '', ...extra] = line.toString('latin1').trim().split(' ');
      if (!UNIQUE_ID.test(uid) || extra.length > 0) {
        throw new Pop3Error('PROTOCOL', `bad unique-id listing ${JSON.stringify(line.toString('latin1'))}`);
      }
      // Two messages under one id would let one message's import stand for the other.
      if (seen.has(uid)) throw new Pop3Error('PROTOCOL', `the server listed unique-id ${uid} twice`);
      seen.add(uid);
      return { n: numberAt(n, 'message number'), uid };
    });
  }

  /** The sizes the server claims (RFC 1939 §5); informative only. */
  async list(): Promise<Pop3Size[]> {
    const lines = (await this.#multi('LIST', this.#options.maxListingBytes)) ?? [];
    return lines.map((line) => {
      const [n, octets] = line.toString('latin1').trim().split(/\s+/);
      return { n: numberAt(n, 'message number'), octets: numberAt(octets, 'message size') };
    });
  }

  /**
   * The message, dot-unstuffed (RFC 1939 §3), with CRLF line ends. More than `maxBytes` fails with
   * TOO_LARGE and closes the connection: the rest of the response cannot be skipped safely.
   */
  async retr(n: number, maxBytes: number): Promise<Buffer> {
    const lines = (await this.#multi(`RETR ${numberAt(String(n), 'message number')}`, maxBytes)) ?? [];
    const parts: Buffer[] = [];
    for (const line of lines) parts.push(line, CRLF);
    return Buffer.concat(parts);
  }

  /** Marks a message deleted; the server removes it only at a clean QUIT (RFC 1939 §6). */
  async dele(n: number): Promise<void> {
    await this.#simple(`DELE ${numberAt(String(n), 'message number')}`);
  }

  /** Ends the session (the UPDATE state commits deletions) and closes the connection. */
  async quit(): Promise<void> {
    try {
      await this.#simple('QUIT');
    } finally {
      this.close();
    }
  }

  /** Drops the connection without QUIT: deletions of this session are not committed. */
  close(): void {
    this.#reader.fail(new Pop3Error('CLOSED', 'the client closed the connection'));
  }

  async #startTls(): Promise<void> {
    // RFC 2595 §4: without STLS in a known capability list there is nothing to ask for; never
    // fall back to cleartext.
    if (this.capabilities && !this.has('STLS')) {
      throw new Pop3Error('TLS', 'the server does not offer STLS (RFC 2595)');
    }
    await this.#simple('STLS');
    // Bytes the server sent after its +OK but before the handshake would be read as if they had
    // come over TLS: a response injection. Refuse the session.
    if (this.#reader.buffered > 0)
      throw new Pop3Error('TLS', 'the server sent data before the TLS handshake');
    const plain = this.#reader.socket;
    const secure = tls.connect({
      socket: plain,
      servername: net.isIP(this.#options.host) ? undefined : this.#options.host,
      ...this.#options.tlsOptions,
    });
    await this.#deadline('STLS handshake', handshake(secure));
    this.#reader.switchTo(secure);
    this.#secure = true;
    // RFC 2595 §4: capabilities learnt before TLS are discarded.
    await this.capa();
  }

  /** Rejects and ends the connection when `work` does not finish within the deadline. */
  async #deadline<T>(what: string, work: Promise<T>): Promise<T> {
    const ms = this.#options.timeoutMs;
    const timer = setTimeout(
      () => this.#reader.fail(new Pop3Error('TIMEOUT', `${what}: no answer in ${ms} ms`)),
      ms,
    );
    try {
      return await work;
    } catch (err) {
      // A -ERR leaves the session usable; anything else (a timeout, a broken line) does not.
      if (!(err instanceof Pop3Error && err.code === 'ERR')) this.#reader.fail(err as Error);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One command with a single-line answer; a -ERR rejects with code ERR. */
  #simple(line: string, shown = line): Promise<string> {
    return this.#exclusive(shown, async () => {
      const status = await this.#send(line);
      if (!status.ok)
        throw new Pop3Error('ERR', `${shown.split(' ')[0]} refused: ${status.text}`, status.code);
      return status.text;
    });
  }

  /**
   * One command with a multi-line answer of at most `cap` bytes. A -ERR rejects with code ERR, or
   * resolves null when `errIsNull`.
   */
  #multi(line: string, cap: number, errIsNull = false): Promise<Buffer[] | null> {
    return this.#exclusive(line, async () => {
      const status = await this.#send(line);
      if (status.ok) return this.#readMultiLine(cap);
      if (errIsNull) return null;
      throw new Pop3Error('ERR', `${line.split(' ')[0]} refused: ${status.text}`, status.code);
    });
  }

  async #exclusive<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (this.#busy) throw new Pop3Error('PROTOCOL', 'one POP3 command at a time');
    this.#busy = true;
    try {
      return await this.#deadline(what, work());
    } finally {
      this.#busy = false;
    }
  }

  async #send(line: string): Promise<ReturnType<typeof parseStatus>> {
    this.#reader.socket.write(`${line}\r\n`);
    return parseStatus((await this.#reader.readLine(this.#options.maxLineBytes)).toString('latin1'));
  }

  /** RFC 1939 §3: lines up to a lone ".", with the stuffed leading dot removed; `cap` bytes at most. */
  async #readMultiLine(cap: number): Promise<Buffer[]> {
    const lines: Buffer[] = [];
    const tooLarge = `the response passed ${cap} bytes`;
    let total = 0;
    for (;;) {
      // +3: the stuffed dot and the CRLF of a line that would exactly reach the cap.
      const line = await this.#reader.readLine(cap - total + 3, tooLarge);
      if (line.length === 1 && line[0] === 0x2e) return lines;
      const body = line[0] === 0x2e ? line.subarray(1) : line;
      total += body.length + 2;
      if (total > cap) {
        const err = new Pop3Error('TOO_LARGE', tooLarge);
        this.#reader.fail(err);
        throw err;
      }
      lines.push(body);
    }
  }
}
