import type { Metric, MetricObjectWithValues, MetricValueWithName, Registry } from 'prom-client';

/** One labelled histogram as counted elsewhere: counts per bucket (not cumulative) and sum. */
export interface BucketSeries {
  labels: Record<string, string>;
  /** `bounds.length + 1` counts, the last past the highest bound. */
  counts: readonly number[];
  sum: number;
}

/**
 * A histogram whose observations were bucketed elsewhere (by the pool's children, who do not
 * load prom-client): prom-client's Histogram takes one observation at a time, never a bucket
 * array, so this one is read from `read()` at scrape time and written out as a histogram is
 * (`_bucket{le}` cumulative, `_sum`, `_count`).
 */
export class BucketHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #read: () => Iterable<BucketSeries>;

  constructor(options: {
    name: string;
    help: string;
    bounds: readonly number[];
    read: () => Iterable<BucketSeries>;
    registers: Registry[];
  }) {
    this.name = options.name;
    this.help = options.help;
    this.#bounds = options.bounds;
    this.#read = options.read;
    // Not one of prom-client's classes; the registry only calls `get()` and reads the fields.
    for (const registry of options.registers) registry.registerMetric(this as unknown as Metric);
  }

  async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: MetricValueWithName<string>[] = [];
    for (const series of this.#read()) {
      let cumulative = 0;
      for (let i = 0; i <= this.#bounds.length; i++) {
        cumulative += series.counts[i] ?? 0;
        const le = i < this.#bounds.length ? String(this.#bounds[i]) : '+Inf';
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { ...series.labels, le },
          value: cumulative,
        });
      }
      values.push({ metricName: `${this.name}_sum`, labels: series.labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: series.labels, value: cumulative });
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    } as unknown as MetricObjectWithValues<MetricValueWithName<string>>;
  }

  reset(): void {}
}
