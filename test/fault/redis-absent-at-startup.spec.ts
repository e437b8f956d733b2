import { afterEach, describe, expect, it } from 'vitest';
import { type CacheStore, L1_STORE } from '../../lib';
import { type Product, sampleProduct } from '../fixtures/products';
import { bootFaultApp, envelopeValue, type FaultApp, rawClient } from '../support/fault-app';
import { eventually } from '../support/redis';
import { freePort, RedisServer } from '../support/redis-server';

/*
 * The application starts while nothing listens where Redis should be: it must boot, serve from L1, and start
 * using L2 (with what it wrote meanwhile) once a Redis appears on that port.
 */

describe.each(['node-redis', 'ioredis'] as const)('Redis absent at startup (%s)', (driver) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('boots, works on L1, and uses L2 once Redis appears', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const bootStarted = performance.now();
    const subject: FaultApp = await bootFaultApp(`absent-${driver}`, url, {
      l2: { url, driver },
      resilience: { breaker: { failureThreshold: 3, cooldownMs: 300 } },
    });
    cleanups.push(() => subject.app.close());
    expect(performance.now() - bootStarted).toBeLessThan(2_000);
    const { service, cache, namespace } = subject;

    // L1 works: the second read does not reach the repository.
    service.repository.rows.set('a1', sampleProduct('a1', 1));
    expect(await service.findOne('a1')).toEqual(sampleProduct('a1', 1));
    expect(await service.findOne('a1')).toEqual(sampleProduct('a1', 1));
    expect(service.repository.calls.find).toBe(1);
    expect(await service.save(sampleProduct('a2', 2))).toEqual(sampleProduct('a2', 2));
    expect(cache.stats().l1.hits).toBe(1);
    expect(cache.stats().l2.hits + cache.stats().l2.writes).toBe(0);

    const redis = await RedisServer.start(port);
    cleanups.push(() => redis.stop());
    const client = await rawClient(redis.url);
    cleanups.push(async () => client.destroy());

    // What was written while Redis was absent reaches it without any call from the application.
    const stored = async (id: string) => envelopeValue(await client.get(`${namespace}:product:${id}`)) as Product | undefined;
    // (a1 was never sent: its read had used the whole L2 budget; only the replay can have written it.)
    expect(await eventually(async () => (await stored('a1'))?.price === 1 && (await stored('a2'))?.price === 2, 10_000, 50)).toBe(true);

    // And L2 serves reads: with L1 emptied, the value comes from Redis, not from the repository.
    await subject.app.get<CacheStore>(L1_STORE).clear?.();
    expect(await service.findOne('a1')).toEqual(sampleProduct('a1', 1));
    expect(service.repository.calls.find).toBe(1);
    expect(cache.stats().l2.hits).toBe(1);
    expect(cache.stats().resilience?.breaker?.state).toBe('closed');
  });
});
