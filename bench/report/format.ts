import type { Metric } from '../harness/results';

/** A value in the scenario's unit, short and readable: `84 ns`, `31.2 µs`, `247k ops/s`, `156 B`. */
export function formatValue(value: number, metric: Metric): string {
  if (!Number.isFinite(value)) return 'n/a';
  switch (metric) {
    case 'latency':
      return formatDuration(value);
    case 'throughput':
      return `${formatCount(value)} ops/s`;
    case 'size':
      return `${Math.round(value)} B`;
  }
}

/** Nanoseconds as ns, µs or ms with three significant digits. */
export function formatDuration(nanoseconds: number): string {
  if (nanoseconds < 1_000) return `${significant(nanoseconds)} ns`;
  if (nanoseconds < 1_000_000) return `${significant(nanoseconds / 1_000)} µs`;
  return `${significant(nanoseconds / 1_000_000)} ms`;
}

/** A ratio as `1.23×`. */
export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio < 10 ? ratio.toFixed(2) : ratio < 100 ? ratio.toFixed(1) : Math.round(ratio)}×` : 'n/a';
}

function formatCount(count: number): string {
  if (count >= 1_000_000) return `${significant(count / 1_000_000)}M`;
  if (count >= 1_000) return `${significant(count / 1_000)}k`;
  return significant(count);
}

function significant(value: number): string {
  if (value >= 100) return String(Math.round(value));
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}
