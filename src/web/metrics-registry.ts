// A small Prometheus registry: counters, gauges and histograms with labels,
// exposed in the text format 0.0.4. The app creates one registry and passes
// it (or the `PipelineMetrics` built on it) into the parts it wires together;
// no module keeps a global registry, so tests get fresh, isolated counts.
//
// Names follow Prometheus conventions: prefix `streamwatch_`, base units
// (`_seconds`, `_bytes`), `_total` on counters. Label values come from small
// fixed sets (topics, groups, detectors, API names): never IPs or hosts.

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export type Labels = Readonly<Record<string, string | number>>;

type MetricType = 'counter' | 'gauge' | 'histogram';

interface MetricOptions<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /** Upper bounds, ascending; `+Inf` is implicit. */
  buckets?: readonly number[];
}

/** Default buckets for durations in seconds, 1 ms to 30 s. */
export const SECONDS_BUCKETS: readonly number[] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The sample value as Prometheus text writes it. */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function renderLabels(names: readonly string[], values: readonly string[], extra?: string): string {
  const parts = names.map((name, i) => `${name}="${escapeLabelValue(values[i] ?? '')}"`);
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

abstract class Metric<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  abstract readonly type: MetricType;

  constructor(options: MetricOptions<L>) {
    if (!METRIC_NAME.test(options.name)) throw new Error(`invalid metric name '${options.name}'`);
    for (const label of options.labelNames ?? []) {
      if (!LABEL_NAME.test(label) || label.startsWith('__') || label === 'le') throw new Error(`invalid label name '${label}' on ${options.name}`);
    }
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames ?? [];
  }

  /** Label values in declared order, and the map key of that series. */
  protected seriesKey(labels: Labels | undefined): { key: string; values: string[] } {
    const values = this.labelNames.map((name) => {
      const value = labels?.[name];
      if (value === undefined) throw new Error(`${this.name}: label '${name}' is missing`);
      return String(value);
    });
    if (labels !== undefined) {
      for (const name of Object.keys(labels)) {
        if (!(this.labelNames as readonly string[]).includes(name)) throw new Error(`${this.name}: unknown label '${name}'`);
      }
    }
    return { key: values.join('\u0000'), values };
  }

  abstract samples(): string[];

  render(): string {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`, ...this.samples()];
    return lines.join('\n') + '\n';
  }
}

class ScalarMetric<L extends string> extends Metric<L> {
  readonly type: MetricType;
  protected readonly series = new Map<string, { values: string[]; value: number }>();

  constructor(type: 'counter' | 'gauge', options: MetricOptions<L>) {
    super(options);
    this.type = type;
    // A metric without labels has exactly one series, shown as 0 from the start.
    if (this.labelNames.length === 0) this.series.set('', { values: [], value: 0 });
  }

  protected entry(labels: Labels | undefined): { values: string[]; value: number } {
    const { key, values } = this.seriesKey(labels);
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { values, value: 0 };
      this.series.set(key, entry);
    }
    return entry;
  }

  get(labels?: Partial<Record<L, string | number>>): number {
    return this.series.get(this.seriesKey(labels as Labels | undefined).key)?.value ?? 0;
  }

  samples(): string[] {
    return [...this.series.values()].map((s) => `${this.name}${renderLabels(this.labelNames, s.values)} ${formatSampleValue(s.value)}`);
  }
}

export class Counter<L extends string = never> extends ScalarMetric<L> {
  constructor(options: MetricOptions<L>) {
    if (!options.name.endsWith('_total')) throw new Error(`counter '${options.name}' must end in _total`);
    super('counter', options);
  }

  inc(labels?: Record<L, string | number>, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name}: a counter only goes up (got ${by})`);
    this.entry(labels).value += by;
  }
}

export class Gauge<L extends string = never> extends ScalarMetric<L> {
  constructor(options: MetricOptions<L>) {
    super('gauge', options);
  }

  set(labels: Record<L, string | number> | undefined, value: number): void {
    this.entry(labels).value = value;
  }

  inc(labels?: Record<L, string | number>, by = 1): void {
    this.entry(labels).value += by;
  }

  dec(labels?: Record<L, string | number>, by = 1): void {
    this.entry(labels).value -= by;
  }

