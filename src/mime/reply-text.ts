// The part of a reply its sender newly wrote (Mailgun's stripped-text, Postmark's StrippedTextReply).
// Quoted history is cut: ">" lines (RFC 3676 §4.5), attribution lines, Outlook header blocks and
// the quote elements of HTML mail; so is the signature. A forwarded message is kept: forwarding
// mail to an inbound route means "process this", so its content is the payload, not history.
// Every check reads a bounded slice of at most a few lines and each line is visited a bounded
// number of times, so a 5 MB body or a 2 MB single line costs linear time.

import { htmlToText } from './html-text.ts';

export interface ReplyInput {
  text?: string | null;
  html?: string | null;
  /**
   * The message's own subject. A forward prefix (Fwd:, FW:, WG:, TR:...) makes an Outlook header
   * block a forward to keep: Outlook writes the same block above quotes and forwards.
   */
  subject?: string | null;
}

export interface ReplyText {
  /** What the sender newly wrote, trimmed; the whole text when nothing quoted or signed was found. */
  reply: string;
  /** The signature block cut from the reply, or null. */
  signature: string | null;
  /** True when a quoted earlier message was found and cut. */
  quoted: boolean;
}

/** Attribution and header checks skip longer lines: real ones are far shorter. */
const MAX_CHECKED_LINE = 300;
/** Gmail hard-wraps a long attribution line; three lines cover its wraps. */
const MAX_ATTRIBUTION_LINES = 3;
/** Lines after "From:" searched for the other fields of an Outlook header block. */
const MAX_HEADER_LINES = 8;
/** A bare "--" (trailing space lost in transit) opens a signature only this short. */
const MAX_BARE_SIGNATURE_LINES = 10;
/** A mobile signature counts only among the last few lines. */
const MOBILE_SIGNATURE_WINDOW = 3;
/** Bounds the look-ahead of Outlook separator checks in HTML (each reads 600 characters). */
const MAX_BORDER_CHECKS = 64;
/** Attributes read from one start tag: class, id, type and style come first in real mail. */
const MAX_TAG = 2048;

// Private-use markers the HTML pass leaves in the text: a quote element opens or closes, or all
// that follows is quote. Removed from the HTML first, so mail cannot forge them.
const MARK = '\uE000';
const OPEN = `${MARK}[`;
const CLOSE = `${MARK}]`;
const REST = `${MARK}!`;

/** [opening, verb]: "On <date>, <name> wrote:" and its translations. */
const ATTRIBUTIONS: ReadonlyArray<readonly [string, string]> = [
  ['on ', ' wrote:'],
  ['am ', ' schrieb '],
  ['le ', ' a écrit:'],
  ['el ', ' escribió:'],
  ['op ', ' schreef '],
  ['il ', ' ha scritto:'],
  ['em ', ' escreveu:'],
  ['den ', ' skrev '],
  ['w dniu ', ' napisał'],
  ['w dniu ', ' pisze:'],
  ['', ' пишет:'],
  ['', ' написал'],
  ['', 'のメッセージ:'],
  ['', 'のメール:'],
  ['', '書きました:'],
];
const VERBS = ATTRIBUTIONS.map(([, verb]) => verb.trimEnd());

const words = (list: string): Set<string> => new Set(list.split('|'));
const FROM_FIELDS = words('from|von|de|van|da|från|fra|od|от|差出人');
const OTHER_FIELDS = words(
  'sent|date|to|cc|subject|gesendet|datum|an|betreff|envoyé|à|objet|enviado|fecha|para|asunto|verzonden|' +
    'aan|onderwerp|inviato|data|a|oggetto|assunto|skickat|till|ämne|sendt|til|emne|wysłano|do|temat|' +
    'отправлено|дата|кому|тема|送信日時|宛先|件名',
);
const ORIGINAL_TITLES = words(
  "original message|ursprüngliche nachricht|message d’origine|message d'origine|mensaje original|" +
    'oorspronkelijk bericht|messaggio originale|mensagem original|ursprungligt meddelande|' +
    'oprindelig meddelelse|opprinnelig melding|wiadomość oryginalna|исходное сообщение|元のメッセージ',
);
const FORWARD_TITLES = words(
  'forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|doorgestuurd bericht|' +
    'messaggio inoltrato|mensagem encaminhada|vidarebefordrat meddelande|videresendt meddelelse|' +
    'videresendt melding|wiadomość przekazana dalej|пересылаемое сообщение|転送されたメッセージ',
);
const FORWARD_INTROS = words(
  'begin forwarded message:|anfang der weitergeleiteten nachricht:|début du message réexpédié:|' +
    'début du message transféré:|inicio del mensaje reenviado:|begin doorgestuurd bericht:|' +
    'inizio messaggio inoltrato:|início da mensagem reencaminhada:',
);
/** Lines mobile mail programs append, matched at the start of a line. */
const MOBILE_SIGNATURES = [
  ...words(
    'sent from my |sent from outlook for |get outlook for |sent from mail for windows|sent from yahoo mail|' +
      'von meinem |gesendet von meinem |envoyé de mon |envoyé depuis mon |enviado desde mi |enviado do meu |' +
      'inviato da |verzonden vanaf mijn |skickat från min |sendt fra min |wysłane z mojego |' +
      'отправлено с моего |iphoneから送信',
  ),
];
/** Forward prefixes of subjects in the common mail programs' languages. */
const FORWARD_SUBJECT = /^\s{0,8}(fwd?|wg|tr|rv|enc|i|vs|vb|doorst|pd)\s?:/i;
const DATE_LIKE = /\d{4}|\d[:.]\d\d/;
const TIME = /\d[:.]\d\d/;

