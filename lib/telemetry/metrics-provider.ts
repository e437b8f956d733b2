import { LayeredCache } from '../engine/layered-cache.js';
import { type LayeredCacheMetricsOptions, LayeredCacheMetrics, instrumentLayeredCache } from './layered-cache-metrics.js';

/** A Nest injection token, spelled without `@nestjs/common` (which this entry does not load). */
export type MetricsProviderToken = string | symbol | (abstract new (...args: never[]) => unknown);

/** Options of {@link layeredCacheMetricsProvider}. */
export interface LayeredCacheMetricsProviderOptions extends LayeredCacheMetricsOptions {
  /** The token of the cache to instrument. Default `LayeredCache` (the application's default cache); a named cache's is `getLayeredCacheToken(name)`. */
  cache?: MetricsProviderToken;
  /** The token the `LayeredCacheMetrics` is provided under. Default `LayeredCacheMetrics`; give each of several caches its own. */
  provide?: MetricsProviderToken;
}

/** The Nest factory provider {@link layeredCacheMetricsProvider} returns. */
export interface LayeredCacheMetricsProvider {
  readonly provide: MetricsProviderToken;
  readonly inject: [MetricsProviderToken];
  readonly useFactory: (cache: LayeredCache) => LayeredCacheMetrics;
}

/**
 * A Nest provider that instruments the application's cache when the application starts and stops when it
 * closes: add it to the `providers` of any module of the application.
 *
 * @example
 * \@Module({ providers: [layeredCacheMetricsProvider({ meter: meterProvider.getMeter('shop') })] })
 * export class MetricsModule {}
 */
export function layeredCacheMetricsProvider(options: LayeredCacheMetricsProviderOptions = {}): LayeredCacheMetricsProvider {
  const { cache = LayeredCache, provide = LayeredCacheMetrics, ...metricsOptions } = options;
  return { provide, inject: [cache], useFactory: (instance: LayeredCache) => instrumentLayeredCache(instance, metricsOptions) };
}
