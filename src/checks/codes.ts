// Likely one-time codes in a message (sign-in codes, OTPs, PINs, "ABC-123" confirmation codes),
// ranked by how strongly the words around them say "code". A heuristic, with the reasons it gives,
// so a test can pick the first candidate and a person can see why it was picked. Numbers that are
// clearly something else are skipped: dates, times, years beside a month, prices, amounts with
// separators, phone numbers, and identifiers labelled as such ("Order #123456").
import { htmlToText } from '../mime/html-text.ts';

export type CodeSource = 'subject' | 'text' | 'html';

export interface ExtractedCode {
  /** As typed into a form: digit groups joined ("123 456" → "123456"), letter codes as shown. */
  Code: string;
  Kind: 'numeric' | 'alphanumeric';
  /** 0–100: how likely this is the message's code. */
  Score: number;
  /** The words around it. */
  Context: string;
  Sources: CodeSource[];
  /** Why it scored as it did, strongest first. */
  Reasons: string[];
}

/** Candidates below this are not reported. */
export const MIN_SCORE = 35;
const MAX_CODES = 10;
/** Codes are near the top of a message; a huge body is read only this far. */
const MAX_TEXT = 256 * 1024;

// Words that say "this is a code": "code" also ends passcode, Bestätigungscode, Sicherheitscode.
const STRONG =
  /(code|\botp\b|\bpin\b|one[- ]?time|verification|verify|\b2fa\b|\bmfa\b|two[- ]?(?:factor|step)|\btoken\b|\bkod\b|código|codice)/iu;
const WEAK =
  /\b(sign[- ]?in|log[- ]?in|login|confirm\w*|authenticat\w*|security|password|passwort|reset|activat\w*|access)\b/iu;
// "code" words that are not about signing in.
const NOT_OTP =
  /\b(zip|post(?:al)?|postcode|area|country|promo(?:tional)?|discount|coupon|voucher|gift|source|qr|bar|dial(?:ling)?)\s*-?code/iu;
