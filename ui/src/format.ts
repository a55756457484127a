// Formatting for display: sizes, dates, addresses, and text from messages made safe to show
// (control and bidirectional-override characters made visible instead of acting). Pure functions.

export interface AddressLike {
  Name: string;
  Address: string;
}

/** "532 B", "12.4 kB", "3.1 MB" (decimal units, as file managers show). */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

/** "1,234" with the reader's grouping. */
export function formatCount(n: number): string {
  return n.toLocaleString();
}

/** Short list time: "14:03" today, "Mar 4" this year, "2023-03-04" before. */
export function formatListTime(iso: string, now = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  if (d.toDateString() === now.toDateString()) {
    return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  }
  if (d.getFullYear() === now.getFullYear()) {
    return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  }
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** Full local date and time, for titles and the message header. */
export function formatFullTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, {
    weekday: 'short',
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** "3 minutes ago" style, for recent times; '' beyond a week. */
export function formatRelative(iso: string, now = Date.now()): string {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '';
  const s = Math.round((now - t) / 1000);
  if (s < 0 || s > 7 * 86400) return '';
  if (s < 45) return 'just now';
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  if (s < 3600) return rtf.format(-Math.round(s / 60), 'minute');
  if (s < 86400) return rtf.format(-Math.round(s / 3600), 'hour');
  return rtf.format(-Math.round(s / 86400), 'day');
}

/** The name when there is one, else the address. */
export function addressLabel(a: AddressLike | null | undefined): string {
  if (!a) return '';
  return a.Name.trim() || a.Address;
}

/** "Ann <ann@example.com>" or just the address. */
export function addressFull(a: AddressLike): string {
  const name = a.Name.trim();
  return name && name !== a.Address ? `${name} <${a.Address}>` : a.Address;
}

/** Up to two letters for an avatar. */
export function initials(a: AddressLike | null | undefined): string {
  const label = addressLabel(a).replace(/[^\p{L}\p{N}\s@._-]/gu, '');
  const words = label.split(/[\s@._-]+/).filter(Boolean);
  const first = words[0]?.[0] ?? '?';
  const second = words.length > 1 ? (words[1]?.[0] ?? '') : '';
  return (first + second).toUpperCase();
}

/** A stable hue (0-359) for an address, so the same sender always gets the same avatar colour. */
export function hueOf(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) | 0;
  return Math.abs(h) % 360;
}

/** A piece of text to show: plain text, or a character shown by its code point instead of used. */
export type Segment = { text: string } | { code: string };

// C0/C1 controls and DEL, bidirectional embeddings, overrides, isolates and marks, the line and
// paragraph separators, zero-width characters and the BOM.
const HAZARD =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u;
const HAZARD_G = new RegExp(HAZARD.source, 'gu');

/** True when `text` has a character that `safeSegments` would show by code point. */
export function hasHazard(text: string): boolean {
  return HAZARD.test(text);
}

/**
 * Splits text from a message (file names, header values) into plain runs and hazardous
 * characters (controls, NUL, RTL overrides...), which the UI shows as visible "U+202E" badges
 * so a name like "invoice\u202Efdp.exe" cannot pose as "invoiceexe.pdf". Tabs and newlines
 * become spaces. At most `max` characters of text are kept.
 */
export function safeSegments(text: string, max = 500): Segment[] {
  const clipped = text.length > max ? `${text.slice(0, max)}…` : text;
  const flat = clipped.replace(/[\t\n\r]+/g, ' ');
  const out: Segment[] = [];
  let last = 0;
  for (const m of flat.matchAll(HAZARD_G)) {
    const at = m.index ?? 0;
    if (at > last) out.push({ text: flat.slice(last, at) });
    const cp = m[0].codePointAt(0) ?? 0;
    out.push({ code: `U+${cp.toString(16).toUpperCase().padStart(4, '0')}` });
    last = at + m[0].length;
  }
  if (last < flat.length) out.push({ text: flat.slice(last) });
  return out;
}

/** A plain-string form of safeSegments, for title attributes and download names. */
export function safeText(text: string, max = 500): string {
  return safeSegments(text, max)
    .map((s) => ('text' in s ? s.text : `[${s.code}]`))
    .join('');
}

/**
 * A file name the browser may save as: the last path component, no hazards, no leading dots,
 * no characters file systems refuse; `fallback` when nothing is left.
 */
export function downloadName(name: string, fallback: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .replace(HAZARD_G, '')
    .replace(/[<>:"|?*]/g, '_')
    .replace(/^[.\s]+/, '')
    .trim()
    .slice(0, 200);
  return cleaned || fallback;
}