/** Null stands for a line removed as quote, so blank lines around it can be merged. */
type Kept = (string | null)[];
interface Scan {
  kept: Kept;
  forwarded: Kept | null;
  quoted: boolean;
}

export function stripReply(input: ReplyInput): ReplyText {
  const text = input.text ?? '';
  const fromHtml = !/\S/.test(text) && Boolean(input.html);
  const source = fromHtml ? htmlToText(markHtmlQuotes(input.html ?? '')) : text;
  const forwardSubject = FORWARD_SUBJECT.test((input.subject ?? '').slice(0, 40));
  const scan = scanLines(source.split(/\r\n|\r|\n/), fromHtml, forwardSubject);
  const { body, signature } = splitSignature(scan.kept);
  const forwarded = scan.forwarded === null ? '' : render(scan.forwarded);
  const reply = [body, forwarded].filter((part) => part !== '').join('\n\n');
  return { reply, signature, quoted: scan.quoted };
}

function scanLines(lines: string[], markers: boolean, forwardSubject: boolean): Scan {
  const scan: Scan = { kept: [], forwarded: null, quoted: false };
  const forward = (i: number): Scan => {
    dropSeparator(scan.kept);
    scan.forwarded = lines.slice(i).map((line) => (markers && markerOf(line) !== '' ? null : line));
    return scan;
  };
  const quoteToEnd = (): Scan => {
    dropSeparator(scan.kept);
    scan.quoted = true;
    return scan;
  };
  // Outlook quotes and forwards under the same header block; only the subject tells them apart.
  const outlookBlock = (i: number): Scan => (forwardSubject ? forward(i) : quoteToEnd());
  let depth = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const mark = markers ? markerOf(line) : '';
    if (mark === REST) return outlookBlock(i);
    if (mark === OPEN && depth === 0 && forwardInside(lines, i + 1)) return forward(i);
    if (mark === OPEN) depth++;
    if (mark === CLOSE) depth = Math.max(0, depth - 1);
    if (mark !== '' || depth > 0 || isQuoteLine(line)) {
      scan.kept.push(null);
      scan.quoted ||= mark !== CLOSE;
      continue;
    }
    if (isForwardMarker(line)) return forward(i);
    if (FROM_FIELDS.has(fieldName(line)) && isHeaderBlock(lines, i)) return outlookBlock(i);
    if (ORIGINAL_TITLES.has(dashTitle(line))) return outlookBlock(i);
    const attribution = attributionAt(lines, i, markers);
    if (attribution !== null && quoteFollows(lines, attribution.end + 1, markers)) {
      // Only the ">" block after it is quote: text below it is a bottom-posted or inline answer.
      for (let j = i; j <= attribution.end; j++) scan.kept.push(null);
      i = attribution.end;
      scan.quoted = true;
      continue;
    }
    if (attribution?.strong) return quoteToEnd();
    scan.kept.push(line);
  }
  return scan;
}

function markerOf(line: string): string {
  if (line.length > 8) return '';
  const t = line.trim();
  return t === OPEN || t === CLOSE || t === REST ? t : '';
}

const isBlank = (line: string): boolean => !/\S/.test(line);

/** ">" after optional blanks (RFC 3676 §4.5 quote depth; some programs indent it). */
function isQuoteLine(line: string): boolean {
  for (let k = 0; k < line.length; k++) {
    const c = line[k];
    if (c === '>') return true;
    if (c !== ' ' && c !== '\t') return false;
  }
  return false;
}

/** Whitespace collapsed, lower case, "a écrit :" and full-width colons read as "a écrit:". */
function normalize(line: string): string {
  if (line.length > MAX_CHECKED_LINE * MAX_ATTRIBUTION_LINES) return '';
  return line
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase()
    .replace(/ ?[:：]$/, ':');
}

