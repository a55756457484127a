// bench/ingest: the Markdown tables. Every figure is the median of the runs, followed by each
// run's value in run order when there was more than one: `4,120 (4,010/4,120/4,300)`.
import type { Lag } from './probe.ts';

export type Section = 'new' | 'persistent' | 'lag';

export interface Cell {
  section: Section;
  size: number;
  c: number;
  count: number;
}

/** One run of one target in one cell. Mailroom runs carry the process figures. */
export interface Sample {
  rate: number;
  cpuMsPerMsg?: number;
  rssMb?: number;
  lag?: Lag;
}

/** Samples by target: `mailroom:sqlite`, `mailroom:postgres`, `postfix`, `sink`. */
export type CellResults = Map<string, Sample[]>;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const whole = (x: number) => Math.round(x).toLocaleString('en-US');
const fixed = (digits: number) => (x: number) => x.toFixed(digits);

function figure(xs: number[], fmt: (x: number) => string): string {
  if (xs.length === 0) return '–';
  const m = fmt(median(xs));
  return xs.length > 1 ? `${m} (${xs.map(fmt).join('/')})` : m;
}

function ratio(a: Sample[] | undefined, b: Sample[] | undefined): string {
  if (!a?.length || !b?.length) return '–';
  return (median(a.map((s) => s.rate)) / median(b.map((s) => s.rate))).toFixed(2);
}

function sizeLabel(bytes: number): string {
  return bytes >= 1024 ? `${bytes / 1024} KB` : `${bytes} B`;
}

const pick = (samples: Sample[], f: (s: Sample) => number | undefined) =>
  samples.map(f).filter((x): x is number => x !== undefined);

function processColumns(samples: Sample[]): string[] {
  return [
    figure(
      pick(samples, (s) => s.cpuMsPerMsg),
      fixed(3),
    ),
    figure(
      pick(samples, (s) => s.rssMb),
      fixed(0),
    ),
  ];
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** Throughput table of one section: a row per cell and engine, the peers beside Mailroom. */
export function throughputTable(
  cells: Cell[],
  results: Map<Cell, CellResults>,
  engines: string[],
  peers: string[],
): string[] {
  const hasPostfix = peers.includes('postfix');
  const hasSink = peers.includes('sink');
  const head = ['size', 'c', 'engine', 'Mailroom msgs/s'];
  if (hasPostfix) head.push('Postfix msgs/s');
  if (hasSink) head.push('smtp-sink msgs/s');
  if (hasPostfix) head.push('Mailroom / Postfix');
  if (hasSink) head.push('Mailroom / sink');
  head.push('Mailroom CPU ms/msg', 'Mailroom peak RSS MB');
  const lines = [row(head), row(head.map(() => '---'))];
  for (const cell of cells) {
    const r = results.get(cell);
    if (!r) continue;
    for (const engine of engines) {
      const mr = r.get(`mailroom:${engine}`) ?? [];
      const line = [
        sizeLabel(cell.size),
        String(cell.c),
        engine,
        figure(
          pick(mr, (s) => s.rate),
          whole,
        ),
      ];
      if (hasPostfix)
        line.push(
          figure(
            pick(r.get('postfix') ?? [], (s) => s.rate),
            whole,
          ),
        );
      if (hasSink)
        line.push(
          figure(
            pick(r.get('sink') ?? [], (s) => s.rate),
            whole,
          ),
        );
      if (hasPostfix) line.push(ratio(mr, r.get('postfix')));
      if (hasSink) line.push(ratio(mr, r.get('sink')));
      line.push(...processColumns(mr));
      lines.push(row(line));
    }
  }
  return lines;
}

/** The keeping-pace table: a row per engine. */
export function lagTable(cell: Cell, r: CellResults, engines: string[]): string[] {
  const head = [
    'engine',
    'messages',
    'msgs/s',
    'listed after last 250 (s)',
    'searchable after last 250 (s)',
    'CPU ms/msg',
    'peak RSS MB',
  ];
  const lines = [row(head), row(head.map(() => '---'))];
  for (const engine of engines) {
    const mr = r.get(`mailroom:${engine}`) ?? [];
    lines.push(
      row([
        engine,
        whole(cell.count),
        figure(
          pick(mr, (s) => s.rate),
          whole,
        ),
        figure(
          pick(mr, (s) => s.lag?.listed),
          fixed(2),
        ),
        figure(
          pick(mr, (s) => s.lag?.searchable),
          fixed(2),
        ),
        ...processColumns(mr),
      ]),
    );
  }
  return lines;
}

export function describeCell(cell: Cell): string {
  const how = cell.section === 'new' ? 'new connections' : 'persistent';
  return `${how}, ${sizeLabel(cell.size)}, c=${cell.c}, ${whole(cell.count)} msgs`;
}
