// Turning mailauth's results into Mailroom's SenderAuth: the structured verdicts and the resinfos
// of the Authentication-Results field, plus the results given when mailauth could not finish.
import type { AuthenticateResult, DKIMResult } from 'mailauth';
import type {
  ArcOutcome,
  AuthVerdict,
  DkimOutcome,
  DmarcOutcome,
  DmarcPolicy,
  SenderAuth,
  SenderAuthInput,
  SpfOutcome,
} from './sender-auth.ts';
import type { GuardedResolver, MessageScan } from './sender-auth-dns.ts';
import { keyName } from './sender-auth-dns.ts';
import { resinfo, resultsValue } from './sender-auth-format.ts';

const VERDICTS = new Set<string>([
  'pass',
  'fail',
  'softfail',
  'neutral',
  'none',
  'temperror',
  'permerror',
  'policy',
]);
const POLICIES = new Set<string>(['none', 'quarantine', 'reject']);

function verdict(result: string | undefined): AuthVerdict {
  if (result === 'temperr') return 'temperror';
  return result && VERDICTS.has(result) ? (result as AuthVerdict) : 'neutral';
}

export interface Context {
  input: SenderAuthInput;
  authservId: string;
  scan: MessageScan;
  guard: GuardedResolver;
  maxSignatures: number;
}

interface Entry<T> {
  outcome: T;
  row: string;
}

function spfEntry(spf: AuthenticateResult['spf'], ctx: Context): Entry<SpfOutcome> {
  if (!spf) return fallbackSpf(ctx, 'permerror', 'SPF was not evaluated');
  const outcome: SpfOutcome = { result: verdict(spf.status.result), domain: spf.domain };
  if (spf.explanation) outcome.explanation = spf.explanation;
  return { outcome, row: spf.info };
}

function dkimEntry(r: DKIMResult, ctx: Context): Entry<DkimOutcome> {
  const domain = r.signingDomain ?? '';
  const selector = r.selector ?? '';
  if (ctx.guard.refused.has(keyName(selector, domain))) {
    // Not verified at all: RFC 8601 §2.7.1 "policy", the signature was not acceptable to us.
    const reason = `not verified, more than ${ctx.maxSignatures} signatures`;
    const outcome: DkimOutcome = { result: 'policy', domain, selector, aligned: false, reason };
    if (r.algo) outcome.algorithm = r.algo;
    const props = [['header.d', domain] as const, ['header.s', selector] as const];
    return { outcome, row: resinfo('dkim', 'policy', reason, props) };
  }
  const outcome: DkimOutcome = {
    result: verdict(r.status.result),
    domain,
    selector,
    aligned: Boolean(r.status.aligned),
  };
  if (r.algo) outcome.algorithm = r.algo;
  const reason = r.status.comment ?? r.status.policy?.['dkim-rules'];
  if (reason) outcome.reason = reason;
  return { outcome, row: r.info };
}

function dkimEntries(
  dkim: AuthenticateResult['dkim'],
  ctx: Context,
): { outcomes: DkimOutcome[]; rows: string[] } {
  // mailauth reports an unsigned message as one "none" result without a signing domain.
  const signed = dkim.results.filter((r) => r.signingDomain || r.status.result !== 'none');
  if (!signed.length) return { outcomes: [], rows: dkim.results.map((r) => r.info) };
  const entries = signed.map((r) => dkimEntry(r, ctx));
  return { outcomes: entries.map((e) => e.outcome), rows: entries.map((e) => e.row) };
}

function dmarcEntry(res: AuthenticateResult): Entry<DmarcOutcome> {
  const dmarc = res.dmarc;
  if (!dmarc) {
    // RFC 9989 §5.3.1: no single author domain, so DMARC cannot be evaluated for this message.
    // With several author domains, naming one of them in header.from would be wrong.
    return fallbackDmarc('', 'permerror', res.dmarcSkipReason ?? 'no-author-domain');
  }
  const outcome: DmarcOutcome = {
    result: verdict(dmarc.status.result),
    domain: dmarc.status.header?.from ?? dmarc.domain,
    policy: POLICIES.has(dmarc.policy) ? (dmarc.policy as DmarcPolicy) : null,
    alignment: { spf: Boolean(dmarc.alignment?.spf?.result), dkim: Boolean(dmarc.alignment?.dkim?.result) },
  };
  if (dmarc.error) outcome.reason = dmarc.error;
  return { outcome, row: dmarc.info };
}