  /** Forgets one series (a partition no longer assigned, a group gone). */
  remove(labels: Record<L, string | number>): void {
    this.series.delete(this.seriesKey(labels).key);
  }

  /** Forgets every series (before a full refresh from a snapshot). */
  clear(): void {
    this.series.clear();
    if (this.labelNames.length === 0) this.series.set('', { values: [], value: 0 });
  }
}

interface HistogramSeries {
  values: string[];
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram<L extends string = never> extends Metric<L> {
  readonly type = 'histogram' as const;
  readonly buckets: readonly number[];
  private readonly series = new Map<string, HistogramSeries>();

  constructor(options: HistogramOptions<L>) {
    super(options);
    const buckets = [...(options.buckets ?? SECONDS_BUCKETS)].filter((b) => b !== Number.POSITIVE_INFINITY);
    for (let i = 1; i < buckets.length; i++) {
      if (!((buckets[i] as number) > (buckets[i - 1] as number))) throw new Error(`${this.name}: buckets must ascend`);
    }
    this.buckets = buckets;
    if (this.labelNames.length === 0) this.series.set('', this.emptySeries([]));
  }

  private emptySeries(values: string[]): HistogramSeries {
    return { values, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }

  observe(labels: Record<L, string | number> | undefined, value: number): void {
    const { key, values } = this.seriesKey(labels);
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = this.emptySeries(values);
      this.series.set(key, entry);
    }
    // Counts per bucket are kept non-cumulative; render() adds them up.
    const index = this.buckets.findIndex((bound) => value <= bound);
    if (index >= 0) entry.counts[index] = (entry.counts[index] ?? 0) + 1;
    entry.sum += value;
    entry.count++;
  }

  /** Observations so far for one series: count and sum. */
  stats(labels?: Record<L, string | number>): { count: number; sum: number } {
    const entry = this.series.get(this.seriesKey(labels).key);
    return { count: entry?.count ?? 0, sum: entry?.sum ?? 0 };
  }

  samples(): string[] {
    const lines: string[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += s.counts[i] ?? 0;
        lines.push(`${this.name}_bucket${renderLabels(this.labelNames, s.values, `le="${formatSampleValue(bound)}"`)} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket${renderLabels(this.labelNames, s.values, 'le="+Inf"')} ${s.count}`);
      lines.push(`${this.name}_sum${renderLabels(this.labelNames, s.values)} ${formatSampleValue(s.sum)}`);
      lines.push(`${this.name}_count${renderLabels(this.labelNames, s.values)} ${s.count}`);
    }
    return lines;
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric<string>>();
  private readonly collectors: Array<() => void> = [];

  /** The content type of `expose()`'s text. */
  static readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';

  counter<L extends string = never>(options: MetricOptions<L>): Counter<L> {
    return this.add(new Counter<L>(options));
  }

  gauge<L extends string = never>(options: MetricOptions<L>): Gauge<L> {
    return this.add(new Gauge<L>(options));
  }

  histogram<L extends string = never>(options: HistogramOptions<L>): Histogram<L> {
    return this.add(new Histogram<L>(options));
  }

  /** A callback run before each exposition, to refresh gauges read from elsewhere (lag, clients). */
  onCollect(collect: () => void): () => void {
    this.collectors.push(collect);
    return () => {
      const i = this.collectors.indexOf(collect);
      if (i >= 0) this.collectors.splice(i, 1);
    };
  }

  get(name: string): Counter<string> | Gauge<string> | Histogram<string> | undefined {
    return this.metrics.get(name) as Counter<string> | Gauge<string> | Histogram<string> | undefined;
  }

  /** Every metric in Prometheus text format 0.0.4. */
  expose(): string {
    for (const collect of this.collectors) {
      // A failing collector must not take /metrics down; its gauges just stay stale.
      try {
        collect();
      } catch {
        /* keep serving the other metrics */
      }
    }
    return [...this.metrics.values()].map((m) => m.render()).join('');
  }

  private add<M extends Metric<string>>(metric: M): M {
    // Suffixes a histogram writes must not collide with another metric's name.
    const taken = [metric.name, ...(metric.type === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => metric.name + s) : [])];
    for (const name of taken) {
      if (this.metrics.has(name)) throw new Error(`metric '${name}' is already registered`);
    }
    this.metrics.set(metric.name, metric);
    return metric;
  }
}
