// One route condition compiled once into a test on a message. Text matching ignores case; a
// regular expression's named groups become the route's captures (`^support-(?<ticket>\d+)@`
// gives `ticket`).
import type { Condition, TextOp } from '../domain/route.ts';
import { globMatch } from './glob.ts';

/** What conditions look at: the envelope and the parsed message, with its checks. */
export interface RoutingMessage {
  mailFrom: string;
  rcptTo: readonly string[];
  /** The From header's address, '' when absent. */
  from: string;
  subject: string;
  /** The text body, or the HTML body as text when there is no text part. */
  text: string;
  /** Header fields in order, names in lower case. */
  headers: readonly (readonly [string, string])[];
  attachments: readonly { filename: string; contentType: string; size: number }[];
  size: number;
  /** Null when no spam checker scored it. */
  spamScore: number | null;
  /** Null when the sender was not authenticated (mail that did not come through the MX door). */
  auth: { spf: string; dkim: readonly string[]; dmarc: string; arc: string } | null;
}

/** Filled by the tests as they match: named groups of regular expressions, and the recipient matched. */
export interface MatchState {
  captures: Record<string, string>;
  recipient: string | null;
}

export type CompiledCondition = (m: RoutingMessage, state: MatchState) => boolean;

export class ConditionError extends Error {}

/** A text test; `regex` compiles here, so a bad pattern is refused when the route is saved. */
function textTest(op: TextOp, value: string): (s: string, state: MatchState) => boolean {
  switch (op) {
    case 'equals': {
      const v = value.toLowerCase();
      return (s) => s.toLowerCase() === v;
    }
    case 'contains': {
      const v = value.toLowerCase();
      return (s) => s.toLowerCase().includes(v);
    }
    case 'glob':
      return (s) => globMatch(value, s);
    case 'regex': {
      let re: RegExp;
      try {
        re = new RegExp(value, 'i');
      } catch (err) {
        throw new ConditionError(
          `the regular expression ${JSON.stringify(value)} is invalid: ${(err as Error).message}`,
        );
      }
      return (s, state) => {
        const m = re.exec(s);
        if (!m) return false;
        for (const [k, v] of Object.entries(m.groups ?? {})) {
          if (v !== undefined && !(k in state.captures)) state.captures[k] = v;
        }
        return true;
      };
    }
  }
}

function compare(op: 'gt' | 'gte' | 'lt' | 'lte', value: number): (n: number) => boolean {
  switch (op) {
    case 'gt':
      return (n) => n > value;
    case 'gte':
      return (n) => n >= value;
    case 'lt':
      return (n) => n < value;
    case 'lte':
      return (n) => n <= value;
  }
}

function positive(c: Condition): CompiledCondition {
  switch (c.field) {
    case 'recipient': {
      const test = textTest(c.op, c.value);
      return (m, state) => {
        for (const r of m.rcptTo) {
          if (test(r, state)) {
            state.recipient ??= r;
            return true;
          }
        }
        return false;
      };
    }
    case 'sender': {
      const test = textTest(c.op, c.value);
      return (m, state) => test(m.mailFrom, state);
    }
    case 'from': {
      const test = textTest(c.op, c.value);
      return (m, state) => test(m.from, state);
    }
    case 'subject': {
      const test = textTest(c.op, c.value);
      return (m, state) => test(m.subject, state);
    }
    case 'body': {
      const test = textTest(c.op, c.value);
      return (m, state) => test(m.text, state);
    }
    case 'header': {
      const name = c.name.toLowerCase();
      if (c.op === 'exists') return (m) => m.headers.some(([n]) => n === name);
      const test = textTest(c.op, c.value ?? '');
      return (m, state) => m.headers.some(([n, v]) => n === name && test(v, state));
    }
    case 'attachment': {
      if (c.op === 'exists') return (m) => m.attachments.length > 0;
      const test = textTest(c.op, c.value);
      const pick = c.on === 'filename' ? 'filename' : 'contentType';
      return (m, state) => m.attachments.some((a) => test(a[pick], state));
    }
    case 'size': {
      const test = compare(c.op, c.value);
      return (m) => test(m.size);
    }
    case 'spam-score': {
      const test = compare(c.op, c.value);
      // No score: a spam condition cannot hold (nor its negation claim the mail is clean).
      return (m) => m.spamScore !== null && test(m.spamScore);
    }
    case 'auth': {
      const want = c.value.toLowerCase();
      return (m) => {
        if (!m.auth) return false;
        const got = m.auth[c.check];
        return typeof got === 'string' ? got === want : got.includes(want);
      };
    }
  }
}

/** Compiles a condition; throws ConditionError for a pattern that does not compile. */
export function compileCondition(c: Condition): CompiledCondition {
  const test = positive(c);
  if (!c.negate) return test;
  // A negated test leaves no captures behind: what did not match names nothing.
  return (m) => !test(m, { captures: {}, recipient: null });
}
