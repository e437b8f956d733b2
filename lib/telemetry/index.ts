// The `nestjs-layered-cache/opentelemetry` entry: metrics through @opentelemetry/api, an optional peer
// dependency, kept out of the root entry so that the root loads without it.

export { LAYERED_CACHE_METER_NAME, LayeredCacheMetrics, instrumentLayeredCache } from './layered-cache-metrics.js';
export type { LayeredCacheMetricsOptions } from './layered-cache-metrics.js';
export { LAYERED_CACHE_METRICS } from './metric-names.js';
export { layeredCacheMetricsProvider } from './metrics-provider.js';
export type { LayeredCacheMetricsProvider, LayeredCacheMetricsProviderOptions, MetricsProviderToken } from './metrics-provider.js';
