// The header fields a forward puts on top of the message, and the loop check that reads them back.
//
// Two fields, both new names prepended above everything else, because a DKIM signature covers the
// body and the header fields it names, picked from the bottom up (RFC 6376 §5.4.2): fields added
// on top under names the signer did not sign leave every existing signature valid. Resent-* fields
// (RFC 5322 §3.6.6) are not used: they are for a person re-sending, clients show them oddly, and
// some signers sign them.
//
//   X-Forwarded-To: the addresses it went to, the name Gmail and Exim use, so a reader (or a
//     filter) sees why the message reached them.
//   X-Mailroom-Forwarded: by=<our host name>; route=<route id>; for=<the address it came to>,
//     the loop marker. A name of our own, so nobody else's header counts, and no signer anywhere
//     over-signs it.
//
// Loops: forwarding is refused when the message already carries our marker for the same route
// from this host, since it can only come back to the same route by going round a loop (this is
// Postfix's Delivered-To rule, by route); or when it already carries MAX_FORWARDS_HERE markers of
// ours for any routes (two routes forwarding to each other's addresses); or more than
// MAX_RECEIVED Received fields (RFC 5321 §6.3's hop count, for loops through other systems).
import { fieldsNamed, readHeaderBlock, readTags } from '../../ingest/sender-auth-headers.ts';

export const TRACE_FIELD = 'X-Mailroom-Forwarded';
export const FORWARDED_TO_FIELD = 'X-Forwarded-To';
export const MAX_FORWARDS_HERE = 5;
export const MAX_RECEIVED = 100;

export interface TraceFacts {
  hostname: string;
  routeId: string;
  /** The address the message came to; '' when unknown. */
  recipient: string;
  to: readonly string[];
}

/** Why forwarding this message would loop, or null when it would not. */
export function loopRefusal(raw: Uint8Array, facts: Pick<TraceFacts, 'hostname' | 'routeId'>): string | null {
  const block = readHeaderBlock(raw);
  const host = facts.hostname.toLowerCase();
  const ours = fieldsNamed(block, TRACE_FIELD)
    .map((f) => readTags(f.value.replace(/\r?\n/g, '')))
    .filter((t) => t.get('by')?.toLowerCase() === host);
  if (ours.some((t) => t.get('route') === facts.routeId))
    return `it was forwarded by this route on ${facts.hostname} before and came back (a forwarding loop)`;
  if (ours.length >= MAX_FORWARDS_HERE)
    return `it was forwarded ${ours.length} times on ${facts.hostname} already (a forwarding loop)`;
  const received = fieldsNamed(block, 'Received').length;
  if (received > MAX_RECEIVED)
    return `it has ${received} Received fields, more than ${MAX_RECEIVED} (a mail loop, RFC 5321 §6.3)`;
  return null;
}

/** Anything that could end or split a field or tag: controls, white space, ";" and ",". */
function token(value: string): string {
  return value.replace(/[\x00-\x20\x7f-\x9f;,]/g, '?');
}

/** The two fields, each ending in `eol` (the message's own line break, so lines stay uniform). */
export function traceFields(facts: TraceFacts, eol: string): string {
  const marker = `by=${token(facts.hostname)}; route=${token(facts.routeId)}; for=${token(facts.recipient)}`;
  // Folded after each comma once the line would pass 78 characters (RFC 5322 §2.1.1).
  let line = `${FORWARDED_TO_FIELD}:`;
  let out = '';
  facts.to.forEach((a, i) => {
    const item = ` ${token(a)}${i < facts.to.length - 1 ? ',' : ''}`;
    if (line.length + item.length > 78 && i > 0) {
      out += `${line}${eol}`;
      line = '';
    }
    line += item;
  });
  return `${TRACE_FIELD}: ${marker}${eol}${out}${line}${eol}`;
}
