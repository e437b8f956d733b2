import type { PeerName, Role } from './candidate';

/**
 * What a scenario's figures mean. `latency`: nanoseconds per operation, ratios are time ÷ reference
 * (lower is better). `throughput`: operations per second, ratios are ops ÷ reference (higher is better).
 * `size`: bytes per entry, ratios are bytes ÷ reference (lower is better).
 */
export type Metric = 'latency' | 'throughput' | 'size';

/** A ratio of medians and a ratio of 99th percentiles, each the median over the rounds. */
export interface Ratio {
  readonly p50: number;
  readonly p99: number;
}

/** One measured line of a scenario. */
export interface ResultRow {
  readonly name: string;
  readonly role: Role;
  readonly peer?: PeerName;
  readonly operation?: string;
  /** Median over the rounds, in the scenario's unit. */
  readonly p50: number;
  /** Median over the rounds of each round's 99th percentile (for throughput: its slowest 1% of batches). */
  readonly p99: number;
  /** Ratio to each floor of the scenario, by floor name. */
  readonly vsFloors: Readonly<Record<string, Ratio>>;
  /** Ratio to the same operation of each peer. */
  readonly vsPeers: Readonly<Partial<Record<PeerName, Ratio>>>;
  /** Figures that are not times, such as factory calls. */
  readonly extra?: Readonly<Record<string, number>>;
}

/** A stated target and whether this run met it. */
export interface TargetResult {
  readonly description: string;
  readonly measured: number;
  readonly limit: number;
  readonly comparison: 'at most' | 'at least' | 'exactly';
  readonly met: boolean;
  /** The unit of `measured` and `limit` when they are not ratios (`ms`). */
  readonly unit?: string;
}

/** Everything one scenario reports. */
export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly metric: Metric;
  readonly unit: string;
  readonly rounds: number;
  readonly floors: readonly string[];
  readonly rows: readonly ResultRow[];
  readonly targets: readonly TargetResult[];
  readonly notes: readonly string[];
}

/** A target that holds when `measured <= limit`. */
export function atMost(description: string, measured: number, limit: number, unit?: string): TargetResult {
  return { description, measured, limit, comparison: 'at most', met: measured <= limit, ...(unit === undefined ? {} : { unit }) };
}

/** A target that holds when `measured >= limit`. */
export function atLeast(description: string, measured: number, limit: number): TargetResult {
  return { description, measured, limit, comparison: 'at least', met: measured >= limit };
}

/** A target that holds when `measured === limit`. */
export function exactly(description: string, measured: number, limit: number): TargetResult {
  return { description, measured, limit, comparison: 'exactly', met: measured === limit };
}

/** The row named `name`; throws when a scenario asks for a row it did not measure. */
export function rowNamed(rows: readonly ResultRow[], name: string): ResultRow {
  const row = rows.find((candidate) => candidate.name === name);
  if (row === undefined) throw new Error(`No result row named "${name}"`);
  return row;
}

/** The ratio of `row` to the floor `floor`; throws when it was not computed. */
export function ratioToFloor(row: ResultRow, floor: string): Ratio {
  const ratio = row.vsFloors[floor];
  if (ratio === undefined) throw new Error(`"${row.name}" has no ratio to the floor "${floor}"`);
  return ratio;
}

/** The name of the fastest row among `names`: lowest time for latency, highest rate for throughput. */
export function fastestOf(rows: readonly ResultRow[], names: readonly string[], metric: Exclude<Metric, 'size'>): string {
  const better = (a: ResultRow, b: ResultRow): boolean => (metric === 'latency' ? a.p50 < b.p50 : a.p50 > b.p50);
  return names.map((name) => rowNamed(rows, name)).reduce((best, row) => (better(row, best) ? row : best)).name;
}