/** The title of a "-----Original Message-----" style line, or ''. */
function dashTitle(line: string): string {
  if (line.length > MAX_CHECKED_LINE) return '';
  const t = line.trim();
  if (!t.startsWith('--') || !t.endsWith('--')) return '';
  let a = 0;
  let b = t.length;
  while (a < b && t[a] === '-') a++;
  while (b > a && t[b - 1] === '-') b--;
  return normalize(t.slice(a, b));
}

function isForwardMarker(line: string): boolean {
  return FORWARD_TITLES.has(dashTitle(line)) || FORWARD_INTROS.has(normalize(line));
}

/** A quote element of HTML mail that holds a forwarded message rather than a quote. */
function forwardInside(lines: string[], from: number): boolean {
  for (let j = from, seen = 0; j < Math.min(lines.length, from + 8) && seen < 3; j++) {
    const line = lines[j] ?? '';
    if (isBlank(line) || markerOf(line) !== '') continue;
    if (isForwardMarker(line)) return true;
    seen++;
  }
  return false;
}

/** Field name of a header-like line ("From:", "*Von:*", "De :"), lower case, or ''. */
function fieldName(line: string): string {
  const head = line.slice(0, 24);
  let colon = head.indexOf(':');
  if (colon === -1) colon = head.indexOf('：');
  return colon <= 0 ? '' : head.slice(0, colon).replaceAll('*', '').trim().toLowerCase();
}

/** "From:" followed by at least two of Sent/Date/To/Cc/Subject: Outlook's quote header. */
function isHeaderBlock(lines: string[], i: number): boolean {
  let others = 0;
  for (let j = i + 1; j < Math.min(lines.length, i + MAX_HEADER_LINES); j++) {
    const line = lines[j] ?? '';
    if (isBlank(line)) break;
    if (OTHER_FIELDS.has(fieldName(line))) others++;
  }
  return others >= 2;
}

/** Drops an Outlook "_____" separator (and the blanks after it) left above a cut quote. */
function dropSeparator(kept: Kept): void {
  let k = kept.length - 1;
  while (k >= 0 && (kept[k] === null || isBlank(kept[k] ?? ''))) k--;
  const t = (kept[k] ?? '').trim();
  if (t.length >= 10 && t.length <= MAX_CHECKED_LINE && /^_+$/.test(t)) kept.length = k;
}

function quoteFollows(lines: string[], from: number, markers: boolean): boolean {
  for (let j = from; j < Math.min(lines.length, from + 3); j++) {
    const line = lines[j] ?? '';
    if (markers && markerOf(line) === OPEN) return true;
    if (!isBlank(line)) return isQuoteLine(line);
  }
  return false;
}

/**
 * The attribution line (possibly wrapped over up to three lines) starting at line i. Strong: an
 * opening word, a verb and a date, so it marks a quote even without ">" below it. Weak: a verb,
 * or Gmail's "<address>:" form, which counts only when a quote follows.
 */
function attributionAt(
  lines: string[],
  i: number,
  markers: boolean,
): { end: number; strong: boolean } | null {
  for (let j = i; j < Math.min(lines.length, i + MAX_ATTRIBUTION_LINES); j++) {
    const line = lines[j] ?? '';
    if (line.length > MAX_CHECKED_LINE || isBlank(line) || isQuoteLine(line)) return null;
    if (markers && markerOf(line) !== '') return null;
    const t = line.trimEnd();
    if (!t.endsWith(':') && !t.endsWith('：')) continue;
    const kind = attributionKind(normalize(lines.slice(i, j + 1).join(' ')));
    if (kind === null) return null;
    if (j > i && !isWrapStart(lines, i, j, kind === 'strong', markers)) return null;
    return { end: j, strong: kind === 'strong' };
  }
  return null;
}

/** A wrapped attribution starts with a dated line, and not just before a dated attribution. */
function isWrapStart(lines: string[], i: number, end: number, strong: boolean, markers: boolean): boolean {
  const first = lines[i] ?? '';
  if (!DATE_LIKE.test(first) || (!strong && first.trim().length < 30)) return false;
  const next = lines[i + 1] ?? '';
  return !(DATE_LIKE.test(next) && attributionAt(lines, i + 1, markers)?.end === end);
}

function attributionKind(s: string): 'strong' | 'weak' | null {
  if (!s.endsWith(':')) return null;
  for (const [opening, verb] of ATTRIBUTIONS) {
    if (!s.includes(verb)) continue;
    // Mail programs write a time or an address; prose such as "On 3 March the bank wrote:" has neither.
    const stamped = TIME.test(s) || (opening !== '' && s.includes('@'));
    if (stamped && s.startsWith(opening)) return 'strong';
  }
  if (VERBS.some((verb) => s.includes(verb))) return 'weak';
  return s.endsWith('>:') && s.includes('@') ? 'weak' : null;
}

