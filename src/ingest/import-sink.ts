// Where polled mail enters the pipeline: each message gets an envelope read from the trace fields
// its server added (Return-Path, Delivered-To, the newest Received), our sender checks, and one
// durable commit with its import keys. From there it is routed and parsed like SMTP mail.
import { newMessageId } from '../domain/ids.ts';
import type { Envelope, Listener } from '../domain/message.ts';
import type { ImportedMessage, ImportSink } from '../sources/types.ts';
import { readHeaderBlock } from './sender-auth-headers.ts';
import type { Spool } from './spool.ts';

export interface ImportSinkDeps {
  spool: Pick<Spool, 'importPolled'>;
  /** Sender checks with the Authentication-Results prepended (as MX mail gets), when configured. */
  authenticate?: (envelope: Envelope, raw: Uint8Array) => Promise<Uint8Array>;
  importedAmong(keys: readonly string[]): Promise<Set<string>>;
  now: () => number;
}

/** The angle-bracketed address of a Return-Path or Delivered-To body; '' for `<>`. */
function address(value: string): string | null {
  const v = value.replace(/\r?\n[ \t]/g, ' ').trim();
  const bracketed = /<([^<>]*)>/.exec(v);
  const a = (bracketed ? bracketed[1]! : v).trim();
  return /^[^\s@]*@?[^\s@]*$/.test(a) ? a : null;
}

// `from helo (rdns [192.0.2.1])`, `from helo ([2001:db8::1])`, `from helo (HELO x) (192.0.2.1)`.
const RECEIVED_FROM = /^\s*from\s+(\S+)[^;]*?\[(?:IPv6:)?([0-9a-fA-F:.]+)\]/i;

/** The envelope a polled message's trace fields tell of. */
export function polledEnvelope(raw: Uint8Array, m: ImportedMessage, receivedAt: string): Envelope {
  const fields = readHeaderBlock(raw).fields;
  const first = (name: string) => fields.find((f) => f.name.toLowerCase() === name)?.value;
  const returnPath = first('return-path');
  const rcpt = first('delivered-to') ?? first('x-original-to') ?? first('envelope-to');
  const received = RECEIVED_FROM.exec((first('received') ?? '').replace(/\r?\n[ \t]/g, ' '));
  const [protocol] = m.source.split(':');
  return {
    mailFrom: (returnPath !== undefined ? address(returnPath) : null) ?? '',
    rcptTo: rcpt !== undefined && address(rcpt) ? [address(rcpt)!] : [],
    clientIp: received?.[2] ?? '',
    clientPort: 0,
    helo: received?.[1] ?? '',
    tls: null,
    authUser: null,
    listener: protocol as Listener,
    receivedAt,
    sessionId: m.source,
  };
}

export function createImportSink(deps: ImportSinkDeps): ImportSink {
  return {
    importedAmong: (keys) => deps.importedAmong(keys),
    async accept(m) {
      const receivedAt = new Date(deps.now()).toISOString();
      const envelope = polledEnvelope(m.raw, m, receivedAt);
      // Without the client's address (no Received field with one) SPF has nothing to check; DKIM,
      // DMARC and ARC still do, so the checks run either way.
      const raw = deps.authenticate ? await deps.authenticate(envelope, m.raw) : m.raw;
      return deps.spool.importPolled(envelope, raw, m.keys, newMessageId());
    },
  };
}
