import { measure } from 'mitata';

/** How one candidate is sampled by mitata. */
export interface SamplingProfile {
  /** Timed budget of one measurement, in milliseconds (mitata's `min_cpu_time`). */
  readonly budgetMs: number;
  /** Upper bound on samples in one measurement. */
  readonly maxSamples: number;
  /**
   * Calls averaged into one sample, for operations too fast to time one by one; 0 times every call on
   * its own (then p99 is a per-call figure).
   */
  readonly batchSize: number;
  /** Operations one call performs (a throughput call runs many); reported times are divided by it. */
  readonly opsPerCall: number;
}

/** One measurement: time per operation in nanoseconds. */
export interface SampleStats {
  readonly p50: number;
  readonly p99: number;
  readonly samples: number;
}

interface MitataOptions {
  min_cpu_time: number;
  max_samples: number;
  min_samples: number;
  batch_samples: number;
  batch_unroll: number;
  batch_threshold: number;
  warmup_threshold: number;
  gc: boolean | (() => void);
}

interface MitataStats {
  readonly p50: number;
  readonly p99: number;
  readonly samples: readonly number[];
}

/** mitata's computed-parameter form: `prepare` runs before each call, outside the timed region. */
interface PreparedBenchmark {
  readonly 0: () => unknown;
  bench(prepared: unknown): unknown;
}

type Measure = (subject: (() => unknown) | (() => Generator<PreparedBenchmark>), options: MitataOptions) => Promise<MitataStats>;

const mitataMeasure = measure as unknown as Measure;
const collectGarbage: (() => void) | undefined = typeof globalThis.gc === 'function' ? globalThis.gc : undefined;

/**
 * Measures `run` with mitata. `prepare` (an L1 eviction, a turn of the event loop) runs before every call
 * and is not timed. Asynchronous calls are awaited one after the other.
 */
export async function sample(run: () => unknown, prepare: (() => unknown) | undefined, profile: SamplingProfile): Promise<SampleStats> {
  const options: MitataOptions = {
    min_cpu_time: profile.budgetMs * 1e6,
    max_samples: profile.maxSamples,
    min_samples: Math.min(12, profile.maxSamples),
    batch_samples: Math.max(profile.batchSize, 4),
    batch_unroll: 4,
    // mitata batches calls faster than this threshold: force it on or off.
    batch_threshold: profile.batchSize > 0 ? Number.MAX_SAFE_INTEGER : -1,
    // Always run mitata's warmup calls, which is also where it decides to batch.
    warmup_threshold: Number.MAX_SAFE_INTEGER,
    gc: collectGarbage ?? false,
  };
  const subject =
    prepare === undefined
      ? run
      : function* (): Generator<PreparedBenchmark> {
          yield { 0: prepare, bench: (_prepared: unknown) => run() };
        };
  const stats = await mitataMeasure(subject, options);
  return { p50: stats.p50 / profile.opsPerCall, p99: stats.p99 / profile.opsPerCall, samples: stats.samples.length };
}