function isMobileSignature(line: string): boolean {
  if (line.length > 120) return false;
  const s = normalize(line);
  return MOBILE_SIGNATURES.some((prefix) => s.startsWith(prefix));
}

/**
 * Index of the line that opens the signature, or -1: the first RFC 3676 §4.3 delimiter "-- " (or
 * a bare "--" followed by a short block), or a mobile signature among the last lines.
 */
function signatureStart(kept: Kept): number {
  let start = -1;
  let after = 0;
  for (let k = kept.length - 1; k >= 0; k--) {
    const line = kept[k];
    if (line === null || line === undefined || isBlank(line)) continue;
    if (after > 0 && (line === '-- ' || (line.trimEnd() === '--' && after <= MAX_BARE_SIGNATURE_LINES))) {
      start = k;
    } else if (after < MOBILE_SIGNATURE_WINDOW && isMobileSignature(line)) {
      start = start === -1 ? k : Math.min(start, k);
    }
    after++;
  }
  return start;
}

function splitSignature(kept: Kept): { body: string; signature: string | null } {
  const start = signatureStart(kept);
  if (start === -1) return { body: render(kept), signature: null };
  const delimiter = (kept[start] ?? '').trimEnd() === '--';
  return {
    body: render(kept.slice(0, start)),
    signature: render(kept.slice(delimiter ? start + 1 : start)),
  };
}

/** Lines joined with trailing blanks cut; blank lines around a removed quote merge into one. */
function render(kept: Kept): string {
  const out: string[] = [];
  let blanks = 0;
  let gap = false;
  for (const line of kept) {
    if (line === null) {
      gap = true;
      continue;
    }
    const t = line.trimEnd();
    if (t === '') {
      blanks++;
      continue;
    }
    for (let b = out.length === 0 ? 0 : gap ? Math.min(blanks, 1) : blanks; b > 0; b--) out.push('');
    out.push(t);
    blanks = 0;
    gap = false;
  }
  return out.join('\n').trim();
}

/**
 * Puts markers around the quote elements of HTML mail (Gmail's div.gmail_quote, the
 * blockquote type="cite" of Apple Mail and Thunderbird, Yahoo's yahoo_quoted) and before Outlook's
 * reply header (div#divRplyFwdMsg, or a border-top div before "From:"), then lets htmlToText read it.
 */
function markHtmlQuotes(source: string): string {
  const html = source.replaceAll(MARK, '');
  const out: string[] = [];
  let copied = 0;
  let open: { name: string; depth: number } | null = null;
  let borderChecks = 0;
  for (let i = 0; i < html.length; ) {
    const lt = html.indexOf('<', i);
    if (lt === -1) break;
    const comment = html.startsWith('<!--', lt);
    const end = comment ? html.indexOf('-->', lt + 4) : html.indexOf('>', lt + 1);
    if (end === -1) break;
    const gt = comment ? end + 2 : end;
    i = gt + 1;
    const closing = html[lt + 1] === '/';
    const name = tagNameAt(html, closing ? lt + 2 : lt + 1);
    if (open !== null) {
      if (name === open.name) open.depth += closing ? -1 : 1;
      if (open.depth === 0) {
        out.push(html.slice(copied, i), `<div>${CLOSE}</div>`);
        copied = i;
        open = null;
      }
      continue;
    }
    if (closing || (name !== 'div' && name !== 'blockquote')) continue;
    const tag = html.slice(lt, Math.min(gt, lt + MAX_TAG)).toLowerCase();
    if (tag.includes('gmail_quote') || tag.includes('yahoo_quoted') || /type\s*=\s*["']?cite/.test(tag)) {
      out.push(html.slice(copied, lt), `<div>${OPEN}</div>`);
      copied = lt;
      open = { name, depth: 1 };
    } else if (
      tag.includes('divrplyfwdmsg') ||
      tag.includes('mail-editor-reference-message-container') ||
      (tag.includes('border-top') && borderChecks++ < MAX_BORDER_CHECKS && headerAfter(html, i))
    ) {
      out.push(html.slice(copied, lt), `<div>${REST}</div>`);
      copied = lt;
      break;
    }
  }
  out.push(html.slice(copied));
  return out.join('');
}

function tagNameAt(html: string, from: number): string {
  let end = from;
  while (end < html.length && end - from < 16 && /[A-Za-z0-9]/.test(html[end] ?? '')) end++;
  return html.slice(from, end).toLowerCase();
}

/** Outlook's separator div is followed by a "From:" line; other bordered divs are kept. */
function headerAfter(html: string, from: number): boolean {
  const text = htmlToText(html.slice(from, from + 600));
  return FROM_FIELDS.has(fieldName(text));
}
