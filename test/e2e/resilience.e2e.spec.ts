import { Injectable, Module } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CacheEntry, type CacheStore, Cacheable, CacheEvict, CacheWrite, LayeredCache, type LayeredCacheModuleOptions, RedisStore } from '../../lib';
import { ChaosStore } from '../../lib/testing';
import { ProductService, sampleProduct } from '../fixtures/products';
import { createTestApp } from '../support/app';
import { connectRawRedis, deleteKeys, type RawRedis, REDIS_URL, uniqueNamespace } from '../support/redis';

/** A store whose methods throw synchronously instead of rejecting: a broken custom store. */
class ThrowingStore implements CacheStore {
  get<T>(): Promise<CacheEntry<T> | undefined> {
    throw new Error('get blew up');
  }
  set(): Promise<void> {
    throw new Error('set blew up');
  }
  delete(): Promise<void> {
    throw new Error('delete blew up');
  }
}

@Injectable()
class QuickService {
  calls = 0;

  @Cacheable({ key: (id: string) => `quick:${id}`, timeoutMs: 40 })
  async find(id: string): Promise<string> {
    this.calls++;
    return `value of ${id}`;
  }
}

@Module({ providers: [QuickService] })
class QuickModule {}

describe('decorated methods when the cache fails', () => {
  let redis: RawRedis;
  const apps: TestingModule[] = [];
  const namespaces: string[] = [];
  /** Stores handed to the module stay the test's to close. */
  const stores: CacheStore[] = [];
  const own = <S extends CacheStore>(store: S): S => {
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    redis = await connectRawRedis();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(stores.splice(0).map((store) => store.close?.()));
    await Promise.all(namespaces.splice(0).map((ns) => deleteKeys(redis, ns)));
  });
  afterAll(async () => {
    await redis.quit();
  });

  async function boot(label: string, cache: LayeredCacheModuleOptions, imports?: Parameters<typeof createTestApp>[0]['imports']) {
    const namespace = uniqueNamespace(label);
    namespaces.push(namespace);
    const app = await createTestApp({ cache: { namespace, shutdownTimeoutMs: 300, ...cache }, ...(imports ? { imports } : {}) });
    apps.push(app);
    return { app, namespace, cache: app.get(LayeredCache) };
  }

  it.each([
    ['fails every call', () => new ChaosStore(new RedisStore({ url: REDIS_URL }), { failureRate: 1 })],
    ['throws synchronously', () => new ThrowingStore()],
  ])('never fails a call when L2 %s (and L1 keeps serving)', async (_label, createL2) => {
    const { app } = await boot('shielded', { l2: own(createL2()) });
    const service = app.get(ProductService);
    service.repository.rows.set('s1', sampleProduct('s1', 3));

    expect(await service.findOne('s1')).toEqual(sampleProduct('s1', 3));
    expect(await service.findOne('s1')).toEqual(sampleProduct('s1', 3));
    expect(service.repository.calls.find).toBe(1); // served by L1 the second time
    expect(await service.save(sampleProduct('s2', 4))).toEqual(sampleProduct('s2', 4));
    await expect(service.remove('s2')).resolves.toBeUndefined();
    expect(await firstValueFrom(service.priceOf('s1'))).toBe(3);
  });

  it('honours a decorator timeoutMs below the module time limit', async () => {
    const chaos = own(new ChaosStore(new RedisStore({ url: REDIS_URL })).hang());
    const { app } = await boot('decorator-timeout', { l2: chaos, resilience: { timeoutMs: 5_000 } }, [QuickModule]);
    const started = performance.now();
    expect(await app.get(QuickService).find('q1')).toBe('value of q1');
    expect(performance.now() - started).toBeLessThan(40 + 300);
    chaos.recover();
  });

  it('refuses a decorator timeoutMs that is not a positive number of milliseconds, at decoration', () => {
    expect(() => Cacheable({ timeoutMs: 0 })).toThrow(/@Cacheable got timeoutMs 0.*greater than 0/);
    expect(() => CacheWrite({ timeoutMs: Number.NaN })).toThrow(/@CacheWrite got timeoutMs NaN/);
    expect(() => CacheEvict({ timeoutMs: -5 })).toThrow(/@CacheEvict got timeoutMs -5/);
  });

  it('passes the resilience options through, and shows the L2 breaker in stats()', async () => {
    const { cache } = await boot('options', { l2: { url: REDIS_URL }, resilience: { timeoutMs: 120, breaker: { failureThreshold: 7, cooldownMs: 900 } } });
    expect(cache.stats().resilience).toMatchObject({ timeoutMs: 120, breaker: { state: 'closed', opened: 0 }, replay: { pending: 0 } });
    expect(cache.store.l2Resilience?.breaker).toMatchObject({ failureThreshold: 7, cooldownMs: 900 });
    const off = await boot('options-off', { l2: { url: REDIS_URL }, resilience: false });
    expect(off.cache.stats().resilience).toBeUndefined();
  });

  it('accepts a ChaosStore as L2 and writes through it when it behaves', async () => {
    const chaos = own(new ChaosStore(new RedisStore({ url: REDIS_URL })));
    const { app, namespace } = await boot('chaos-l2', { l2: chaos });
    await app.get(ProductService).save(sampleProduct('c1'));
    expect(await redis.exists(`${namespace}:product:c1`)).toBe(1);
    expect(chaos.stats().calls).toBe(1);
  });
});
