import { afterEach, describe, expect, it } from 'vitest';
import { type CacheStore, LayeredCache, type LayeredCacheDependencies, MemoryStore, OffloadService, ParallelReadPolicy, RedisStore } from '../../lib';
import { ChaosStore } from '../../lib/testing';
import { LAYERED_CACHE_METRICS as METRICS, LayeredCacheMetrics, instrumentLayeredCache } from '../../lib/telemetry';
import { MetricsProbe } from '../support/metrics';
import { eventually, rawRedisForFile, REDIS_URL, uniqueNamespace } from '../support/redis';

describe('OpenTelemetry metrics of a LayeredCache over Redis', () => {
  const redis = rawRedisForFile();
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  /** A cache over the shared Redis (or `l2`), and a meter provider collected on demand. */
  function setUp(options: Partial<LayeredCacheDependencies> & { l2?: CacheStore } = {}) {
    const namespace = uniqueNamespace('metrics');
    redis.namespaces.push(namespace);
    const l2 = options.l2 ?? new RedisStore({ url: REDIS_URL });
    const offload = new OffloadService();
    const l1 = new MemoryStore({ maxBytes: 1_000_000 });
    const cache = new LayeredCache({ l1, offload, namespace, invalidation: false, resilience: { timeoutMs: 2_000 }, ...options, l2 });
    const probe = new MetricsProbe();
    closers.push(
      () => l2.close?.() ?? Promise.resolve(),
      () => cache.store.shutdown(200),
      () => offload.shutdown(500),
      () => probe.shutdown(),
    );
    return { cache, l1, probe, namespace };
  }

  it('counts hits and misses per layer as the cache serves them', async () => {
    const { cache, l1, probe } = setUp();
    const metrics = instrumentLayeredCache(cache, { meter: probe.meter() });
    closers.push(async () => metrics.stop());

    expect(await cache.get('a')).toBeUndefined(); // a miss in both layers
    await cache.set('a', { n: 1 });
    expect(await cache.get('a')).toEqual({ n: 1 }); // an L1 hit
    await l1.delete(cache.fullKey('a'));
    expect(await cache.get('a')).toEqual({ n: 1 }); // an L2 hit, copied into L1
    expect(await eventually(() => cache.stats().refills === 1)).toBe(true);

    const collected = await probe.collect();
    expect(collected.value(METRICS.hits, { 'cache.layer': 'l1' })).toBe(1);
    expect(collected.value(METRICS.hits, { 'cache.layer': 'l2' })).toBe(1);
    expect(collected.value(METRICS.misses, { 'cache.layer': 'l1' })).toBe(2);
    expect(collected.value(METRICS.misses, { 'cache.layer': 'l2' })).toBe(1);
    expect(collected.value(METRICS.writes, { 'cache.layer': 'l2' })).toBe(1);
    expect(collected.value(METRICS.refills)).toBe(1);
    expect(collected.value(METRICS.errors, { 'cache.layer': 'l2' })).toBe(0);
    // Every point carries the cache's namespace.
    expect(collected.attributeSets(METRICS.hits).map((attributes) => attributes['cache.namespace'])).toEqual([cache.namespace, cache.namespace]);
  });

  it('times each call of the cache and of the L2 store, failed calls apart', async () => {
    const { cache, probe } = setUp();
    const metrics = instrumentLayeredCache(cache, { meter: probe.meter(), attributes: { 'cache.name': 'catalog' } });
    closers.push(async () => metrics.stop());

    await cache.set('a', 1);
    for (let i = 0; i < 5; i++) await cache.get('a');
    await cache.get('missing');
    expect(await cache.getOrSet('b', () => 2)).toBe(2);
    expect(await cache.getOrSet('b', () => 3)).toBe(2);
    await cache.delete('a');
    await expect(cache.set('c', undefined)).rejects.toThrow(/undefined/);

    const collected = await probe.collect();
    const calls = (operation: string, error?: string) =>
      collected.histogram(METRICS.operationDuration, { 'cache.name': 'catalog', 'cache.operation': operation, ...(error === undefined ? {} : { 'error.type': error }) });
    // The L1 hits (five gets of 'a', the second getOrSet of 'b') are counted, not timed.
    expect(calls('get')?.count).toBe(1);
    expect(collected.value(METRICS.hits, { 'cache.name': 'catalog', 'cache.layer': 'l1' })).toBe(6);
    expect(calls('getOrSet')?.count).toBe(1);
    expect(calls('set')?.count).toBe(1);
    expect(calls('set', 'LayeredCacheError')?.count).toBe(1);
    expect(calls('delete')?.count).toBe(1);
    expect(calls('get')?.sum).toBeGreaterThan(0);
    expect(calls('get')?.boundaries[0]).toBe(1e-6);
    const l2Calls = (operation: string) => collected.histogram(METRICS.l2Duration, { 'cache.name': 'catalog', 'cache.operation': operation });
    // L2 was read for 'missing' and for the first getOrSet of 'b'; written for 'a' and 'b'; 'a' deleted.
    expect(l2Calls('get')?.count).toBe(2);
    expect(l2Calls('set')?.count).toBe(2);
    expect(l2Calls('delete')?.count).toBe(1);
  });

  it('times a parallel read, which waits for L2 even when L1 holds the entry', async () => {
    const { cache, probe } = setUp({ readPolicy: new ParallelReadPolicy() });
    const metrics = instrumentLayeredCache(cache, { meter: probe.meter() });
    closers.push(async () => metrics.stop());
    await cache.set('a', 1);
    expect(await cache.get('a')).toBe(1);

    const collected = await probe.collect();
    expect(collected.value(METRICS.hits, { 'cache.layer': 'l1' })).toBe(1);
    expect(collected.histogram(METRICS.operationDuration, { 'cache.operation': 'get' })?.count).toBe(1);
  });

  it('reports the breaker state and the replay backlog as gauges while L2 fails writes', async () => {
    const chaos = new ChaosStore(new RedisStore({ url: REDIS_URL }), { failureRate: 1, operations: ['set'] });
    const { cache, probe } = setUp({ l2: chaos, resilience: { timeoutMs: 2_000, breaker: { failureThreshold: 2, cooldownMs: 60_000 } } });
    const metrics = instrumentLayeredCache(cache, { meter: probe.meter() });
    closers.push(async () => metrics.stop());

    const healthy = await probe.collect();
    expect(healthy.value(METRICS.breakerState, { 'cache.breaker.state': 'closed' })).toBe(1);
    expect(healthy.value(METRICS.breakerState, { 'cache.breaker.state': 'open' })).toBe(0);
    expect(healthy.value(METRICS.replayPending)).toBe(0);

    // Each write is tolerated (L1 took it) and kept for replay; the second failure opens the breaker.
    await cache.set('x', 1);
    await cache.set('y', 2);
    const failing = await probe.collect();
    expect(failing.value(METRICS.breakerState, { 'cache.breaker.state': 'open' })).toBe(1);
    expect(failing.value(METRICS.breakerState, { 'cache.breaker.state': 'closed' })).toBe(0);
    expect(failing.value(METRICS.breakerOpened)).toBe(1);
    expect(failing.value(METRICS.replayPending)).toBe(2);
    expect(failing.value(METRICS.replayOutcomes, { 'cache.replay.outcome': 'kept' })).toBe(2);
    expect(failing.value(METRICS.errors, { 'cache.layer': 'l2' })).toBe(2);
    expect(failing.histogram(METRICS.l2Duration, { 'cache.operation': 'set', 'error.type': 'ChaosError' })?.count).toBe(2);
  });

  it('reports the offload backlog as gauges while background writes wait for L2', async () => {
    const chaos = new ChaosStore(new RedisStore({ url: REDIS_URL }), { hang: true, operations: ['set'] });
    const { cache, probe } = setUp({ l2: chaos, resilience: { timeoutMs: 10_000, breaker: false } });
    const metrics = instrumentLayeredCache(cache, { meter: probe.meter() });
    closers.push(async () => metrics.stop());

    await cache.put('slow', 'value', { background: true });
    const waiting = await probe.collect();
    // Waiting for a slot at first, then holding it until L2 answers.
    expect((waiting.value(METRICS.offloadRunning) ?? 0) + (waiting.value(METRICS.offloadQueued) ?? 0)).toBe(1);

    chaos.recover();
    expect(await eventually(async () => (await probe.collect()).value(METRICS.offloadOutcomes, { 'cache.offload.outcome': 'completed' }) === 1)).toBe(true);
    const done = await probe.collect();
    expect([done.value(METRICS.offloadRunning), done.value(METRICS.offloadQueued)]).toEqual([0, 0]);
  });

  it("reports L1's entries and bytes", async () => {
    const { cache, probe } = setUp();
    const metrics = instrumentLayeredCache(cache, { meter: probe.meter() });
    closers.push(async () => metrics.stop());
    await cache.set('a', 'x'.repeat(100));
    await cache.set('b', 'y'.repeat(100));

    const collected = await probe.collect();
    expect(collected.value(METRICS.l1Entries)).toBe(2);
    expect(collected.value(METRICS.l1Bytes)).toBeGreaterThan(200);
  });

  it('leaves a cache that is not instrumented untouched, and gives an instrumented one its methods back when stopped', async () => {
    const { cache, probe } = setUp();
    const ownMethods = () => ['get', 'set', 'put', 'getOrSet', 'delete'].filter((name) => Object.hasOwn(cache, name));
    const l2 = cache.store.l2 as RedisStore;
    expect(ownMethods()).toEqual([]);

    const metrics = instrumentLayeredCache(cache, { meter: probe.meter() });
    expect(ownMethods()).toEqual(['get', 'set', 'put', 'getOrSet', 'delete']);
    expect(() => instrumentLayeredCache(cache, { meter: probe.meter() })).toThrow(/reports OpenTelemetry metrics already/);
    await cache.set('a', 1);

    metrics.stop();
    expect(ownMethods()).toEqual([]);
    expect(cache.get).toBe(LayeredCache.prototype.get);
    expect(l2.get).toBe(RedisStore.prototype.get);
    expect(cache.store.l1.get).toBe(MemoryStore.prototype.get);
    expect(Object.hasOwn(cache.store.l2Resilience as object, 'get')).toBe(false);
    await cache.get('missing');
    const after = await probe.collect();
    // No counter is read any more, and the get after stop() was not timed.
    expect(after.value(METRICS.misses, { 'cache.layer': 'l1' })).toBeUndefined();
    expect(after.histogram(METRICS.operationDuration, { 'cache.operation': 'get' })).toBeUndefined();
    expect(instrumentLayeredCache(cache, { meter: probe.meter() })).toBeInstanceOf(LayeredCacheMetrics);
  });

  it('with durations: false, reports counters and gauges without touching the cache or its L2 store', async () => {
    const { cache, probe } = setUp();
    const metrics = instrumentLayeredCache(cache, { meter: probe.meter(), durations: false });
    closers.push(async () => metrics.stop());
    await cache.set('a', 1);
    await cache.get('a');

    expect(cache.get).toBe(LayeredCache.prototype.get);
    expect((cache.store.l2 as RedisStore).get).toBe(RedisStore.prototype.get);
    const collected = await probe.collect();
    expect(collected.value(METRICS.hits, { 'cache.layer': 'l1' })).toBe(1);
    expect(collected.names).not.toContain(METRICS.operationDuration);
  });
});
