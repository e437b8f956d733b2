import type { Attributes, Meter } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';

/** One histogram data point: how many measurements, their sum, and the bucket boundaries in use. */
export interface HistogramPoint {
  readonly count: number;
  readonly sum: number;
  readonly boundaries: readonly number[];
}

/** The metrics of one collection, looked up by name and attributes. */
export class CollectedMetrics {
  constructor(private readonly metrics: readonly MetricData[]) {}

  /** Names of the metrics that have at least one data point. */
  get names(): string[] {
    return this.metrics.filter((metric) => metric.dataPoints.length > 0).map((metric) => metric.descriptor.name);
  }

  /** The attributes of every data point of `name`. */
  attributeSets(name: string): Attributes[] {
    return this.metric(name)?.dataPoints.map((point) => point.attributes) ?? [];
  }

  /** The value of the counter or gauge `name` whose attributes are exactly `attributes` (plus `cache.namespace`); `undefined` when none. */
  value(name: string, attributes: Attributes = {}): number | undefined {
    const metric = this.metric(name);
    if (metric === undefined) return undefined;
    if (metric.dataPointType !== DataPointType.SUM && metric.dataPointType !== DataPointType.GAUGE) throw new Error(`${name} is not a counter or a gauge`);
    return metric.dataPoints.find((point) => sameAttributes(point.attributes, attributes))?.value;
  }

  /** The histogram point of `name` whose attributes are exactly `attributes` (plus `cache.namespace`); `undefined` when none. */
  histogram(name: string, attributes: Attributes = {}): HistogramPoint | undefined {
    const metric = this.metric(name);
    if (metric === undefined) return undefined;
    if (metric.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${name} is not a histogram`);
    const point = metric.dataPoints.find((candidate) => sameAttributes(candidate.attributes, attributes));
    return point === undefined ? undefined : { count: point.value.count, sum: point.value.sum ?? 0, boundaries: point.value.buckets.boundaries };
  }

  private metric(name: string): MetricData | undefined {
    return this.metrics.find((metric) => metric.descriptor.name === name);
  }
}

/** Attributes equal to `expected` once `cache.namespace` (on every point) is left aside. */
function sameAttributes(actual: Attributes, expected: Attributes): boolean {
  const { 'cache.namespace': _namespace, ...rest } = actual;
  const keys = Object.keys(rest);
  return keys.length === Object.keys(expected).length && keys.every((key) => rest[key] === expected[key]);
}

/**
 * An OpenTelemetry SDK `MeterProvider` whose metrics are kept in memory and collected on demand (cumulative),
 * as an exporter such as Prometheus's collects them.
 */
export class MetricsProbe {
  private readonly exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Exports only when asked to: collections happen when a test calls `collect`.
  private readonly reader = new PeriodicExportingMetricReader({ exporter: this.exporter, exportIntervalMillis: 3_600_000 });
  readonly provider = new MeterProvider({ readers: [this.reader] });

  meter(): Meter {
    return this.provider.getMeter('tests');
  }

  async collect(): Promise<CollectedMetrics> {
    this.exporter.reset();
    await this.reader.forceFlush();
    const collected = this.exporter.getMetrics().at(-1);
    return new CollectedMetrics(collected?.scopeMetrics.flatMap((scope) => scope.metrics) ?? []);
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}
