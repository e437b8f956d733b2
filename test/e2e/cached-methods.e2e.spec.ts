import { Injectable, Module, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { type CacheEvent, CacheWrite, Cacheable, L1_STORE, type CacheStore, LayeredCache, LayeredCacheModule, MemoryStore, type LayerRead, type Offload, type PromiseOrValue, type ReadHit, SequentialReadPolicy, type WritePolicy } from '../../lib';
import { decodeStoredText } from '../../lib/core/envelope';
import { ProductRepository, ProductService, ProductsModule, productKey, sampleProduct } from '../fixtures/products';
import { createTestApp, RELAXED_L2_TIME_LIMIT } from '../support/app';
import { REDIS_URL, eventually, holdsEntry, uniqueNamespace } from '../support/redis';
import { trackAppsOnRedis } from '../support/redis-apps';

describe('cached service methods on a real Redis', () => {
  const tracker = trackAppsOnRedis();

  async function boot(label: string, cache: Parameters<typeof createTestApp>[0]['cache'] = {}) {
    const namespace = uniqueNamespace(label);
    // One application, so no other instance to hear from; and the tracking echo of its own writes (Redis 7.0
    // ignores NOLOOP for script writes) would drop the L1 copies these tests inspect. test/integration/invalidation.spec.ts covers it.
    const app = await createTestApp({ cache: { namespace, l2: { url: REDIS_URL }, resilience: RELAXED_L2_TIME_LIMIT, invalidation: false, ...cache } });
    tracker.track(app, namespace);
    return { app, namespace, service: app.get(ProductService), cache: app.get(LayeredCache), l1: app.get<CacheStore>(L1_STORE) };
  }

  it('@CacheWrite on a service method writes the result to both layers', async () => {
    const { service, namespace, l1 } = await boot('write');
    const product = sampleProduct('w1');

    const returned = await service.save(product);

    expect(returned).toEqual(product);
    const key = `${namespace}:${productKey('w1')}`;
    expect((await l1.get(key))?.value).toEqual(product);
    const raw = await tracker.redis.get(key);
    expect(raw).toContain('Product w1');
    expect(await tracker.redis.pTTL(key)).toBeGreaterThan(50_000);
  });

  it('@Cacheable serves L1, then L2 once L1 is cleared, and refills L1 with the remaining TTL', async () => {
    const { service, namespace, l1, cache } = await boot('read', { ttl: 10_000 });
    service.repository.rows.set('r1', sampleProduct('r1'));

    const first = await service.findOne('r1');
    const second = await service.findOne('r1');
    expect(first).toEqual(sampleProduct('r1'));
    expect(second).toEqual(first);
    expect(second?.updatedAt).toBeInstanceOf(Date);
    expect(service.repository.calls.find).toBe(1);
    expect(cache.stats().l1.hits).toBe(1);

    const key = `${namespace}:${productKey('r1')}`;
    await l1.clear?.();
    await new Promise((r) => setTimeout(r, 30));
    const fromL2 = await service.findOne('r1');
    expect(fromL2).toEqual(sampleProduct('r1'));
    expect(fromL2?.updatedAt).toBeInstanceOf(Date);
    expect(service.repository.calls.find).toBe(1);
    expect(cache.stats().l2.hits).toBe(1);

    expect(await eventually(async () => (await l1.get(key)) !== undefined)).toBe(true);
    const refilled = await l1.get(key);
    const stored = await tracker.redis.pTTL(key);
    // The refilled entry keeps the original expiry: it did not restart at the full TTL.
    expect(refilled?.expiresAt).toBe(cacheEntryExpiry(await tracker.redis.get(key)));
    expect(refilled!.expiresAt! - Date.now()).toBeLessThanOrEqual(10_000 - 30);
    expect(stored).toBeLessThanOrEqual(10_000);
    expect(cache.stats().refills).toBe(1);
  });

  it('@CacheEvict deletes the entry from both layers after the method succeeds', async () => {
    const { service, namespace, l1 } = await boot('evict');
    await service.save(sampleProduct('e1'));
    const key = `${namespace}:${productKey('e1')}`;
    expect(await tracker.redis.exists(key)).toBe(1);

    await service.remove('e1');

    expect(holdsEntry(await tracker.redis.get(key))).toBe(false);
    expect(await l1.get(key)).toBeUndefined();
    expect(await service.findOne('e1')).toBeUndefined();
  });

  it('shares one method call between concurrent callers of the same key', async () => {
    const { service } = await boot('single-flight');
    service.repository.rows.set('s1', sampleProduct('s1'));
    service.repository.delayMs = 50;

    const results = await Promise.all(Array.from({ length: 50 }, () => service.findOne('s1')));

    expect(new Set(results.map((r) => r?.id))).toEqual(new Set(['s1']));
    expect(service.repository.calls.find).toBe(1);
  });

  it('does not cache undefined results', async () => {
    const { service, namespace } = await boot('undefined');
    expect(await service.findOne('missing')).toBeUndefined();
    expect(await service.findOne('missing')).toBeUndefined();
    expect(service.repository.calls.find).toBe(2);
    expect(await tracker.redis.exists(`${namespace}:${productKey('missing')}`)).toBe(0);
  });

  it('builds default keys that keep different arguments apart', async () => {
    const { service, namespace } = await boot('default-keys');
    await service.search('a:b');
    await service.search('a', undefined);
    await service.search('a', 1);
    await service.search('a', 1);
    expect(service.repository.calls.find).toBe(3);
    const keys: string[] = [];
    for await (const batch of tracker.redis.scanIterator({ MATCH: `${namespace}:*` })) keys.push(...batch);
    expect(keys.sort()).toEqual([
      `${namespace}:ProductService.search:("a",1)`,
      `${namespace}:ProductService.search:("a",undefined)`,
      `${namespace}:ProductService.search:("a:b")`,
    ]);
  });

  it('caches the value an Observable-returning method emits', async () => {
    const { service } = await boot('observable');
    service.repository.rows.set('o1', sampleProduct('o1', 42));

    const first = await firstValueFrom(service.priceOf('o1'));
    const second = await firstValueFrom(service.priceOf('o1'));

    expect([first, second]).toEqual([42, 42]);
    expect(service.repository.calls.find).toBe(1);
  });

  it('honours a per-method ttl and per-method policies', async () => {
    let l1OnlyWrites = 0;
    const l1OnlyPolicy: WritePolicy = {
      execute: async (key, writeL1) => {
        l1OnlyWrites++;
        await writeL1(key);
      },
    };
    let readsThroughMethodPolicy = 0;
    const countingReadPolicy = new (class extends SequentialReadPolicy {
      override execute<T>(key: string, readL1: LayerRead<T>, readL2: LayerRead<T>, offload: Offload): PromiseOrValue<ReadHit<T> | undefined> {
        readsThroughMethodPolicy++;
        return super.execute(key, readL1, readL2, offload);
      }
    })();
    @Injectable()
    class Tuned {
      @CacheWrite({ key: 'short-lived', ttl: 1_500 })
      async shortLived(): Promise<string> {
        return 'v';
      }
      @CacheWrite({ key: 'local-only', writePolicy: l1OnlyPolicy })
      async localOnly(): Promise<string> {
        return 'v';
      }
      @Cacheable({ key: 'counted', readPolicy: countingReadPolicy })
      async counted(): Promise<string> {
        return 'v';
      }
    }
    @Module({ providers: [Tuned] })
    class TunedModule {}
    const namespace = uniqueNamespace('per-method');
    const app = await createTestApp({ cache: { namespace, l2: { url: REDIS_URL }, resilience: RELAXED_L2_TIME_LIMIT }, imports: [TunedModule] });
    tracker.track(app, namespace);
    const tuned = app.get(Tuned);

    await tuned.shortLived();
    const pttl = await tracker.redis.pTTL(`${namespace}:short-lived`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1_500);

    await tuned.localOnly();
    expect(l1OnlyWrites).toBe(1);
    expect(await tracker.redis.exists(`${namespace}:local-only`)).toBe(0);

    await tuned.counted();
    await tuned.counted();
    expect(readsThroughMethodPolicy).toBe(2);
  });

  it('publishes events and counts them in stats()', async () => {
    const { service, cache } = await boot('events');
    const seen: CacheEvent[] = [];
    const subscription = cache.events$.subscribe((event) => seen.push(event));
    await service.save(sampleProduct('ev'));
    await service.findOne('ev');
    subscription.unsubscribe();

    expect(seen.map((e) => `${e.type}:${'layer' in e ? e.layer : ''}`)).toEqual(['write:l1', 'write:l2', 'hit:l1']);
    const stats = cache.stats();
    expect(stats.l1.writes).toBe(1);
    expect(stats.l2.writes).toBe(1);
    expect(stats.l1.hits).toBe(1);
    expect(stats.offload).toMatchObject({ running: 0, failed: 0 });
  });

  it('keeps separate caches for two Nest applications in one process', async () => {
    const a = await boot('two-apps-a', { l2: false });
    const b = await boot('two-apps-b', { l2: false });
    a.service.repository.rows.set('x', sampleProduct('x', 1));
    b.service.repository.rows.set('x', sampleProduct('x', 2));

    expect((await a.service.findOne('x'))?.price).toBe(1);
    expect((await b.service.findOne('x'))?.price).toBe(2);
    expect((await a.service.findOne('x'))?.price).toBe(1);
    expect(a.cache.stats().l1.hits).toBe(1);
    expect(b.cache.stats().l1.hits).toBe(0);
  });

  it('serves decorated services of a feature module when the cache module is global', async () => {
    const { app, namespace } = await boot('global');
    // ProductsModule does not import LayeredCacheModule; the global registration reaches it.
    const service = app.select(ProductsModule).get(ProductService);
    await service.save(sampleProduct('g1'));
    expect(await tracker.redis.exists(`${namespace}:${productKey('g1')}`)).toBe(1);
  });

  it('never fails the method when the cache cannot be used', async () => {
    // Nothing will ever answer there: close() gives up on the kept writes quickly.
    const { service } = await boot('shielded', { l2: { url: 'redis://127.0.0.1:1', commandTimeoutMs: 50 }, shutdownTimeoutMs: 200 });
    service.repository.rows.set('f1', sampleProduct('f1'));
    expect(await service.save(sampleProduct('f1'))).toEqual(sampleProduct('f1'));
    expect(await service.findOne('f1')).toEqual(sampleProduct('f1'));
  });
});

describe('startup checks', () => {
  it('refuses @Cacheable on a request-scoped provider with a message that says how to fix it', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequestService {
      @Cacheable()
      async load(): Promise<number> {
        return 1;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [LayeredCacheModule.forRoot({ isGlobal: true })],
      providers: [PerRequestService],
    }).compile();
    await expect(moduleRef.init()).rejects.toThrow(/PerRequestService\.load cannot be served: PerRequestService is request-scoped/);
  });

  it('refuses @Cacheable on a method that returns synchronously', async () => {
    @Injectable()
    class SyncService {
      @Cacheable()
      load(): number {
        return 1;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [LayeredCacheModule.forRoot({ isGlobal: true })],
      providers: [SyncService],
    }).compile();
    await expect(moduleRef.init()).rejects.toThrow(/SyncService\.load cannot be served: the method returns a plain value/);
  });

  it('serves a synchronous @CacheWrite method and keeps its synchronous return', async () => {
    @Injectable()
    class Counter {
      @CacheWrite({ key: 'counter' })
      next(): number {
        return 7;
      }
    }
    @Module({ providers: [Counter] })
    class CounterModule {}
    const l1 = new MemoryStore();
    const moduleRef = await createTestApp({ cache: { l1 }, imports: [CounterModule] });
    expect(moduleRef.get(Counter).next()).toBe(7);
    expect(await eventually(async () => (await l1.get('counter'))?.value === 7)).toBe(true);
    await moduleRef.close();
  });

  it('refuses two cache registrations that would both serve one instance', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [LayeredCacheModule.forRoot({ namespace: 'a' }), LayeredCacheModule.forRoot({ namespace: 'b' }), ProductsModule],
    }).compile();
    await expect(moduleRef.init()).rejects.toThrow(/LayeredCacheModule.forRoot\(\) without a name is registered twice in one application/);
  });

  it('runs the plain method, uncached, on an instance that no module serves', async () => {
    const service = new ProductService(new ProductRepository());
    service.repository.rows.set('n1', sampleProduct('n1'));
    await service.findOne('n1');
    await service.findOne('n1');
    expect(service.repository.calls.find).toBe(2);
  });
});

function cacheEntryExpiry(raw: string | null): number | null {
  return raw === null ? null : (decodeStoredText(raw)?.expiresAt ?? null);
}
