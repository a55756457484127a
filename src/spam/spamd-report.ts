// Parsing of spamd's answers (SpamAssassin's spamd/PROTOCOL, SPAMD/1.x): the status line, the
// response headers, the `Spam: True ; 15.2 / 5.0` verdict and the rule table at the end of a
// REPORT body. Pure functions over bytes and text; the socket work lives in spamassassin.ts.
//
// The rule table is found by its dashed ruler line, not by its English caption, so a spamd with a
// translated report still parses:
//
//    pts rule name              description
//   ---- ---------------------- ------------------------------------------
//    2.7 MISSING_DATE           Missing Date: header
//   1000 GTUBE                  BODY: Generic Test for Unsolicited Bulk Email
//   -1.5 A_RULE_NAME_LONGER_THAN_THE_COLUMN BODY: a description that spamd
//                               wraps onto indented continuation lines
//
// A spamd whose `report` template was customised to drop the table yields a verdict and a score
// but no rules.
import type { SpamRule } from './types.ts';

/** A complete spamd response, split but not yet interpreted. */
export interface SpamdResponse {
  /** Protocol version from the status line, e.g. `1.1`. */
  version: string;
  /** 0 (EX_OK) on success; a sysexits code (76 = EX_PROTOCOL, ...) on failure. */
  code: number;
  /** Text after the code: `EX_OK`, or the reason for a failure. */
  message: string;
  /** Header names lower-cased. */
  headers: Map<string, string>;
  body: string;
}

/** Thrown for bytes that are not a spamd response; the caller wraps it in a SpamCheckError. */
export class SpamdProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpamdProtocolError';
  }
}

const STATUS_LINE = /^SPAMD\/(\d+\.\d+) +(\d+)(?: +(.*))?$/;
const HEADER_LINE = /^([A-Za-z0-9-]+): *(.*)$/;

/** Index just past the blank line ending the header section, or -1 if it has not arrived yet. */
export function headerEnd(buf: Uint8Array): number {
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] !== 0x0a) continue;
    if (buf[i + 1] === 0x0a) return i + 2;
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}

/**
 * Whether `buf` already holds a whole response, so the client need not wait for the server to
 * close: the header section is complete and the body has reached its Content-length. A response
 * without Content-length (e.g. an error) is only complete at end of stream.
 */
export function isCompleteResponse(buf: Uint8Array): boolean {
  const end = headerEnd(buf);
  if (end < 0) return false;
  const length = /\r?\ncontent-length: *(\d+)\r?\n/i.exec(
    Buffer.from(buf.subarray(0, end)).toString('latin1'),
  );
  return length !== null && buf.length - end >= Number(length[1]);
}

/**
 * Splits a response received in full (at end of stream or once `isCompleteResponse` holds).
 * Throws `SpamdProtocolError` when it is not a spamd response or is cut short.
 */
export function parseSpamdResponse(buf: Uint8Array): SpamdResponse {
  if (buf.length === 0) throw new SpamdProtocolError('spamd closed the connection without answering');
  const end = headerEnd(buf);
  const head = Buffer.from(end < 0 ? buf : buf.subarray(0, end)).toString('latin1');
  const lines = head.split(/\r?\n/).filter((l) => l !== '');
  const status = STATUS_LINE.exec(lines[0] ?? '');
  if (!status) {
    throw new SpamdProtocolError(`not a spamd answer (status line ${JSON.stringify(clip(lines[0] ?? ''))})`);
  }
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const h = HEADER_LINE.exec(line);
    if (!h) throw new SpamdProtocolError(`malformed spamd header line ${JSON.stringify(clip(line))}`);
    headers.set(h[1]!.toLowerCase(), h[2]!.trim());
  }
  const bodyBytes = end < 0 ? new Uint8Array(0) : buf.subarray(end);
  const declared = headers.get('content-length');
  if (declared !== undefined) {
    if (!/^\d+$/.test(declared))
      throw new SpamdProtocolError(`bad spamd Content-length ${JSON.stringify(declared)}`);
    if (bodyBytes.length < Number(declared)) {
      throw new SpamdProtocolError(
        `spamd answer ended early: ${bodyBytes.length} of ${declared} body bytes arrived`,
      );
    }
  }
  const body = Buffer.from(declared === undefined ? bodyBytes : bodyBytes.subarray(0, Number(declared)));
  return {
    version: status[1]!,
    code: Number(status[2]),
    message: (status[3] ?? '').trim(),
    headers,
    body: body.toString('utf8'),
  };
}

/** The verdict header: `True ; 15.2 / 5.0` (spamd before 3.0 said Yes/No). */
export interface SpamVerdict {
  isSpam: boolean;
  score: number;
  threshold: number;
}

const NUMBER = String.raw`-?\d+(?:\.\d+)?`;
const VERDICT = new RegExp(String.raw`^(true|false|yes|no) *; *(${NUMBER}) *\/ *(${NUMBER})$`, 'i');

/** Parses the `Spam:` header value; throws `SpamdProtocolError` when it is malformed. */
export function parseSpamHeader(value: string): SpamVerdict {
  const m = VERDICT.exec(value.trim());
  if (!m) throw new SpamdProtocolError(`malformed spamd Spam header ${JSON.stringify(clip(value))}`);
  const flag = m[1]!.toLowerCase();
  return { isSpam: flag === 'true' || flag === 'yes', score: Number(m[2]), threshold: Number(m[3]) };
}

const RULER = /^-{3,}( +-{3,})+ *$/;
// A rule row starts near the left margin (points are right-aligned in four columns, wider
// scores push the name right); a continuation line is indented under the description column.
const RULE_ROW = new RegExp(`^ {0,3}(${NUMBER}) +([A-Za-z0-9_.:-]+)(?: +(.*))?$`);
const CONTINUATION = /^[ \t]{4,}(\S.*)$/;

/** Rules listed in a REPORT body, in spamd's order, wrapped descriptions joined into one line. */
export function parseReportRules(body: string): SpamRule[] {
  const lines = body.split(/\r?\n/);
  const start = lines.findIndex((l) => RULER.test(l));
  if (start < 0) return [];
  const rules: SpamRule[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') break;
    const row = RULE_ROW.exec(line);
    if (row) {
      // `-0.0` (informational rules) reads as -0; keep it a plain 0.
      rules.push({ Score: Number(row[1]) || 0, Name: row[2]!, Description: (row[3] ?? '').trim() });
      continue;
    }
    const more = CONTINUATION.exec(line);
    const last = rules[rules.length - 1];
    if (more && last) {
      last.Description = last.Description ? `${last.Description} ${more[1]!.trim()}` : more[1]!.trim();
      continue;
    }
    // Anything else ends the table (a customised template may put text after it).
    break;
  }
  return rules;
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}...` : s;
}