function arcEntry(arc: AuthenticateResult['arc'], ctx: Context): Entry<ArcOutcome> {
  if (!arc) return { outcome: { result: 'none', instances: 0 }, row: resinfo('arc', 'none', undefined) };
  const instances = typeof arc.i === 'number' ? arc.i : ctx.scan.arcInstances;
  const keyFailed = [...ctx.scan.arcKeyNames].some((name) => ctx.guard.failed.has(name));
  if (arc.status.result === 'fail' && !arc.status.comment && keyFailed) {
    // mailauth calls every ARC problem a fail; a key we could not fetch says nothing about the
    // chain, and a later attempt may validate it, which is what temperror means (RFC 8601 §2.7).
    const reason = 'ARC key lookup failed temporarily';
    return { outcome: { result: 'temperror', instances, reason }, row: resinfo('arc', 'temperror', reason) };
  }
  const outcome: ArcOutcome = { result: verdict(arc.status.result), instances };
  if (arc.status.comment) outcome.reason = arc.status.comment;
  return { outcome, row: arc.info ?? resinfo('arc', outcome.result, outcome.reason) };
}

export function fromMailauth(res: AuthenticateResult, ctx: Context): SenderAuth {
  const spf = spfEntry(res.spf, ctx);
  const dkim = dkimEntries(res.dkim, ctx);
  const arc = arcEntry(res.arc, ctx);
  const dmarc = dmarcEntry(res);
  // mailauth's order: DKIM, SPF, ARC, DMARC.
  const rows = [...dkim.rows, spf.row, arc.row, dmarc.row];
  return {
    spf: spf.outcome,
    dkim: dkim.outcomes,
    dmarc: dmarc.outcome,
    arc: arc.outcome,
    authservId: ctx.authservId,
    header: resultsValue(ctx.authservId, rows),
  };
}

function fallbackSpf(ctx: Context, result: AuthVerdict, reason: string): Entry<SpfOutcome> {
  const { mailFrom, helo } = ctx.input;
  const domain = mailFrom ? mailFrom.slice(mailFrom.lastIndexOf('@') + 1).toLowerCase() : helo.toLowerCase();
  const props = [mailFrom ? (['smtp.mailfrom', domain] as const) : (['smtp.helo', helo] as const)];
  return { outcome: { result, domain }, row: resinfo('spf', result, reason, props) };
}

function fallbackDmarc(domain: string, result: AuthVerdict, reason: string): Entry<DmarcOutcome> {
  const outcome = { result, domain, policy: null, alignment: { spf: false, dkim: false }, reason };
  return { outcome, row: resinfo('dmarc', result, reason, [['header.from', domain]]) };
}

/** Results without mailauth's: the deadline ran out, or mailauth failed on this message. */
export function fallbackResult(ctx: Context, result: 'temperror' | 'permerror', reason: string): SenderAuth {
  const spf = fallbackSpf(ctx, result, reason);
  const dmarc = fallbackDmarc(ctx.scan.fromDomain ?? '', result, reason);
  const dkim = ctx.scan.signatures.map((s) => ({
    result,
    domain: s.domain,
    selector: s.selector,
    aligned: false,
    reason,
  }));
  const dkimRows = dkim.length
    ? dkim.map((d) =>
        resinfo('dkim', result, reason, [
          ['header.d', d.domain],
          ['header.s', d.selector],
        ]),
      )
    : [resinfo('dkim', 'none', 'message not signed')];
  const instances = ctx.scan.arcInstances;
  const arc: ArcOutcome = instances ? { result, instances, reason } : { result: 'none', instances };
  const arcRow = resinfo('arc', arc.result, arc.reason);
  return {
    spf: spf.outcome,
    dkim,
    dmarc: dmarc.outcome,
    arc,
    authservId: ctx.authservId,
    header: resultsValue(ctx.authservId, [...dkimRows, spf.row, arcRow, dmarc.row]),
  };
}