// A number labelled as one of these is an identifier, not a code.
const LABELS =
  /\b(order|invoice|receipt|ref(?:erence)?|tracking|account|acct|customer|client|ticket|case|booking|reservation|transaction|member(?:ship)?|policy|serial|model|item|sku|part|flight|phone|tel|telephone|fax|mobile|cell|call|zip|postal|postcode|room|suite|apt|unit|street|floor|id)\b\s*(?:number|no\.?|nr\.?|num\.?|id|#)?\s*[:#]?\s*$/iu;
const MONTHS =
  /\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|mon(?:day)?|tue(?:sday)?|wed(?:nesday)?|thu(?:rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)\b/iu;
const CURRENCY_BEFORE = /(?:[$€£¥₹]|\b(?:usd|eur|gbp|chf|jpy|cad|aud|sek|nok|dkk|pln|inr)\b)\s?$/iu;
const CURRENCY_AFTER = /^\s?(?:[$€£¥₹%]|(?:usd|eur|gbp|chf|jpy|cad|aud|sek|nok|dkk|pln|inr)\b)/iu;
const UNIT = /^\d+(?:[KMGT]B|PX|PT|MM|CM|KG|HZ|[KMG]HZ|AM|PM|ST|ND|RD|TH|[KP]|MP)$/;
// URLs and addresses hold digits that are never a code shown to the reader.
const NOT_WORDS = /\b(?:https?|ftp|mailto):\S+|\bwww\.\S+|[^\s@<>]+@[^\s@<>]+\.[a-z]{2,}/giu;
const PHONE = /(?:\+|\b00)?\(?\d[\d\s().-]{6,}\d/g;

interface Candidate {
  code: string;
  kind: ExtractedCode['Kind'];
  /** Offsets of the token in the line. */
  start: number;
  end: number;
  base: number;
  shape: string;
}

const collapse = (s: string) => s.replace(/[\s\u00a0]+/g, ' ').trim();
const digits = (s: string) => s.replace(/\D/g, '');

function isYear(code: string): boolean {
  return /^(19|20)\d\d$/.test(code);
}

/** What a token looks like, or null when it cannot be a code. */
function classify(token: string, start: number): Candidate | null {
  const end = start + token.length;
  if (/^\d{4,8}$/.test(token)) {
    const base = token.length === 6 ? 30 : token.length === 4 ? 15 : 20;
    return { code: token, kind: 'numeric', start, end, base, shape: `${token.length} digits` };
  }
  if (/^\d{3,4}-\d{3,4}$/.test(token)) {
    // "2024-05" is a month; three groups are a date or a phone number and never get here.
    const [a = '', b = ''] = token.split('-');
    if (isYear(a) && Number(b) <= 12) return null;
    return { code: digits(token), kind: 'numeric', start, end, base: 25, shape: 'grouped digits' };
  }
  const plain = token.replace(/-/g, '');
  const groups = token.split('-');
  if (!/^[A-Z0-9]+(?:-[A-Z0-9]+)*$/.test(token) || groups.length > 4) return null;
  if (!/\d/.test(plain) || !/[A-Z]/.test(plain) || plain.length < 4 || plain.length > 12) return null;
  if (groups.some((g) => g.length < 2) || UNIT.test(plain)) return null;
  const base = groups.length > 1 ? 20 : plain.length >= 6 && plain.length <= 8 ? 25 : 15;
  return { code: token, kind: 'alphanumeric', start, end, base, shape: 'letters and digits' };
}

/** Tokens of a line that could be codes, with URLs and addresses blanked out. */
function candidates(line: string): Candidate[] {
  const found: Candidate[] = [];
  const trimmed = line.trim();
  // Digits set one per table cell: "1 2 3 4 5 6".
  if (/^(?:\d\s){3,7}\d$/.test(trimmed)) {
    const start = line.indexOf(trimmed);
    const code = digits(trimmed);
    return [{ code, kind: 'numeric', start, end: start + trimmed.length, base: 30, shape: 'spaced digits' }];
  }
  for (const m of line.matchAll(/[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*/g)) {
    const c = classify(m[0], m.index);
    if (c) found.push(c);
  }
  // "123 456": two groups of three, and no more digit groups beside them.
  for (const m of line.matchAll(/(?<!\d[\s.-]?)\b(\d{3}) (\d{3})\b(?![\s.-]?\d)/g)) {
    found.push({
      code: `${m[1]}${m[2]}`,
      kind: 'numeric',
      start: m.index,
      end: m.index + m[0].length,
      base: 30,
      shape: 'grouped digits',
    });
  }
  return found;
}

/** True when the neighbours show the number is a date, time, amount, price or phone number. */
function isSomethingElse(line: string, c: Candidate, phones: [number, number][]): boolean {
  const before = line.slice(Math.max(0, c.start - 40), c.start);
  const after = line.slice(c.end, c.end + 40);
  if (CURRENCY_BEFORE.test(before) || CURRENCY_AFTER.test(after)) return true;
  if (/\d[.,':/]$/.test(before) || /^[.,':/]\d/.test(after) || /^%/.test(after)) return true;
  if (/#$/.test(before) && /^(?:[0-9A-F]{3}|[0-9A-F]{6})$/i.test(c.code)) return true;
  if (
    c.kind === 'numeric' &&
    isYear(c.code) &&
    (MONTHS.test(before.slice(-15)) || MONTHS.test(after.slice(0, 15)))
  )
    return true;
  if (c.kind === 'numeric' && /(?:©|\(c\)|copyright|since)\s*$/i.test(before)) return true;
  if (LABELS.test(before) && !STRONG.test(before.slice(-25))) return true;
  // "promo code SAVE20", "zip code 94105": a code, but not one that signs anyone in.
  if (NOT_OTP.test(before.slice(-30))) return true;
  return phones.some(([from, to]) => c.start >= from && c.end <= to);
}

/** Spans of the line that read as phone numbers: at least nine digits, or a leading +. */
function phoneSpans(line: string): [number, number][] {
  const spans: [number, number][] = [];
  for (const m of line.matchAll(PHONE)) {
    const count = digits(m[0]).length;
    const grouped = /[\s().-]/.test(m[0].trim());
    if (grouped && (count >= 9 || (m[0].startsWith('+') && count >= 7)))
      spans.push([m.index, m.index + m[0].length]);
  }
  return spans;
}

interface Scored {
  code: string;
  kind: ExtractedCode['Kind'];
  score: number;
  context: string;
  reasons: string[];
  order: number;
}

function keyword(re: RegExp, text: string): string | null {
  const m = re.exec(text);
  return m ? m[0].toLowerCase() : null;
}

/** Scores one candidate from the words before and after it and the lines above. */
function score(line: string, above: string[], c: Candidate, subjectSaysCode: boolean) {
  const before = line.slice(Math.max(0, c.start - 60), c.start);
  const after = line.slice(c.end, c.end + 60);
  const nearest = above.at(-1) ?? '';
  const alone = collapse(line).replace(/[.!]$/, '') === collapse(line.slice(c.start, c.end));
  const reasons = [c.shape];
  let total = c.base;
  const strongBefore = keyword(STRONG, before);
  const strongAfter = keyword(STRONG, after);
  const strongAbove = alone ? keyword(STRONG, above.join(' ')) : null;
  if (strongBefore) {
    total += 45;
    reasons.unshift(`after "${strongBefore}"`);
  } else if (strongAbove) {
    total += 40;
    reasons.unshift(`below "${strongAbove}"`);
  } else if (strongAfter) {
    total += 35;
    reasons.unshift(`before "${strongAfter}"`);
  } else {
    const weak = keyword(WEAK, `${alone ? above.join(' ') : ''} ${before} ${after}`);
    if (weak) {
      total += 20;
      reasons.unshift(`near "${weak}"`);
    }
  }
  if (alone) {
    total += 15;
    reasons.push('on a line of its own');
  }
  if (subjectSaysCode) {
    total += 10;
    reasons.push('the subject mentions a code');
  }
  if (NOT_OTP.test(`${alone ? above.join(' ') : ''} ${before}`)) {
    total -= 45;
    reasons.push('labelled as another kind of code');
  }
  if (c.kind === 'numeric' && isYear(c.code)) {
    // "PIN: 1987" is a PIN; a year standing in a sentence is most likely a year.
    total -= STRONG.test(before.slice(-15)) ? 10 : 30;
    reasons.push('could be a year');
  }
  if (/#\s*$/.test(before)) {
    total -= 20;
    reasons.push('written as a number (#)');
  }
  const context = collapse(`${alone ? nearest : ''} ${line}`);
  return { total: Math.max(0, Math.min(100, total)), reasons, context: context.slice(0, 200) };
}

/** Candidates of one piece of text, scored, in order of appearance. */
function scan(text: string, subjectSaysCode: boolean, orderBase: number): Scored[] {
  const out: Scored[] = [];
  const lines = text.slice(0, MAX_TEXT).split(/\r?\n/);
  let above: string[] = [];
  for (const [index, raw] of lines.entries()) {
    const line = raw.replace(NOT_WORDS, (s) => ' '.repeat(s.length));
    if (line.trim() === '') continue;
    const phones = phoneSpans(line);
    for (const c of candidates(line)) {
      if (isSomethingElse(line, c, phones)) continue;
      const s = score(line, above, c, subjectSaysCode);
      out.push({
        code: c.code,
        kind: c.kind,
        score: s.total,
        context: s.context,
        reasons: s.reasons,
        order: orderBase + index,
      });
    }
    above = [...above, collapse(raw)].slice(-2);
  }
  return out;
}

/** Likely codes, best first: one entry per code, from the subject, the text part and the HTML. */
export function extractCodes(parts: { subject: string; text: string; html: string }): ExtractedCode[] {
  const subjectSaysCode = STRONG.test(parts.subject) && !NOT_OTP.test(parts.subject);
  const found: { source: CodeSource; items: Scored[] }[] = [
    { source: 'subject', items: scan(parts.subject, false, 0) },
    { source: 'text', items: scan(parts.text, subjectSaysCode, 1) },
    {
      source: 'html',
      items: parts.html ? scan(htmlToText(parts.html.slice(0, 4 * MAX_TEXT)), subjectSaysCode, 1) : [],
    },
  ];
  const byCode = new Map<string, ExtractedCode & { order: number }>();
  for (const { source, items } of found) {
    for (const item of items) {
      const seen = byCode.get(item.code);
      if (!seen) {
        byCode.set(item.code, {
          Code: item.code,
          Kind: item.kind,
          Score: item.score,
          Context: item.context,
          Sources: [source],
          Reasons: item.reasons,
          order: item.order,
        });
        continue;
      }
      if (!seen.Sources.includes(source)) seen.Sources.push(source);
      if (item.score > seen.Score)
        Object.assign(seen, { Score: item.score, Context: item.context, Reasons: item.reasons });
    }
  }
  return [...byCode.values()]
    .filter((c) => c.Score >= MIN_SCORE)
    .sort((a, b) => b.Score - a.Score || a.order - b.order)
    .slice(0, MAX_CODES)
    .map(({ order: _order, ...code }) => code);
}
