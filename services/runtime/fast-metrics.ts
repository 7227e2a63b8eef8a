import type { Registry } from "prom-client";

/**
 * Counters and histograms for the per-request paths. prom-client checks and
 * hashes the labels on every inc() and observe(), even through a child from
 * labels(): about a sixth of a batched ScoreMatch's own work here. These children
 * are looked up once and then add into plain numbers; the registry renders
 * them exactly as it renders prom-client's own (same names, labels and
 * format), since it only asks a metric for get().
 */
interface MetricConfig<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: Registry[];
}

type LabelValues = Record<string, string | number>;

abstract class LabelledMetric<C extends { labels: LabelValues; touched: boolean }> {
  readonly name: string;
  readonly help: string;
  abstract readonly type: "counter" | "histogram";
  readonly aggregator = "sum" as const;
  private readonly labelNames: readonly string[];
  private readonly children = new Map<string, C>();

  constructor(config: MetricConfig<string>) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    for (const r of config.registers) r.registerMetric(this as never);
  }

  /** The child for these label values (in labelNames order), created on first use and kept. */
  labels(...values: (string | number)[]): C {
    const key = values.join("\u0000");
    let child = this.children.get(key);
    if (!child) {
      if (values.length !== this.labelNames.length)
        throw new Error(`${this.name}: expected ${this.labelNames.length} label values, got ${values.length}`);
      child = this.createChild(Object.fromEntries(this.labelNames.map((n, i) => [n, values[i]])));
      this.children.set(key, child);
    }
    return child;
  }

  /** Zeroes every child; children already handed out stay valid. */
  reset(): void {
    for (const c of this.children.values()) this.zero(c);
  }

  protected touchedChildren(): C[] {
    return [...this.children.values()].filter((c) => c.touched);
  }

  protected abstract createChild(labels: LabelValues): C;
  protected abstract zero(child: C): void;
}

export class CounterChild {
  value = 0;
  touched = false;
  constructor(readonly labels: LabelValues) {}

  inc(amount = 1): void {
    if (!(amount >= 0)) throw new Error(`counters only go up: ${amount}`);
    this.value += amount;
    this.touched = true;
  }
}

export class FastCounter<L extends string> extends LabelledMetric<CounterChild> {
  readonly type = "counter" as const;

  constructor(config: MetricConfig<L>) {
    super(config);
  }

  async get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.touchedChildren().map((c) => ({ labels: c.labels, value: c.value })),
    };
  }

  protected createChild(labels: LabelValues): CounterChild {
    return new CounterChild(labels);
  }

  protected zero(child: CounterChild): void {
    child.value = 0;
    child.touched = false;
  }
}

export class HistogramChild {
  /** Per bucket, not cumulative; the last slot is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  touched = false;

  constructor(
    readonly labels: LabelValues,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
    this.touched = true;
  }

  /** Starts a timer; calling the result observes the seconds since, and returns them. */
  startTimer(): () => number {
    const started = performance.now();
    return () => {
      const seconds = (performance.now() - started) / 1000;
      this.observe(seconds);
      return seconds;
    };
  }
}

export class FastHistogram<L extends string> extends LabelledMetric<HistogramChild> {
  readonly type = "histogram" as const;
  private readonly bounds: readonly number[];

  constructor(config: MetricConfig<L> & { buckets: readonly number[] }) {
    super(config);
    this.bounds = [...config.buckets].sort((a, b) => a - b);
  }

  /** As prom-client's Histogram.get(): each value's labels include the child's. */
  async get() {
    const data = await this.getForPromString();
    return { ...data, values: data.values.map(({ labels, sharedLabels, ...v }) => ({ ...v, labels: { ...labels, ...sharedLabels } })) };
  }

  /** What the registry renders: `le` first, then the child's labels, as prom-client writes them. */
  async getForPromString() {
    const values: { labels: LabelValues; sharedLabels: LabelValues; value: number; metricName: string; exemplar?: null }[] = [];
    for (const c of this.touchedChildren()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += c.counts[i];
        values.push({ labels: { le }, sharedLabels: c.labels, value: cumulative, metricName: `${this.name}_bucket`, exemplar: null });
      });
      values.push({ labels: { le: "+Inf" }, sharedLabels: c.labels, value: c.count, metricName: `${this.name}_bucket`, exemplar: null });
      values.push({ labels: {}, sharedLabels: c.labels, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: c.labels, value: c.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  protected createChild(labels: LabelValues): HistogramChild {
    return new HistogramChild(labels, this.bounds);
  }

  protected zero(child: HistogramChild): void {
    child.counts.fill(0);
    child.sum = 0;
    child.count = 0;
    child.touched = false;
  }
}
