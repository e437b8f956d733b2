/** Median of `values` (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The `fraction` quantile of `values` by nearest rank; NaN when empty. */
export function quantile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))];
}

/** The median and 99th percentile of one round's per-call times. */
export function statsOf(times: Float64Array): { p50: number; p99: number; samples: number } {
  const samples = Array.from(times);
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), samples: samples.length };
}
