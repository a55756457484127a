// SPF (RFC 7208), DKIM (RFC 6376), DMARC (RFC 7489 and its successor RFC 9989) and ARC (RFC 8617)
// for an inbound message, computed by mailauth through an injected resolver, reported as a
// structured result and as an Authentication-Results field (RFC 8601).
import type { AuthenticateResult, DNSResolver } from 'mailauth';
import type { DnsResolver } from './sender-auth-dns.ts';
import { allowedKeyNames, guardResolver, scanMessage } from './sender-auth-dns.ts';
import { authservIdFor } from './sender-auth-format.ts';
import { prependAuthenticationResults, readHeaderBlock } from './sender-auth-headers.ts';
import type { Context } from './sender-auth-results.ts';
import { fallbackResult, fromMailauth } from './sender-auth-results.ts';

export type { DnsResolver } from './sender-auth-dns.ts';
export { UNTRUSTED_RESULTS_FIELD } from './sender-auth-headers.ts';

export type AuthVerdict =
  | 'pass'
  | 'fail'
  | 'softfail'
  | 'neutral'
  | 'none'
  | 'temperror'
  | 'permerror'
  | 'policy';
export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

export interface SpfOutcome {
  result: AuthVerdict;
  /** The domain checked: the MAIL FROM domain, or the HELO name for the null sender. */
  domain: string;
  /** The domain owner's exp= text on a fail (RFC 7208 §6.2): third-party text, show it as such. */
  explanation?: string;
}

export interface DkimOutcome {
  result: AuthVerdict;
  domain: string;
  selector: string;
  /** d= aligns with the From domain under the DMARC record's adkim mode (whatever the result). */
  aligned: boolean;
  algorithm?: string;
  reason?: string;
}

export interface DmarcOutcome {
  result: AuthVerdict;
  /** The author (RFC5322.From) domain, '' when the message has none. */
  domain: string;
  /** The policy the domain asks for (after sp=/np=/t=), null when no record applies. */
  policy: DmarcPolicy | null;
  alignment: { spf: boolean; dkim: boolean };
  reason?: string;
}

export interface ArcOutcome {
  result: AuthVerdict;
  /** ARC sets on the message (the highest i=), 0 without a chain. */
  instances: number;
  reason?: string;
}

export interface SenderAuth {
  spf: SpfOutcome;
  /** One entry per DKIM-Signature, in header order; empty for an unsigned message. */
  dkim: DkimOutcome[];
  dmarc: DmarcOutcome;
  arc: ArcOutcome;
  /** The authserv-id the header was written with (the receiving host name, A-labels). */
  authservId: string;
  /** The value of an Authentication-Results header (without the "Authentication-Results:" name), authserv-id first. */
  header: string;
}

export interface SenderAuthInput {
  /** The message exactly as received. */
  raw: Uint8Array;
  /** The SMTP client's address. */
  clientIp: string;
  /** Its EHLO/HELO name. */
  helo: string;
  /** The envelope sender, '' for the null sender. */
  mailFrom: string;
  /** The receiving host's name, used as authserv-id. */
  hostname: string;
}

export interface SenderAuthDeps {
  resolver: DnsResolver;
  /** Deadline for the whole check; lookups still pending then count as temperror. */
  timeoutMs?: number;
  /** At most this many distinct DKIM keys are fetched per message. */
  maxDkimSignatures?: number;
}

// A few seconds: DNS answers take milliseconds to a few hundred, and a sender whose DNS is slower
// than this gets temperror, which route conditions can treat as "check again later".
export const DEFAULT_TIMEOUT_MS = 5000;
// Real mail carries one to three signatures (author, ESP, a list or forwarder that re-signs); five
// leaves room for that while bounding the key lookups a message can cost us. RFC 6376 §6.1 lets a
// verifier limit the signatures it tries.
export const DEFAULT_MAX_DKIM_SIGNATURES = 5;
// After the deadline every lookup fails at once, so mailauth needs only CPU time to finish; this is
// how long we give it before answering without its results.
const FINISH_GRACE_MS = 250;

