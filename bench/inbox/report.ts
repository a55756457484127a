// bench/inbox: result shapes, the Markdown tables printed at the end, and the JSON file written to
// bench/results/ (git-ignored).
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Diagnosis } from './explain.ts';
import type { UiResult } from './ui.ts';

export const TARGETS = {
  p95Ms: 50,
  rssBytes: 150 * 1000 * 1000,
  uiMs: 1000,
};

export interface QueryResult {
  name: string;
  path: string;
  /** Messages the server says match (messages_count); the mailbox total for plain lists. */
  matched: number | null;
  /** What the corpus says should match; null when unknown. */
  expected: number | null;
  /** Messages in the page returned. */
  returned: number;
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  pass: boolean;
  note?: string;
}

export interface TargetResult {
  /** "mailroom/sqlite", "mailroom/postgres", "mailpit" or "maildev". */
  target: string;
  version?: string;
  error?: string;
  /** 1-minute load average of the machine right after the latency runs (other work skews them). */
  loadAverage?: number;
  fill?: {
    messages: number;
    seconds: number;
    perSecond: number;
    pipelined: boolean;
    /** From the last 250 until every message was stored, parsed and searchable. */
    readySeconds: number;
  };
  rss?: {
    /** Settled, right after start, before any mail. */
    emptyBytes: number | null;
    idleBytes: number | null;
    idleAnonBytes: number | null;
    idleFileBytes: number | null;
    peakDuringLatencyBytes: number | null;
    peakSource: string;
    /** From the first message sent until all were searchable. */
    peakDuringFillBytes: number | null;
  };
  queries: QueryResult[];
  /** Requests this server has no way to ask (a peer's narrower search), with the reason. */
  unsupported?: { name: string; reason: string }[];
  ui: UiResult | null;
  diagnoses: Diagnosis[];
  warnings: string[];
}

const mb = (b: number | null | undefined) =>
  b == null || !Number.isFinite(b) ? 'n/a' : `${(b / 1e6).toFixed(1)} MB`;
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const n = (x: number) => x.toLocaleString('en-US');
const verdict = (ok: boolean | null) => (ok === null ? 'n/a' : ok ? 'PASS' : 'FAIL');

/** The request as a reader wants it: the search text, or the list path. */
function requestText(path: string): string {
  const u = new URL(path, 'http://server');
  const query = u.searchParams.get('query');
  return (query === null ? `${u.pathname}${u.search}` : query).replace(/\|/g, '\\|');
}

function matchedText(q: QueryResult): string {
  if (q.matched === null) return `${q.returned} returned`;
  const exp =
    q.expected === null ? '' : q.expected === q.matched ? ' (as expected)' : ` (expected ${n(q.expected)})`;
  return `${n(q.matched)} matched${exp}`;
}

/** One Markdown table for one server: metric, value, target, PASS/FAIL. */
export function formatTarget(r: TargetResult, requests: number, warmup: number): string {
  const lines = [
    `\n### ${r.target}${r.version ? ` ${r.version}` : ''}: ${requests} sequential keep-alive requests per row after ${warmup} warm-up${r.loadAverage === undefined ? '' : `; load average ${r.loadAverage.toFixed(2)} after them`}\n`,
    '| metric | value | target | result |',
    '|---|---|---|---|',
  ];
  if (r.error) lines.push(`| run | failed: ${r.error.split('\n')[0]} | | FAIL |`);
  if (r.fill) {
    const f = r.fill;
    lines.push(
      `| fill over SMTP | ${n(f.messages)} msgs in ${f.seconds.toFixed(1)} s (${f.perSecond.toFixed(0)}/s, ${f.pipelined ? 'pipelined' : 'not pipelined'}); searchable ${f.readySeconds.toFixed(1)} s after the last 250 | | info |`,
    );
  }
  for (const q of r.queries) {
    lines.push(
      `| ${q.name} \`${requestText(q.path)}\` | p50 ${ms(q.p50)} · p95 ${ms(q.p95)} · p99 ${ms(q.p99)} ms; ${matchedText(q)}${q.note ? `; ${q.note}` : ''} | p95 < ${TARGETS.p95Ms} ms | ${verdict(q.pass)} |`,
    );
  }
  for (const u of r.unsupported ?? []) {
    lines.push(`| ${u.name} | ${u.reason}; not timed | p95 < ${TARGETS.p95Ms} ms | n/a |`);
  }
  if (r.rss) {
    const idle = r.rss.idleBytes;
    const peak = r.rss.peakDuringLatencyBytes;
    lines.push(
      `| RSS at start, empty store | ${mb(r.rss.emptyBytes)} | | info |`,
      `| RSS at idle after the fill | ${mb(idle)} (anonymous ${mb(r.rss.idleAnonBytes)}, file-backed ${mb(r.rss.idleFileBytes)}) | < ${mb(TARGETS.rssBytes)} | ${verdict(idle === null ? null : idle < TARGETS.rssBytes)} |`,
      `| RSS peak during the latency runs | ${mb(peak)} (${r.rss.peakSource}) | < ${mb(TARGETS.rssBytes)} | ${verdict(peak === null ? null : peak < TARGETS.rssBytes)} |`,
      `| RSS peak during the fill | ${mb(r.rss.peakDuringFillBytes)} | | info |`,
    );
  }
  if (r.ui) {
    if (r.ui.status === 'ok') {
      lines.push(
        `| UI first row in Chromium (median of ${r.ui.loadsMs.length}, cold context) | ${ms(r.ui.medianMs)} ms (${r.ui.loadsMs.map(ms).join(', ')}) | < ${TARGETS.uiMs} ms | ${verdict(r.ui.medianMs < TARGETS.uiMs)} |`,
      );
    } else {
      lines.push(
        `| UI first row in Chromium | ${r.ui.reason} | < ${TARGETS.uiMs} ms | ${r.ui.status === 'failed' ? 'FAIL' : 'n/a'} |`,
      );
    }
  }
  for (const w of r.warnings) lines.push(`\nwarning: ${w}`);
  return lines.join('\n');
}

/** p95 of every request, one column per server. */
export function formatComparison(results: TargetResult[]): string {
  const withQueries = results.filter((r) => r.queries.length > 0);
  if (withQueries.length < 2) return '';
  const names = [...new Set(withQueries.flatMap((r) => r.queries.map((q) => q.name)))];
  const lines = [
    '\n### p95 side by side (ms)\n',
    `| request | ${withQueries.map((r) => r.target).join(' | ')} |`,
    `|---|${withQueries.map(() => '---').join('|')}|`,
  ];
  for (const name of names) {
    const cells = withQueries.map((r) => {
      const q = r.queries.find((x) => x.name === name);
      if (!q && r.unsupported?.some((u) => u.name === name)) return 'n/s';
      return q ? `${ms(q.p95)}${q.note ? ' *' : ''}` : '–';
    });
    lines.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  if (withQueries.some((r) => r.queries.some((q) => q.note))) {
    lines.push("\n\\* not comparable, see the note in that server's table");
  }
  if (withQueries.some((r) => r.unsupported?.length)) {
    lines.push('\nn/s: the server has no way to ask this request');
  }
  return lines.join('\n');
}

/** Writes the results as JSON under bench/results/ and returns the file's path. */
export function writeJson(payload: { options: Record<string, unknown>; results: TargetResult[] }): string {
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  fs.mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = `${dir}inbox-${stamp}.json`;
  const machine = {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
  };
  fs.writeFileSync(
    file,
    `${JSON.stringify({ bench: 'inbox', at: new Date().toISOString(), machine, ...payload }, null, 2)}\n`,
  );
  return file;
}
