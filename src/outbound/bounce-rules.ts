// Bounce classification: from a failed attempt's reply (or our own error text when the remote
// never answered), whether a recipient waits for another try or fails for good, and why. The
// provider wording lives in bounce-rules.txt, data an operator can read and extend; this module
// applies it and otherwise falls back on the standard codes (RFC 5321 reply codes, RFC 3463
// enhanced status codes).
import { readFileSync } from 'node:fs';

export const BOUNCE_CATEGORIES = [
  'mailbox-unknown',
  'mailbox-full',
  'domain-unknown',
  'policy',
  'spam',
  'rate-limit',
  'greylist',
  'dns',
  'network',
  'tls',
  'message-too-large',
  'content',
  'auth',
  'other',
] as const;

export type BounceCategory = (typeof BOUNCE_CATEGORIES)[number];
export type BounceAction = 'defer' | 'bounce';

export interface Classification {
  action: BounceAction;
  category: BounceCategory;
  /** The rule line that matched, or null when the codes decided. */
  rule: string | null;
}

export interface BounceRule {
  action: BounceAction;
  category: BounceCategory;
  /** Tried against the normalized reply (see normalizeReply). */
  pattern: RegExp;
  /** 1-based line in the rules text. */
  line: number;
  /** The rule's line as written, trimmed. */
  source: string;
}

export interface ReplyCode {
  /** The RFC 5321 reply code, e.g. 550. */
  code: number | null;
  /** The RFC 3463 enhanced status code, e.g. "5.1.1". */
  enhanced: string | null;
}

const RULE_LINE = /^(\S+)\s+(\S+)\s+(.+)$/;

/** Parses rules text (format in bounce-rules.txt); a bad rule throws an Error naming its line. */
export function parseRules(text: string): BounceRule[] {
  const rules: BounceRule[] = [];
  const lines = text.split(/\r\n|\r|\n/);
  for (const [index, raw] of lines.entries()) {
    const source = raw.trim();
    if (source === '' || source.startsWith('#')) continue;
    const line = index + 1;
    const fail = (why: string): never => {
      throw new Error(`bounce rules line ${line}: ${why}: ${source}`);
    };
    const m = RULE_LINE.exec(source);
    if (!m) return fail('expected "<action> <category> <pattern>"');
    const [, action = '', category = '', body = ''] = m;
    if (action !== 'defer' && action !== 'bounce') return fail(`unknown action "${action}"`);
    if (!isCategory(category)) return fail(`unknown category "${category}"`);
    let pattern: RegExp;
    try {
      pattern = new RegExp(body.trim(), 'i');
    } catch (err) {
      return fail(`invalid pattern (${(err as Error).message})`);
    }
    rules.push({ action, category, pattern, line, source });
  }
  return rules;
}

function isCategory(value: string): value is BounceCategory {
  return (BOUNCE_CATEGORIES as readonly string[]).includes(value);
}

let defaults: BounceRule[] | null = null;

function defaultRules(): BounceRule[] {
  // Read once, on first use: a broken rules file fails the first classification loudly, and
  // later ones cost no I/O.
  defaults ??= parseRules(readFileSync(new URL('./bounce-rules.txt', import.meta.url), 'utf8'));
  return defaults;
}

/** The rules shipped in bounce-rules.txt, parsed once; a copy, so callers may extend it. */
export function loadDefaultRules(): BounceRule[] {
  return [...defaultRules()];
}

const LINE_BREAK = /\r\n|\r|\n/;
// RFC 5321 §4.2: three digits, the first 2-5 and the second 0-5, then a space, a hyphen on all
// but the last line of a multi-line reply, or nothing. RFC 2034 §4: the enhanced code follows,
// class.subject.detail with 1-3 digit subject and detail (RFC 3463 §2).
const CODE = /^([2-5][0-5]\d)(?:[ -]\s*|$)/;
const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)/;

function splitLines(reply: string): string[] {
  return reply
    .split(LINE_BREAK)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/**
 * The codes of a reply such as "550 5.1.1 text" or a multi-line "550-5.1.1 ...\r\n550 5.1.1 ...",
 * read from its first line: every line of a reply carries the same code (RFC 5321 §4.2.1). An
 * enhanced code whose class disagrees with the reply code is ignored, as RFC 2034 §4 requires
 * them to agree and RFC 5321 makes the reply code the one clients act on.
 */
export function replyCode(reply: string): ReplyCode {
  const first = splitLines(reply)[0] ?? '';
  const m = CODE.exec(first);
  if (!m) return { code: null, enhanced: null };
  const code = Number(m[1]);
  const e = ENHANCED.exec(first.slice(m[0].length));
  const enhanced = e && e[1] === String(code)[0] ? e[0] : null;
  return { code, enhanced };
}

/**
 * The text rules are matched against: "<code> <enhanced> <text>", with the lines of a multi-line
 * reply joined by single spaces and their repeated codes dropped, so a phrase the remote
 * wrapped across lines still matches. Without a code the text is kept as it is, spaces collapsed.
 */
export function normalizeReply(reply: string): string {
  const lines = splitLines(reply);
  const { code, enhanced } = replyCode(reply);
  if (code === null) return lines.join(' ').replace(/\s+/g, ' ');
  const texts = lines.map((line) => {
    const m = CODE.exec(line);
    if (!m || Number(m[1]) !== code) return line;
    const rest = line.slice(m[0].length);
    const e = ENHANCED.exec(rest);
    return e && e[0] === enhanced ? rest.slice(e[0].length) : rest;
  });
  return [String(code), enhanced ?? '', ...texts].join(' ').replace(/\s+/g, ' ').trim();
}

/**
 * Classifies a failed attempt's reply. Rules are tried in order and the first match wins; with
 * no match, the enhanced code's class decides (RFC 3463 §2: 4.x.x persistent transient, 5.x.x
 * permanent), else the reply code's first digit (RFC 5321 §4.2.1), else, with no code at all,
 * the remote never gave a verdict (a refused or dropped connection), which is worth another try.
 */
export function classifyReply(reply: string, rules: readonly BounceRule[] = defaultRules()): Classification {
  const text = normalizeReply(reply);
  for (const rule of rules) {
    // search() ignores and restores lastIndex, so a caller's /g pattern cannot carry state over.
    if (text.search(rule.pattern) !== -1) {
      return { action: rule.action, category: rule.category, rule: rule.source };
    }
  }
  const { code, enhanced } = replyCode(reply);
  const cls = enhanced?.[0] ?? (code === null ? null : String(code)[0]);
  if (cls === null) return { action: 'defer', category: 'network', rule: null };
  if (cls === '5') return { action: 'bounce', category: 'other', rule: null };
  // 4xx, and a 2xx/3xx handed in as a failure (a reply out of step with the conversation): a
  // new attempt is the safe answer, and the queue lifetime bounds it.
  return { action: 'defer', category: 'other', rule: null };
}