let mailauth: Promise<typeof import('mailauth')> | null = null;

/**
 * Loads mailauth, once. It and what it pulls in (BIMI's certificate parsing, an HTTP client, joi)
 * are about a fifth of the main thread's heap, which a node that checks no senders (no
 * --local-domains, no --poll) never needs and every full collection would mark. A node that does
 * check them loads it at start, so its first check is not the slow one.
 */
export function loadSenderChecks(): Promise<typeof import('mailauth')> {
  mailauth ??= import('mailauth');
  return mailauth;
}

async function runMailauth(ctx: Context): Promise<AuthenticateResult> {
  const { input } = ctx;
  const { authenticate } = await loadSenderChecks();
  return authenticate(Buffer.from(input.raw.buffer, input.raw.byteOffset, input.raw.byteLength), {
    ip: input.clientIp,
    // Without a HELO name mailauth uses the client's address literal, which is no domain SPF could check.
    helo: input.helo || undefined,
    // '' is the null reverse-path: SPF then checks postmaster@<HELO name> (RFC 7208 §2.4).
    sender: input.mailFrom,
    mta: ctx.authservId,
    // mailauth's typing names TXT and A answers only; it passes MX objects and the rest through too.
    resolver: ctx.guard.resolve as DNSResolver,
    // The RFCs as written: a body hash mismatch is dkim=fail, rsa-sha1 is not accepted (RFC 8301),
    // arc=none is reported, and identities are written in the RFC 8601 §2.2 form.
    strict: true,
    disableBimi: true,
  });
}

const TIMED_OUT = Symbol('timed out');

/** Settles `graceMs` after the deadline; `cancel` stops it once the work is over. */
function afterAbort(
  signal: AbortSignal,
  graceMs: number,
): { done: Promise<typeof TIMED_OUT>; cancel(): void } {
  const { promise, resolve } = Promise.withResolvers<typeof TIMED_OUT>();
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    timer = setTimeout(() => resolve(TIMED_OUT), graceMs);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const cancel = () => {
    signal.removeEventListener('abort', onAbort);
    clearTimeout(timer);
  };
  return { done: promise, cancel };
}

/**
 * Computes SPF, DKIM, DMARC and ARC results for an inbound message. DNS failures and the deadline
 * give temperror results; the promise only rejects for a hostname that cannot be an authserv-id.
 */
export async function checkSender(input: SenderAuthInput, deps: SenderAuthDeps): Promise<SenderAuth> {
  const authservId = authservIdFor(input.hostname);
  const scan = scanMessage(readHeaderBlock(input.raw));
  const maxSignatures = deps.maxDkimSignatures ?? DEFAULT_MAX_DKIM_SIGNATURES;
  const deadline = new AbortController();
  const allowedKeys = allowedKeyNames(scan, maxSignatures);
  const guard = guardResolver(deps.resolver, { signal: deadline.signal, allowedKeys });
  const ctx: Context = { input, authservId, scan, guard, maxSignatures };
  const timer = setTimeout(() => deadline.abort(), deps.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const late = afterAbort(deadline.signal, FINISH_GRACE_MS);
  const work = runMailauth(ctx);
  // Past the deadline its outcome is no longer awaited; a late failure must not go unhandled.
  work.catch(() => undefined);
  try {
    const res = await Promise.race([work, late.done]);
    if (res === TIMED_OUT) return fallbackResult(ctx, 'temperror', 'sender checks deadline reached');
    return fromMailauth(res, ctx);
  } catch (err) {
    // mailauth failing on a message would fail the same way again: a permanent error for this message.
    return fallbackResult(ctx, 'permerror', `sender checks failed: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
    late.cancel();
  }
}

/** The message with the Authentication-Results field prepended (bytes), for storing. */
export function withAuthenticationResults(raw: Uint8Array, auth: SenderAuth): Uint8Array {
  return prependAuthenticationResults(raw, auth.header, auth.authservId);
}
