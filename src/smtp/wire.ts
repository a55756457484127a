// SMTP framing on one connection: the byte stream cut into command lines and messages, replies
// written, and the switch to TLS. The session (./session.ts) decides what each line means; this
// file only cuts, strictly in order: while the session works on one line (a hook, a commit) the
// next ones wait here, so pipelined commands (RFC 2920) are answered one by one, in order.
//
// Message data is read with Buffer.indexOf (native), not byte by byte: the bytes between lines
// that start with a dot are taken as they are, and only such lines are looked at (RFC 5321
// §4.5.2 transparency, the terminating <CRLF>.<CRLF>). docs/adr/0014 says why Mailroom frames
// SMTP itself instead of using smtp-server.
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { assemble } from '../runtime/thread-bytes.ts';
import { type DataScan, DataScanner } from './data-scanner.ts';

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const CRLF_DOT = Buffer.from('\r\n.');
/** Unread command input above which the socket is not read until the session catches up. */
const MAX_UNREAD = 64 * 1024;

export interface MessageData {
  /** The message, dot-unstuffed, up to the size limit; a large one in shared memory (src/runtime/thread-bytes.ts). */
  raw: Buffer;
  scan: DataScan;
  /** More than the size limit came: `raw` holds only what fitted. */
  sizeExceeded: boolean;
}

export interface WireHandler {
  /** Every chunk as it arrives, before it is cut (the line guard, the early-talker check). */
  chunk(chunk: Buffer): void;
  /** A command line, its line ending removed; the next line waits until a returned promise settles. */
  line(line: string): void | Promise<void>;
  /** The message after DATA (see startData); the next line waits until the promise settles. */
  data(data: MessageData): Promise<void>;
}

/** One message's data as it arrives: dot-unstuffing, the size limit, the framing scan. */
class DataReader {
  private readonly maxBytes: number;
  private readonly scanner = new DataScanner();
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private seen = 0;
  /** The next byte starts a line (a leading dot is stuffing, or the end). */
  private lineStart = true;
  /** Up to two bytes held back from the last chunk: a CR, a CRLF, or a line-start dot. */
  private carry: Buffer | null = null;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Takes a chunk; returns how much of it the data used when it ended in it, or -1 when it goes on. */
  push(chunk: Buffer): number {
    const carried = this.carry ? this.carry.length : 0;
    const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = null;
    const len = buf.length;
    let pos = 0;
    for (;;) {
      if (this.lineStart) {
        if (pos >= len) return -1;
        if (buf[pos] === DOT) {
          if (pos + 2 >= len) {
            this.carry = buf.subarray(pos);
            return -1;
          }
          if (buf[pos + 1] === CR && buf[pos + 2] === LF) return pos + 3 - carried;
          pos++; // the stuffed dot
        }
        this.lineStart = false;
      }
      const next = buf.indexOf(CRLF_DOT, pos);
      if (next === -1) {
        // A trailing CR or CRLF may begin "\r\n." with the next chunk.
        let end = len;
        if (buf[len - 1] === CR) end = len - 1;
        else if (len >= 2 && buf[len - 2] === CR && buf[len - 1] === LF) end = len - 2;
        if (end < pos) end = pos;
        this.take(buf, pos, end);
        if (end < len) this.carry = Buffer.from(buf.subarray(end));
        return -1;
      }
      this.take(buf, pos, next + 2); // the line ending belongs to the data
      pos = next + 2;
      this.lineStart = true;
    }
  }

  private take(buf: Buffer, start: number, end: number): void {
    if (end <= start) return;
    const part = buf.subarray(start, end);
    this.scanner.push(part);
    this.seen += part.length;
    // Past the limit nothing more is kept: `raw` is always the message's beginning.
    if (this.seen <= this.maxBytes) {
      this.chunks.push(part);
      this.kept += part.length;
    }
  }

  finish(): MessageData {
    return {
      raw: assemble(this.chunks, this.kept),
      scan: this.scanner.finish(),
      sizeExceeded: this.seen > this.maxBytes,
    };
  }
}

export class SmtpWire {
  private socket: Socket;
  private readonly handler: WireHandler;
  /** Command input not cut yet. */
  private unread: Buffer | null = null;
  /** The session is working on a line or a message: input waits. */
  private busy = false;
  private paused = false;
  /** Replies wait in the socket's buffer (a client pipelining without reading): input waits too. */
  private draining = false;
  private closed = false;
  /** Between STARTTLS's 220 and the end of the handshake: input is plaintext to discard. */
  private upgrading = false;
  private reader: DataReader | null = null;
  private readonly onChunk = (chunk: Buffer) => this.receive(chunk);
  private readonly onDrain = () => {
    this.draining = false;
    this.pump();
  };

