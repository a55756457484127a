// bench/inbox: resident memory of a server process, from /proc/<pid>/status (Linux). VmRSS is the
// current resident set; VmHWM its peak, which writing "5" to /proc/<pid>/clear_refs resets.
import fs from 'node:fs';

export interface Memory {
  rssBytes: number;
  peakBytes: number;
  /** The anonymous part of the resident set (heaps, stacks) and the file-backed part (code). */
  anonBytes: number;
  fileBytes: number;
}

/** The process's current and peak resident set, or null when /proc cannot tell (not Linux, gone). */
export function readMemory(pid: number): Memory | null {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return {
    rssBytes: kb('VmRSS') * 1024,
    peakBytes: kb('VmHWM') * 1024,
    anonBytes: kb('RssAnon') * 1024,
    fileBytes: kb('RssFile') * 1024,
  };
}

/** Resets the kernel's peak (VmHWM) to the current RSS; false when not permitted. */
export function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Samples VmRSS every `everyMs` until stopped. The sampler only runs between the benchmark's own
 * awaits, so a short spike can slip between samples; the kernel's VmHWM (after `resetPeak`) does
 * not miss it, and `stop` reports the larger of the two when the reset worked.
 */
export class RssSampler {
  private readonly pid: number;
  private readonly timer: NodeJS.Timeout;
  private readonly peakResettable: boolean;
  private peak = 0;
  samples = 0;

  constructor(pid: number, everyMs = 20) {
    this.pid = pid;
    this.peakResettable = resetPeak(pid);
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  private sample(): void {
    const m = readMemory(this.pid);
    if (!m) return;
    this.samples++;
    this.peak = Math.max(this.peak, m.rssBytes);
  }

  /** The peak resident set since construction, and where the number came from. */
  stop(): { peakBytes: number; source: 'VmHWM' | 'sampled' } {
    clearInterval(this.timer);
    this.sample();
    const hwm = this.peakResettable ? (readMemory(this.pid)?.peakBytes ?? 0) : 0;
    return hwm > this.peak
      ? { peakBytes: hwm, source: 'VmHWM' }
      : { peakBytes: this.peak, source: 'sampled' };
  }
}
