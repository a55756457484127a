// Dates for `after:` and `before:` searches: reads the few forms people type (ISO 8601 with or
// without a time, RFC 2822, "10 March 2024", "today", "yesterday") and turns wall-clock times in
// an IANA time zone into epoch milliseconds, with the built-in Intl time-zone data.

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const FULL_MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** RFC 2822 §4.3 obsolete zone names, in minutes east of UTC. */
const ZONE_NAMES = new Map<string, number>([
  ['z', 0],
  ['ut', 0],
  ['utc', 0],
  ['gmt', 0],
  ['est', -300],
  ['edt', -240],
  ['cst', -360],
  ['cdt', -300],
  ['mst', -420],
  ['mdt', -360],
  ['pst', -480],
  ['pdt', -420],
]);

/** A wall-clock time; `offset` (minutes east of UTC) when the text named one. */
interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  offset: number | null;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The zone's canonical name, or null when the runtime does not know it. '' means UTC. */
export function resolveTimeZone(zone: string | undefined): string | null {
  if (zone === undefined || zone.trim() === '') return 'UTC';
  try {
    return formatter(zone.trim()).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** Epoch ms of a proleptic-Gregorian UTC wall time (years below 100 included). */
function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime();
}

/** The wall-clock date and time in `zone` at instant `t`, as a UTC epoch (seconds precision). */
function wallAt(t: number, zone: string): number {
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(new Date(t))) parts[p.type] = p.value;
  let year = Number(parts.year);
  if (parts.era === 'BC' || parts.era === 'B') year = 1 - year;
  return utc(
    year,
    Number(parts.month),
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
}

/** Minutes-precision offset (ms) of `zone` from UTC at instant `t`. */
function offsetAt(t: number, zone: string): number {
  const whole = Math.floor(t / 1000) * 1000;
  return wallAt(whole, zone) - whole;
}

const DAY = 86_400_000;

/**
 * The instant a wall-clock time (given as a UTC epoch) names in `zone`. A time that happens twice
 * (clocks going back) is the earlier instant; a time skipped by clocks going forward is read with
 * the offset before the change, so 02:30 on a spring-forward night is 03:30 (as Temporal's
 * "compatible" disambiguation does).
 */
export function zonedToEpoch(wall: number, zone: string): number {
  const before = offsetAt(wall - DAY, zone);
  const after = offsetAt(wall + DAY, zone);
  const candidates = [wall - before, wall - after].filter((t) => offsetAt(t, zone) === wall - t);
  if (candidates.length > 0) return Math.min(...candidates);
  return wall - before;
}

function checkedWall(w: Wall): Wall | null {
  if (w.month < 1 || w.month > 12 || w.day < 1) return null;
  const daysInMonth = new Date(utc(w.year, w.month + 1, 0)).getUTCDate();
  if (w.day > daysInMonth) return null;
  if (w.hour > 23 || w.minute > 59 || w.second > 60) return null;
  // A leap second (:60) is read as the last whole second of its minute.
  return w.second === 60 ? { ...w, second: 59 } : w;
}

function monthNumber(name: string): number | null {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n === 'sept') return 9;
  const short = MONTHS.indexOf(n);
  if (short >= 0) return short + 1;
  const full = FULL_MONTHS.indexOf(n);
  return full >= 0 ? full + 1 : null;
}

/** Minutes east of UTC for "+0530", "+05:30", "-08", "Z", "GMT", "EST"…; undefined if not a zone. */
function zoneOffset(text: string | undefined): number | null | undefined {
  if (text === undefined || text === '') return null;
  const named = ZONE_NAMES.get(text.toLowerCase());
  if (named !== undefined) return named;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(text);
  if (!m) return undefined;
  const hours = Number(m[2]);
  const minutes = Number(m[3] ?? 0);
  if (hours > 23 || minutes > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

const TIME = String.raw`(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?`;
const ISO = new RegExp(
  String.raw`^(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?:(?:T|\s)${TIME}\s?(Z|[+-]\d{2}(?::?\d{2})?)?)?$`,
  'i',
);
const WEEKDAY = String.raw`(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?`;
const TAIL = String.raw`(?:\s+${TIME})?(?:\s+([a-z]{1,3}|[+-]\d{2}:?\d{2}))?(?:\s+\([^)]*\))?$`;
/** RFC 2822 and its relatives: "Sun, 10 Mar 2024 14:00:00 +0100", "10 March 2024". */
const DAY_MONTH_YEAR = new RegExp(
  String.raw`^${WEEKDAY}(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+\.?),?\s+(\d{4})${TAIL}`,
  'i',
);
/** "March 10, 2024", "Mar 10 2024 09:00". */
const MONTH_DAY_YEAR = new RegExp(
  String.raw`^${WEEKDAY}([a-z]+\.?)\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})${TAIL}`,
  'i',
);

function fraction(digits: string | undefined): number {
  return digits ? Math.floor(Number(`0.${digits}`) * 1000) : 0;
}

function readWall(text: string): Wall | null {
  let m = ISO.exec(text);
  if (m) {
    const offset = zoneOffset(m[9]);
    if (offset === undefined) return null;
    return checkedWall({
      year: Number(m[1]),
      month: Number(m[3]),
      day: Number(m[4]),
      hour: Number(m[5] ?? 0),
      minute: Number(m[6] ?? 0),
      second: Number(m[7] ?? 0),
      ms: fraction(m[8]),
      offset,
    });
  }
  let day: string | undefined;
  let month: string | undefined;
  m = DAY_MONTH_YEAR.exec(text);
  if (m) [day, month] = [m[1], m[2]];
  else {
    m = MONTH_DAY_YEAR.exec(text);
    if (m) [month, day] = [m[1], m[2]];
  }
  if (!m || day === undefined || month === undefined) return null;
  const monthNo = monthNumber(month);
  const offset = zoneOffset(m[8]);
  if (monthNo === null || offset === undefined) return null;
  return checkedWall({
    year: Number(m[3]),
    month: monthNo,
    day: Number(day),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
    ms: fraction(m[7]),
    offset,
  });
}

/**
 * Epoch ms for a date as typed after `after:` or `before:`, or null when it cannot be read.
 * Accepted: `YYYY-MM-DD` (or with slashes), followed by ` HH:MM[:SS[.fff]]` or `THH:MM[:SS[.fff]]`
 * and an optional `Z`/`±HH:MM`/`±HHMM`; RFC 2822 dates ("Sun, 10 Mar 2024 14:00:00 +0100", zone
 * names like GMT or EST included); "10 March 2024", "March 10, 2024" with an optional time;
 * `today` and `yesterday`. A date without a time is midnight; a time without a zone is read in
 * `zone` (an IANA name that `resolveTimeZone` accepted); `now` anchors today and yesterday.
 */
export function parseSearchDate(text: string, zone: string, now: number): number | null {
  const value = text.trim().replace(/\s+/g, ' ');
  const relative = value.toLowerCase();
  if (relative === 'today' || relative === 'yesterday') {
    const today = new Date(wallAt(now, zone));
    const back = relative === 'yesterday' ? 1 : 0;
    const midnight = utc(today.getUTCFullYear(), today.getUTCMonth() + 1, today.getUTCDate() - back);
    return zonedToEpoch(midnight, zone);
  }
  const w = readWall(value);
  if (!w) return null;
  const wall = utc(w.year, w.month, w.day, w.hour, w.minute, w.second, w.ms);
  if (w.offset !== null) return wall - w.offset * 60_000;
  return zonedToEpoch(wall, zone);
}
