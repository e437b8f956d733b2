import { describe, expect, it } from 'vitest';
import { LayeredCache, MemoryStore, OffloadService, RaceWritePolicy, RedisStore } from '../../lib';
import { eventually, rawRedisForFile, REDIS_URL, uniqueNamespace } from '../support/redis';
import { TcpProxy } from '../support/tcp-proxy';

const redis = rawRedisForFile();
const namespaces = redis.namespaces;

function newCache(redisUrl: string, label: string) {
  const namespace = uniqueNamespace(label);
  namespaces.push(namespace);
  const offload = new OffloadService();
  const l2 = new RedisStore({ url: redisUrl, commandTimeoutMs: 100 });
  const cache = new LayeredCache({
    l1: new MemoryStore(),
    l2,
    offload,
    namespace,
    ttl: 60_000,
    resilience: { timeoutMs: 100, breaker: { failureThreshold: 3, cooldownMs: 100 }, replay: { retryDelayMs: 50 } },
  });
  return { cache, offload, namespace, close: () => cache.store.close() };
}

describe('Background L2 writes on Redis', () => {
  it('stores a burst of background puts and race losers, each with its TTL, and drain waits for all of them', async () => {
    const { cache, offload, namespace, close } = newCache(REDIS_URL, 'background-burst');
    try {
      for (let i = 0; i < 700; i++) void cache.put(`p${i}`, { i }, { background: true });
      await Promise.all(Array.from({ length: 50 }, (_, i) => cache.set(`r${i}`, i, { writePolicy: new RaceWritePolicy() })));
      await offload.drain();
      expect(offload.counts()).toMatchObject({ completed: 750, failed: 0 });
      expect(cache.stats().l2).toMatchObject({ writes: 750, errors: 0 });
      expect(await redis.client().exists(Array.from({ length: 700 }, (_, i) => `${namespace}:p${i}`))).toBe(700);
      expect(await redis.client().pTTL(`${namespace}:p699`)).toBeGreaterThan(55_000);
      expect(await redis.client().get(`${namespace}:r49`)).toMatch(/\|49$/);
    } finally {
      await close();
    }
  });

  it('keeps the writes of a batch Redis did not answer and replays them once it answers again', async () => {
    const proxy = await TcpProxy.start(Number(new URL(REDIS_URL).port || 6379));
    const { cache, offload, namespace, close } = newCache(`redis://127.0.0.1:${proxy.port}`, 'background-outage');
    try {
      await cache.set('warm', 0);
      proxy.blackhole();
      for (let i = 0; i < 20; i++) void cache.put(`k${i}`, i, { background: true });
      await offload.drain();
      expect(cache.stats().l2.errors).toBe(20);
      // Each is kept once its own command has timed out too (the caller's limit may end first).
      expect(await eventually(() => cache.stats().resilience?.replay?.pending === 20, 2_000)).toBe(true);
      expect(await cache.get('k19')).toBe(19); // L1 was written at once
      proxy.heal();
      expect(await eventually(async () => (await redis.client().exists(`${namespace}:k19`)) === 1 && cache.stats().resilience?.replay?.pending === 0, 5_000)).toBe(true);
    } finally {
      await close();
      await proxy.close();
    }
  });
});
