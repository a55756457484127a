// bench/deliver: a summary of a V8 CPU profile (node --cpu-prof) of the delivering Mailroom:
// self time by function and by where the code lives (Mailroom's src/ files, each dependency,
// Node's internals), and how much of the wall time the main thread was idle (waiting on I/O).
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function place(url: string): string {
  if (!url) return '(native / V8)';
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (dep) return dep;
  const src = /\/(src\/.+)$/.exec(url)?.[1];
  if (src) return src;
  if (url.startsWith('node:')) return 'node internals';
  return url.replace(/^file:\/\/.*\//, '');
}

export function summarizeProfile(file: string, top = 20): string {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const total = p.endTime - p.startTime;
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName;
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    if (name === '(garbage collector)') gc += us;
    const where = place(n.callFrame.url);
    const key = `${name || '(anonymous)'} ${where}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byPlace.set(where, (byPlace.get(where) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number) => `${((100 * us) / total).toFixed(1)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0)} ms`;
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `| ${k.replace(/\|/g, '\\|')} | ${ms(us)} | ${pct(us)} |`)
      .join('\n');
  return [
    `${ms(total)} profiled, ${ms(busy)} busy (${pct(busy)}), ${ms(idle)} idle, GC ${ms(gc)} (${pct(gc)}).`,
    '',
    '| self time by place | ms | % of wall |',
    '|---|---|---|',
    rows(byPlace),
    '',
    '| self time by function | ms | % of wall |',
    '|---|---|---|',
    rows(byFunction),
  ].join('\n');
}
