// A small Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms
// with labels. Enough for Mailroom's own metrics without a dependency.

type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys
    .map(
      (k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
    )
    .join(',');
}

abstract class Metric {
  readonly name: string;
  readonly help: string;
  abstract readonly type: string;
  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }
  abstract lines(): string[];
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`, ...this.lines()].join(
      '\n',
    );
  }
}

export class Counter extends Metric {
  readonly type = 'counter';
  private readonly values = new Map<string, number>();
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  lines(): string[] {
    if (this.values.size === 0) return [`${this.name} 0`];
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${v}`);
  }
}

export class Gauge extends Metric {
  readonly type = 'gauge';
  private readonly values = new Map<string, number>();
  private collector: (() => number) | null = null;
  set(value: number, labels: Labels = {}): void {
    this.values.set(labelKey(labels), value);
  }
  add(by: number, labels: Labels = {}): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  /** Computes the (unlabelled) value at scrape time. */
  collect(fn: () => number): this {
    this.collector = fn;
    return this;
  }
  lines(): string[] {
    if (this.collector) return [`${this.name} ${this.collector()}`];
    if (this.values.size === 0) return [`${this.name} 0`];
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${v}`);
  }
}

export class Histogram extends Metric {
  readonly type = 'histogram';
  private readonly buckets: number[];
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(name: string, help: string, buckets: number[]) {
    super(name, help);
    this.buckets = [...buckets].sort((a, b) => a - b);
  }
  observe(value: number, labels: Labels = {}): void {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  count(labels: Labels = {}): number {
    return this.series.get(labelKey(labels))?.count ?? 0;
  }
  lines(): string[] {
    const out: string[] = [];
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : '';
      for (const [i, b] of this.buckets.entries())
        out.push(`${this.name}_bucket{${sep}le="${b}"} ${s.counts[i]}`);
      out.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      out.push(`${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`);
      out.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return out;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  register<M extends Metric>(m: M): M {
    this.metrics.push(m);
    return m;
  }
  render(): string {
    return `${this.metrics.map((m) => m.render()).join('\n')}\n`;
  }
}

/** Mailroom's metrics, created once per process by the composition root and passed down. */
export function createMetrics() {
  const registry = new Registry();
  return {
    registry,
    messagesAccepted: registry.register(
      new Counter(
        'mailroom_messages_accepted_total',
        'Messages committed to the spool and acknowledged with 250, by listener.',
      ),
    ),
    messagesRejected: registry.register(
      new Counter(
        'mailroom_messages_rejected_total',
        'Messages or recipients refused, by SMTP stage and reason.',
      ),
    ),
    bytesAccepted: registry.register(
      new Counter('mailroom_message_bytes_total', 'Bytes of message data committed to the spool.'),
    ),
    sessions: registry.register(
      new Counter('mailroom_smtp_sessions_total', 'SMTP sessions opened, by listener.'),
    ),
    sessionsActive: registry.register(
      new Gauge('mailroom_smtp_sessions_active', 'SMTP sessions open now, by listener.'),
    ),
    authFailures: registry.register(
      new Counter('mailroom_smtp_auth_failures_total', 'Failed SMTP AUTH attempts.'),
    ),
    spoolCommitSeconds: registry.register(
      new Histogram(
        'mailroom_spool_commit_seconds',
        'Time from a message being complete to its durable commit.',
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      ),
    ),
    spoolBatchSize: registry.register(
      new Histogram(
        'mailroom_spool_batch_size',
        'Spool appends committed together in one transaction (group commit).',
        [1, 2, 5, 10, 20, 50, 100, 200, 500],
      ),
    ),
    parsed: registry.register(
      new Counter('mailroom_messages_parsed_total', 'Messages parsed, by outcome (parsed, failed).'),
    ),
    parseSeconds: registry.register(
      new Histogram(
        'mailroom_parse_seconds',
        'Time to parse one message in a worker.',
        [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
      ),
    ),
    residentMemory: registry.register(
      new Gauge('process_resident_memory_bytes', 'Resident memory of the process (all its threads).').collect(
        () => process.memoryUsage.rss(),
      ),
    ),
    heapBytes: registry.register(
      new Gauge('mailroom_main_heap_bytes', "The main thread's V8 heap: committed size.").collect(
        () => process.memoryUsage().heapTotal,
      ),
    ),
    idleCollections: registry.register(
      new Counter(
        'mailroom_idle_gc_total',
        'Full collections run by the main thread after a burst of work, once idle (needs --expose-gc).',
      ),
    ),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
