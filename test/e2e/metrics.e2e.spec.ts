import { afterEach, describe, expect, it } from 'vitest';
import { LayeredCache } from '../../lib';
import { LAYERED_CACHE_METRICS as METRICS, LayeredCacheMetrics, instrumentLayeredCache, layeredCacheMetricsProvider } from '../../lib/telemetry';
import { ProductService, sampleProduct } from '../fixtures/products';
import { createTestApp, RELAXED_L2_TIME_LIMIT } from '../support/app';
import { MetricsProbe } from '../support/metrics';
import { REDIS_URL, uniqueNamespace } from '../support/redis';
import { trackAppsOnRedis } from '../support/redis-apps';

describe('metrics of a Nest application through layeredCacheMetricsProvider', () => {
  const tracker = trackAppsOnRedis();
  const probes: MetricsProbe[] = [];
  afterEach(async () => {
    await Promise.all(probes.splice(0).map((probe) => probe.shutdown()));
  });

  it('counts and times the calls of decorated methods from startup, and stops when the application closes', async () => {
    const probe = new MetricsProbe();
    probes.push(probe);
    const namespace = uniqueNamespace('metrics-app');
    const app = await createTestApp({
      cache: { namespace, l2: { url: REDIS_URL }, resilience: RELAXED_L2_TIME_LIMIT },
      providers: [layeredCacheMetricsProvider({ meter: probe.meter(), attributes: { 'service.name': 'products' } })],
    });
    tracker.track(undefined, namespace);
    const service = app.get(ProductService);
    service.repository.rows.set('1', sampleProduct('1', 10));

    await service.findOne('1'); // a miss in both layers, then the method runs
    await service.findOne('1'); // an L1 hit
    const collected = await probe.collect();
    expect(collected.value(METRICS.hits, { 'service.name': 'products', 'cache.layer': 'l1' })).toBe(1);
    expect(collected.value(METRICS.misses, { 'service.name': 'products', 'cache.layer': 'l2' })).toBe(1);
    // The L1 hit is counted, not timed.
    expect(collected.histogram(METRICS.operationDuration, { 'service.name': 'products', 'cache.operation': 'getOrSet' })?.count).toBe(1);
    expect(app.get(LayeredCacheMetrics).cache).toBe(app.get(LayeredCache));

    const cache = app.get(LayeredCache);
    await app.close();
    // Stopped: the cache has its own methods back, and could be instrumented anew.
    expect(cache.get).toBe(LayeredCache.prototype.get);
    instrumentLayeredCache(cache, { meter: probe.meter() }).stop();
  });
});
