// Evaluates the routes, in priority order, against one message, under a time budget. A route's
// conditions are compiled once (Router is rebuilt when the routes change). Conditions are written
// by users, and a regular expression can be made to backtrack for hours on a crafted message, so
// evaluation runs inside node:vm with a timeout: V8 interrupts even a running regular expression.
// The route that ran out of time is recorded as such and evaluation goes on with the next one.
import vm from 'node:vm';
import type { Condition, Route } from '../domain/route.ts';
import {
  type CompiledCondition,
  ConditionError,
  compileCondition,
  type MatchState,
  type RoutingMessage,
} from './conditions.ts';

export interface RouteVerdict {
  routeId: string;
  matched: boolean;
  /** One sentence: why the route matched or did not, or why it was not looked at. */
  reason: string;
  captures: Record<string, string>;
  /** The envelope recipient a recipient condition matched, if any. */
  recipient: string | null;
  /** It ran out of its time budget (and did not match). */
  timedOut: boolean;
}

export interface Evaluation {
  /** One per route, in evaluation order. */
  verdicts: RouteVerdict[];
  /** The id of the route whose `stop` action ended evaluation, or null. */
  stoppedBy: string | null;
}

export type EnvelopeVerdict =
  | { kind: 'accept' }
  /** No route takes mail for the address. */
  | { kind: 'unknown' }
  | { kind: 'reject'; routeId: string; code: number; text: string };

interface CompiledRoute {
  route: Route;
  tests: CompiledCondition[];
}

/** A route that cannot be compiled, named. */
export class RouteError extends Error {
  readonly routeId: string;
  constructor(routeId: string, message: string) {
    super(message);
    this.routeId = routeId;
  }
}

export function describeCondition(c: Condition): string {
  const not = c.negate ? 'not ' : '';
  switch (c.field) {
    case 'header':
      return c.op === 'exists'
        ? `${not}header ${c.name} exists`
        : `${not}header ${c.name} ${c.op} ${JSON.stringify(c.value ?? '')}`;
    case 'attachment':
      return 'on' in c
        ? `${not}attachment ${c.on} ${c.op} ${JSON.stringify(c.value)}`
        : `${not}an attachment exists`;
    case 'size':
    case 'spam-score':
      return `${not}${c.field} ${c.op} ${c.value}`;
    case 'auth':
      return `${not}${c.check} ${c.op} ${c.value}`;
    default:
      return `${not}${c.field} ${c.op} ${JSON.stringify(c.value)}`;
  }
}

