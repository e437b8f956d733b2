import { type Attributes, type Meter, metrics } from '@opentelemetry/api';
import { LayeredCacheError } from '../core/errors.js';
import { METRICS_ALREADY_ON } from '../core/messages.js';
import type { LayeredCache } from '../engine/layered-cache.js';
import { observeCacheStats } from './observed-stats.js';
import { timeCacheCalls } from './timed-calls.js';

/** The instrumentation scope of the meter taken from the global `MeterProvider` when none is given. */
export const LAYERED_CACHE_METER_NAME = 'nestjs-layered-cache';

/** Options of {@link instrumentLayeredCache}. Every field is optional. */
export interface LayeredCacheMetricsOptions {
  /** The meter the instruments are made with. Default: `metrics.getMeter('nestjs-layered-cache')`, from the global `MeterProvider`. */
  meter?: Meter;
  /**
   * Attributes of every measurement, added to `cache.namespace` (the cache's namespace), for example
   * `{ 'cache.name': 'sessions' }` for one of several caches.
   */
  attributes?: Attributes;
  /**
   * Time the cache's calls (`get`, `getOrSet`, `set`, `put`, `delete`) and the L2 store's (`get`, `set`,
   * `delete`) into histograms; a `get` or `getOrSet` that L1 answers at once is counted but not timed. Default
   * `true`. With `false`, only counters and gauges are reported, read from `stats()` when the meter collects:
   * then nothing at all runs on a cache call.
   */
  durations?: boolean;
}

/** Caches that report metrics now: a second instrumentation would count every call twice. */
const instrumented = new WeakSet<LayeredCache>();

/**
 * The metrics of one cache, reported to an OpenTelemetry meter until {@link stop}. Made by
 * {@link instrumentLayeredCache}.
 */
export class LayeredCacheMetrics {
  private stopped = false;

  /** @internal */
  constructor(
    readonly cache: LayeredCache,
    private readonly stops: readonly (() => void)[],
  ) {}

  /** Stops reporting and gives the cache back its own methods. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const stop of this.stops) stop();
    instrumented.delete(this.cache);
  }

  /** Nest calls it when the application closes (see `layeredCacheMetricsProvider`). */
  onModuleDestroy(): void {
    this.stop();
  }
}

/**
 * Reports the metrics of `cache` through OpenTelemetry (names in `LAYERED_CACHE_METRICS`): hits, misses,
 * writes, deletes and errors per layer, refills and invalidations, the L2 circuit breaker's state, the replay
 * queue and the offload service's backlog, L1's size, all read from `stats()` when the meter collects; and,
 * unless `durations: false`, histograms of how long the cache's calls and the L2 store's calls take. A cache
 * that is not instrumented does no work for metrics at all. Call `stop()` on the result to stop.
 *
 * @throws LayeredCacheError when the cache reports metrics already.
 * @example
 * const provider = new MeterProvider({ readers: [new PrometheusExporter({ host: '127.0.0.1', port: 9464 })] });
 * const metrics = instrumentLayeredCache(app.get(LayeredCache), { meter: provider.getMeter('my-app') });
 * // on shutdown:
 * metrics.stop();
 */
export function instrumentLayeredCache(cache: LayeredCache, options: LayeredCacheMetricsOptions = {}): LayeredCacheMetrics {
  if (instrumented.has(cache)) throw new LayeredCacheError(METRICS_ALREADY_ON(cache.namespace));
  const meter = options.meter ?? metrics.getMeter(LAYERED_CACHE_METER_NAME);
  const attributes: Attributes = { 'cache.namespace': cache.namespace, ...options.attributes };
  const stops = [observeCacheStats(cache, meter, attributes)];
  if (options.durations !== false) stops.push(timeCacheCalls(cache, meter, attributes));
  instrumented.add(cache);
  return new LayeredCacheMetrics(cache, stops);
}