  constructor(socket: Socket, handler: WireHandler) {
    this.socket = socket;
    this.handler = handler;
    socket.on('data', this.onChunk);
  }

  get current(): Socket {
    return this.socket;
  }

  /** Writes one reply line, or a multi-line reply when given several lines (RFC 5321 §4.2.1). */
  reply(code: number, lines: string | readonly string[]): void {
    if (this.closed || this.upgrading || this.socket.destroyed) return;
    if (typeof lines === 'string') {
      // An empty text still gets its space: "334 " is an empty SASL challenge (RFC 4954 §4).
      this.socket.write(`${code} ${lines}\r\n`);
      return;
    }
    let out = '';
    for (let i = 0; i < lines.length; i++) out += `${code}${i < lines.length - 1 ? '-' : ' '}${lines[i]}\r\n`;
    this.socket.write(out);
  }

  /** Message data follows the line being handled (after the 354): read it until <CRLF>.<CRLF>. */
  startData(maxBytes: number): void {
    this.reader = new DataReader(maxBytes);
  }

  /** No more input is read; replies already written are flushed, then the socket ends. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unread = null;
    this.reader = null;
    this.socket.end();
  }

  /**
   * STARTTLS (RFC 3207): after its 220, the same connection becomes a TLS server socket. Input
   * already received arrived in plaintext after the command and is dropped unread (§4.2: a client
   * must not pipeline past STARTTLS, and what it did must not run inside the TLS session).
   */
  startTls(secureContext: tls.SecureContext, onSecure: (socket: tls.TLSSocket) => void): void {
    const raw = this.socket;
    raw.off('data', this.onChunk);
    this.unread = null;
    this.upgrading = true;
    const secure = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext,
    });
    const fail = () => {
      secure.destroy();
      raw.destroy();
    };
    secure.once('error', fail);
    secure.once('secure', () => {
      secure.off('error', fail);
      this.upgrading = false;
      this.socket = secure;
      secure.on('data', this.onChunk);
      onSecure(secure);
    });
  }

  private receive(chunk: Buffer): void {
    if (this.closed || this.upgrading) return;
    this.handler.chunk(chunk);
    if (this.closed) return;
    if (this.reader && !this.busy && !this.unread) {
      // The common case in DATA: straight to the reader, no copy.
      this.feedData(chunk);
      return;
    }
    this.unread = this.unread ? Buffer.concat([this.unread, chunk]) : chunk;
    if (this.busy || this.draining) {
      if (this.unread.length > MAX_UNREAD && !this.paused) {
        this.paused = true;
        this.socket.pause();
      }
      return;
    }
    this.pump();
  }

  /** Cuts and hands over input until the session is busy or input runs out. */
  private pump(): void {
    while (!this.busy && !this.draining && !this.closed && !this.upgrading) {
      const input = this.unread;
      if (!input) break;
      if (this.reader) {
        this.unread = null;
        this.feedData(input);
        continue;
      }
      // Replies pile up when a client pipelines without reading them: read on once they drain.
      if (this.socket.writableNeedDrain) {
        this.draining = true;
        this.socket.once('drain', this.onDrain);
        break;
      }
      const lf = input.indexOf(LF);
      if (lf === -1) break; // a partial line: the line guard bounds its length and its time
      const end = lf > 0 && input[lf - 1] === CR ? lf - 1 : lf;
      const line = input.toString('utf8', 0, end);
      this.unread = lf + 1 < input.length ? input.subarray(lf + 1) : null;
      const pending = this.handler.line(line);
      if (pending) this.wait(pending);
    }
    if (this.paused && !this.busy && !this.draining && (this.unread?.length ?? 0) <= MAX_UNREAD) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private feedData(chunk: Buffer): void {
    const reader = this.reader!;
    const used = reader.push(chunk);
    if (used === -1) return;
    this.reader = null;
    this.unread = used < chunk.length ? chunk.subarray(used) : null;
    this.wait(this.handler.data(reader.finish()));
  }

  private wait(pending: Promise<void>): void {
    this.busy = true;
    const next = () => {
      this.busy = false;
      this.pump();
    };
    pending.then(next, next);
  }
}