export function routeOrder(a: Route, b: Route): number {
  return a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class Router {
  private readonly compiled: CompiledRoute[];
  private readonly budgetMs: number;
  private readonly context = vm.createContext({});
  private readonly script = new vm.Script('run()');

  /** Throws RouteError naming the first route whose conditions do not compile. */
  constructor(routes: readonly Route[], opts: { budgetMs: number }) {
    this.budgetMs = opts.budgetMs;
    this.compiled = [...routes].sort(routeOrder).map((route) => {
      try {
        return { route, tests: route.conditions.map(compileCondition) };
      } catch (err) {
        if (err instanceof ConditionError)
          throw new RouteError(route.id, `route ${route.id}: ${err.message}`);
        throw err;
      }
    });
  }

  get routes(): Route[] {
    return this.compiled.map((c) => c.route);
  }

  /**
   * What the routes say about one recipient while the SMTP client waits, from the envelope alone:
   * a reject of the first route whose conditions are all on the envelope and hold (before any such
   * route that stops); else whether any route may take mail for the address — one with no
   * recipient condition (a catch-all) or whose recipient conditions hold.
   */
  envelope(mailFrom: string, rcpt: string): EnvelopeVerdict {
    const m: RoutingMessage = {
      mailFrom,
      rcptTo: [rcpt],
      from: '',
      subject: '',
      text: '',
      headers: [],
      attachments: [],
      size: 0,
      spamScore: null,
      auth: null,
    };
    let verdict: EnvelopeVerdict = { kind: 'unknown' };
    const run = () => {
      let known = false;
      for (const c of this.compiled) {
        if (!c.route.enabled) continue;
        const state: MatchState = { captures: {}, recipient: null };
        const onRecipient = c.route.conditions.flatMap((cond, i) =>
          cond.field === 'recipient' ? [c.tests[i]!] : [],
        );
        const envelopeOnly = c.route.conditions.every(
          (cond) => cond.field === 'recipient' || cond.field === 'sender',
        );
        if (envelopeOnly) {
          const holds =
            c.tests.length === 0 ||
            (c.route.match === 'any' ? c.tests.some((t) => t(m, state)) : c.tests.every((t) => t(m, state)));
          if (holds) {
            const refusal = c.route.actions.find((a) => a.type === 'reject');
            if (refusal) {
              verdict = { kind: 'reject', routeId: c.route.id, code: refusal.code, text: refusal.text };
              return;
            }
            known = true;
            if (c.route.actions.some((a) => a.type === 'stop')) break;
          }
          continue;
        }
        // A route that can only refuse (reject, stop) is no catch-all: it makes an address known
        // only through a recipient condition naming it.
        const takes = c.route.actions.some((a) => a.type !== 'reject' && a.type !== 'stop');
        if (
          onRecipient.length === 0 ? takes : c.route.match === 'any' || onRecipient.every((t) => t(m, state))
        )
          known = true;
      }
      verdict = known ? { kind: 'accept' } : { kind: 'unknown' };
    };
    this.context.run = run;
    try {
      this.script.runInContext(this.context, { timeout: this.budgetMs });
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw err;
      // Undecided in time: the message is taken, and the routes judge it after DATA.
      verdict = { kind: 'accept' };
    } finally {
      this.context.run = undefined;
    }
    return verdict;
  }

  evaluate(m: RoutingMessage): Evaluation {
    const verdicts: RouteVerdict[] = [];
    let stoppedBy: string | null = null;
    let i = 0;
    // Runs inside the vm (its timeout interrupts it); `i` tells which route was running.
    const run = () => {
      for (; i < this.compiled.length; i++) {
        const c = this.compiled[i]!;
        if (!c.route.enabled) {
          verdicts.push(skipped(c.route, 'disabled'));
          continue;
        }
        if (stoppedBy !== null) {
          verdicts.push(skipped(c.route, `not looked at: route ${stoppedBy} stopped evaluation`));
          continue;
        }
        const v = judge(c, m);
        verdicts.push(v);
        if (v.matched && c.route.actions.some((a) => a.type === 'stop')) stoppedBy = c.route.id;
      }
    };
    this.context.run = run;
    while (i < this.compiled.length) {
      try {
        this.script.runInContext(this.context, { timeout: this.budgetMs });
      } catch (err) {
        if ((err as { code?: string }).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw err;
        const route = this.compiled[i]!.route;
        verdicts.push({
          routeId: route.id,
          matched: false,
          reason: `its conditions took more than the ${this.budgetMs} ms budget, so it did not match`,
          captures: {},
          recipient: null,
          timedOut: true,
        });
        i++;
      }
    }
    this.context.run = undefined;
    return { verdicts, stoppedBy };
  }
}

function skipped(route: Route, reason: string): RouteVerdict {
  return { routeId: route.id, matched: false, reason, captures: {}, recipient: null, timedOut: false };
}

function judge(c: CompiledRoute, m: RoutingMessage): RouteVerdict {
  const state: MatchState = { captures: {}, recipient: null };
  const { route } = c;
  const verdict = (matched: boolean, reason: string): RouteVerdict => ({
    routeId: route.id,
    matched,
    reason,
    captures: matched ? state.captures : {},
    recipient: matched ? state.recipient : null,
    timedOut: false,
  });
  if (c.tests.length === 0) return verdict(true, 'it has no conditions');
  if (route.match === 'any') {
    const held = c.tests.findIndex((t) => t(m, state));
    return held >= 0
      ? verdict(true, `${describeCondition(route.conditions[held]!)} held`)
      : verdict(false, `none of its ${c.tests.length} conditions held`);
  }
  const failed = c.tests.findIndex((t) => !t(m, state));
  return failed >= 0
    ? verdict(false, `${describeCondition(route.conditions[failed]!)} did not hold`)
    : verdict(true, c.tests.length === 1 ? 'its condition held' : `all ${c.tests.length} conditions held`);
}
