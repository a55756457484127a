// A spamd client (SpamAssassin's SPAMC/1.5 protocol over TCP), enough for Mailpit's sa-check:
// one `REPORT` request per message, answered with the verdict header and the rule table.
//
// - Verdict: spamd's own (`Spam: True ; 15.2 / 5.0`), so the daemon's `required_score` decides;
//   Mailpit instead compares the score with a fixed 5.0, which is spamd's default threshold.
// - Scores are spamd's, already rounded by it to one decimal.
// - Size cap: like spamc (whose default limit is 500 KiB), messages above `maxSize` bytes are not
//   sent whole. spamc then skips the check; this client instead sends the first `maxSize` bytes,
//   cut after the last complete line, so large messages (usually big attachments after the text)
//   still get a score from their headers and first parts. SpamAssassin itself scans only the start
//   of large parts, so the score rarely differs.
// - The SMTP context (client IP, HELO, envelope) cannot be passed to spamd: it reads the trace
//   headers of the message instead, including the Received header Mailroom adds.
// - Failures reject with a SpamCheckError (see types.ts).
import net from 'node:net';
import { startDeadline } from './deadline.ts';
import {
  isCompleteResponse,
  parseReportRules,
  parseSpamdResponse,
  parseSpamHeader,
  SpamdProtocolError,
} from './spamd-report.ts';
import { SpamCheckError, type SpamChecker, type SpamContext, type SpamResult } from './types.ts';

/** spamc's default largest message (`--max-size`, 500 KiB). */
export const SPAMD_DEFAULT_MAX_SIZE = 512_000;

/** A REPORT answer is a page of text; anything far larger is not spamd talking. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface SpamAssassinOptions {
  /** spamd's host name or IP address (IPv6 without brackets). */
  host: string;
  port: number;
  /** Deadline for the whole check: connect, send, score, answer. */
  timeoutMs: number;
  /** Bytes of the message sent at most; defaults to `SPAMD_DEFAULT_MAX_SIZE`. */
  maxSize?: number;
}

/**
 * The part of `raw` sent to spamd: all of it when it fits in `maxSize`, else the bytes up to and
 * including the last line feed within the limit (or exactly `maxSize` bytes if it holds none).
 */
export function truncateForSpamd(raw: Uint8Array, maxSize: number): Uint8Array {
  if (raw.length <= maxSize) return raw;
  const lastLf = raw.subarray(0, maxSize).lastIndexOf(0x0a);
  return raw.subarray(0, lastLf < 0 ? maxSize : lastLf + 1);
}

/** Scores messages with a SpamAssassin spamd over TCP. */
export class SpamAssassinChecker implements SpamChecker {
  readonly engine = 'spamassassin' as const;
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  readonly maxSize: number;

  constructor(options: SpamAssassinOptions) {
    this.host = options.host;
    this.port = options.port;
    this.timeoutMs = options.timeoutMs;
    this.maxSize = options.maxSize ?? SPAMD_DEFAULT_MAX_SIZE;
  }

  /** `host:port` as written in the settings, for messages. */
  get address(): string {
    return net.isIPv6(this.host) ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }

  async check(raw: Uint8Array, _context: SpamContext, signal?: AbortSignal): Promise<SpamResult> {
    const message = truncateForSpamd(raw, this.maxSize);
    const answer = await this.exchange(message, signal);
    let verdict: ReturnType<typeof parseSpamHeader>;
    let rules: SpamResult['Rules'];
    try {
      const response = parseSpamdResponse(answer);
      if (response.code !== 0) {
        const reason = response.message || 'no reason given';
        throw new SpamdProtocolError(`spamd refused the check: error ${response.code} (${reason})`);
      }
      const header = response.headers.get('spam');
      if (header === undefined) throw new SpamdProtocolError('spamd answer has no Spam header');
      verdict = parseSpamHeader(header);
      rules = parseReportRules(response.body);
    } catch (err) {
      if (!(err instanceof SpamdProtocolError)) throw err;
      throw new SpamCheckError('spamassassin', 'protocol', `${err.message} (spamd at ${this.address})`, {
        cause: err,
      });
    }
    return {
      IsSpam: verdict.isSpam,
      Error: '',
      Score: verdict.score || 0,
      Rules: rules,
      Engine: this.engine,
    };
  }

  /** Sends one REPORT request and collects the raw answer, under the deadline. */
  private async exchange(message: Uint8Array, signal?: AbortSignal): Promise<Buffer> {
    const deadline = startDeadline(this.timeoutMs, signal);
    try {
      return await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let received = 0;
        let connected = false;
        const socket = net.connect({ host: this.host, port: this.port });
        const fail = (err: SpamCheckError): void => {
          socket.destroy();
          reject(err);
        };
        const done = (): void => {
          socket.destroy();
          resolve(Buffer.concat(chunks, received));
        };
        const onAbort = (): void => {
          fail(
            deadline.expired
              ? this.error(
                  'timeout',
                  connected
                    ? `spamd at ${this.address} did not answer within ${this.timeoutMs} ms`
                    : `could not connect to spamd at ${this.address} within ${this.timeoutMs} ms`,
                )
              : this.error('aborted', `spam check aborted (spamd at ${this.address})`),
          );
        };
        if (deadline.signal.aborted) return onAbort();
        deadline.signal.addEventListener('abort', onAbort, { once: true });
        socket.once('close', () => deadline.signal.removeEventListener('abort', onAbort));

        socket.once('connect', () => {
          connected = true;
          socket.setNoDelay(true);
          socket.write(`REPORT SPAMC/1.5\r\nContent-length: ${message.length}\r\n\r\n`);
          // Half-close after the message, as spamc does: spamd answers, then closes.
          socket.end(message);
        });
        socket.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          received += chunk.length;
          if (received > MAX_RESPONSE_BYTES) {
            fail(
              this.error('protocol', `spamd at ${this.address} sent more than ${MAX_RESPONSE_BYTES} bytes`),
            );
            return;
          }
          // Do not depend on spamd closing: stop once the declared body is in.
          if (isCompleteResponse(Buffer.concat(chunks, received))) done();
        });
        socket.once('end', done);
        socket.once('error', (err: NodeJS.ErrnoException) => {
          // spamd may close early after answering (e.g. while we still write); keep its answer.
          if (received > 0) return done();
          fail(this.connectionError(err, connected));
        });
      });
    } finally {
      deadline.dispose();
    }
  }

  private connectionError(err: NodeJS.ErrnoException, connected: boolean): SpamCheckError {
    const at = `spamd at ${this.address}`;
    if (!connected) {
      const why =
        err.code === 'ECONNREFUSED'
          ? 'connection refused'
          : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
            ? `cannot resolve host ${JSON.stringify(this.host)}`
            : err.message;
      return this.error('unavailable', `cannot connect to ${at}: ${why}`, err);
    }
    return this.error('protocol', `connection to ${at} failed before it answered: ${err.message}`, err);
  }

  private error(kind: SpamCheckError['kind'], message: string, cause?: unknown): SpamCheckError {
    return new SpamCheckError(this.engine, kind, message, cause === undefined ? undefined : { cause });
  }
}
