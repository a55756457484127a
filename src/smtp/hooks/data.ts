// DATA stage: judges the complete message before it is spooled. The framing checks (bare CR/LF,
// line length, size) come from the scanner that watched the bytes arrive.
import type { Config } from '../../config/schema.ts';
import type { Envelope } from '../../domain/message.ts';
import type { DataScan } from '../data-scanner.ts';
import type { SessionFacts, Verdict } from './types.ts';
import { ACCEPT, reject } from './types.ts';

export interface DataInput extends SessionFacts {
  envelope: Envelope;
  raw: Uint8Array;
  scan: DataScan;
  sizeExceeded: boolean;
}

export type DataHook = (input: DataInput) => Verdict | Promise<Verdict>;

export function createDataHook(config: Pick<Config, 'smtpMaxLineLength'>): DataHook {
  const maxLine = config.smtpMaxLineLength;
  return (input) => {
    if (input.sizeExceeded) return reject('message-too-big');
    // Any bare CR or LF means sender and receiver may disagree on where the message ends
    // (SMTP smuggling); refusing the whole DATA keeps a hidden second message from ever counting.
    if (input.scan.bareLineEnding) return reject('bare-line-ending');
    // RFC 5321 §4.5.3.1.6 caps text lines at 1000 octets, but real senders exceed it (minified HTML
    // from scripts) and Postfix and Mailpit accept them; refusing is the operator's choice.
    if (maxLine > 0 && input.scan.longestLine > maxLine) return reject('data-line-too-long');
    return ACCEPT;
  };
}
