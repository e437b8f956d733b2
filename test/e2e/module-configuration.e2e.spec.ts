import { Injectable, Module } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import {
  BothLayersFailedError,
  type CacheStore,
  L1_STORE,
  L2_STORE,
  LAYERED_CACHE_OPTIONS,
  LayeredCache,
  LayeredCacheModule,
  type LayeredCacheModuleOptions,
  type LayerWrite,
  MemoryStore,
  OffloadService,
  RaceWritePolicy,
  READ_POLICY,
  REFILL_POLICY,
  RedisStore,
  RefillPolicy,
  WRITE_POLICY,
  type WritePolicy,
} from '../../lib';
import { ProductService, ProductsModule, productKey, sampleProduct } from '../fixtures/products';
import { createTestApp, RELAXED_L2_TIME_LIMIT } from '../support/app';
import { eventually, REDIS_URL, uniqueNamespace } from '../support/redis';
import { trackAppsOnRedis } from '../support/redis-apps';
import { DelayedStore, FailingStore } from '../support/test-stores';
import { Test, type TestingModule } from '@nestjs/testing';

/** A write policy that only writes L1: proves a user's policy replaces the default. */
@Injectable()
class L1OnlyWritePolicy implements WritePolicy {
  calls = 0;
  async execute(key: string, writeL1: LayerWrite): Promise<void> {
    this.calls++;
    await writeL1(key);
  }
}

@Injectable()
class CacheConfig {
  readonly namespace = uniqueNamespace('async');
}

@Module({ providers: [CacheConfig], exports: [CacheConfig] })
class ConfigModule {}

@Injectable()
class CacheOptionsFactory {
  constructor(private readonly config: CacheConfig) {}
  createLayeredCacheOptions(): LayeredCacheModuleOptions {
    return { namespace: this.config.namespace, l2: { url: REDIS_URL }, ttl: 1234, resilience: RELAXED_L2_TIME_LIMIT };
  }
}

describe('LayeredCacheModule configuration', () => {
  const tracker = trackAppsOnRedis();

  function track(app: TestingModule, namespace: string) {
    tracker.track(app, namespace);
    return app;
  }

  it('forRootAsync builds options with useFactory, inject and imports', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        LayeredCacheModule.forRootAsync({
          isGlobal: true,
          imports: [ConfigModule],
          inject: [CacheConfig],
          useFactory: (config: CacheConfig) => ({ namespace: config.namespace, l2: { url: REDIS_URL }, resilience: RELAXED_L2_TIME_LIMIT }),
        }),
        ProductsModule,
      ],
    }).compile();
    await moduleRef.init();
    const namespace = moduleRef.get(LAYERED_CACHE_OPTIONS, { strict: false }).namespace as string;
    track(moduleRef, namespace);
    await moduleRef.get(ProductService).save(sampleProduct('async'));
    expect(await tracker.redis.exists(`${namespace}:${productKey('async')}`)).toBe(1);
    expect(moduleRef.get(L2_STORE, { strict: false })).toBeInstanceOf(RedisStore);
  });

  it('forRootAsync builds options with useClass', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [LayeredCacheModule.forRootAsync({ imports: [ConfigModule], useClass: CacheOptionsFactory })],
    }).compile();
    await moduleRef.init();
    const options = moduleRef.get<LayeredCacheModuleOptions>(LAYERED_CACHE_OPTIONS, { strict: false });
    track(moduleRef, options.namespace as string);
    expect(options.ttl).toBe(1234);
    const cache = moduleRef.get(LayeredCache, { strict: false });
    await cache.set('k', 1);
    expect(await tracker.redis.pTTL(`${options.namespace}:k`)).toBeLessThanOrEqual(1234);
  });

  it('replaces the write policy with a provider of the user (providers extra)', async () => {
    const namespace = uniqueNamespace('override-provider');
    const app = track(
      await createTestApp({ cache: { namespace, l2: { url: REDIS_URL }, resilience: RELAXED_L2_TIME_LIMIT, providers: [{ provide: WRITE_POLICY, useClass: L1OnlyWritePolicy }] } }),
      namespace,
    );
    await app.get(ProductService).save(sampleProduct('o1'));
    const policy = app.get<L1OnlyWritePolicy>(WRITE_POLICY);
    expect(policy.calls).toBe(1);
    expect(await tracker.redis.exists(`${namespace}:${productKey('o1')}`)).toBe(0);
    expect(await app.get<CacheStore>(L1_STORE).get(`${namespace}:${productKey('o1')}`)).toBeDefined();
  });

  it('replaces the write policy with overrideProvider in a testing module', async () => {
    const namespace = uniqueNamespace('override-testing');
    const policy = new L1OnlyWritePolicy();
    const app = track(
      await createTestApp({ cache: { namespace, l2: { url: REDIS_URL }, resilience: RELAXED_L2_TIME_LIMIT }, configure: (b) => b.overrideProvider(WRITE_POLICY).useValue(policy) }),
      namespace,
    );
    await app.get(ProductService).save(sampleProduct('o2'));
    expect(policy.calls).toBe(1);
    expect(await tracker.redis.exists(`${namespace}:${productKey('o2')}`)).toBe(0);
  });

  it('replaces the stores and the read and refill policies by token', async () => {
    const namespace = uniqueNamespace('override-stores');
    const l1 = new MemoryStore();
    const l2 = new MemoryStore();
    let reads = 0;
    const app = track(
      await createTestApp({
        cache: { namespace },
        configure: (b) =>
          b
            .overrideProvider(L1_STORE)
            .useValue(l1)
            .overrideProvider(L2_STORE)
            .useValue(l2)
            .overrideProvider(REFILL_POLICY)
            .useValue(RefillPolicy.Never)
            .overrideProvider(READ_POLICY)
            .useValue({
              execute: async <T>(key: string, _readL1: unknown, readL2: (k: string) => Promise<T>) => {
                reads++;
                const entry = await readL2(key);
                return entry === undefined ? undefined : { entry, source: 'l2' as const };
              },
            }),
      }),
      namespace,
    );
    const service = app.get(ProductService);
    await service.save(sampleProduct('s1'));
    expect((await l2.get(`${namespace}:${productKey('s1')}`))?.value).toEqual(sampleProduct('s1'));
    await l1.clear();
    await service.findOne('s1');
    expect(reads).toBe(1);
    await app.get(OffloadService).drain();
    expect(await l1.get(`${namespace}:${productKey('s1')}`)).toBeUndefined(); // refill: never
  });

  it('with the race policy, returns while a slow L2 write is still running, and that write lands later', async () => {
    const namespace = uniqueNamespace('race');
    const l2 = new DelayedStore(new RedisStore({ url: REDIS_URL }), { set: 300 });
    // A time limit above the delay: this L2 is slow, not failing.
    const app = track(await createTestApp({ cache: { namespace, l2, writePolicy: new RaceWritePolicy(), resilience: { timeoutMs: 1_000 } } }), namespace);
    const key = `${namespace}:${productKey('race')}`;

    await app.get(ProductService).save(sampleProduct('race'));

    expect(await tracker.redis.exists(key)).toBe(0); // L1 won; L2 still writing
    expect(app.get(OffloadService).counts().running).toBe(1);
    expect(await eventually(async () => (await tracker.redis.exists(key)) === 1)).toBe(true);
    await l2.close();
  });

  it('app.close() drains offloaded writes so none is lost', async () => {
    const namespace = uniqueNamespace('drain');
    const l2 = new DelayedStore(new RedisStore({ url: REDIS_URL }), { set: 200 });
    const app = await createTestApp({ cache: { namespace, l2, writePolicy: new RaceWritePolicy(), resilience: { timeoutMs: 1_000 } } });
    tracker.track(undefined, namespace);
    const service = app.get(ProductService);
    await Promise.all(Array.from({ length: 20 }, (_, i) => service.save(sampleProduct(`d${i}`))));
    expect(await tracker.redis.exists(`${namespace}:${productKey('d0')}`)).toBe(0);

    await app.close();

    const keys = Array.from({ length: 20 }, (_, i) => `${namespace}:${productKey(`d${i}`)}`);
    expect(await tracker.redis.exists(keys)).toBe(20);
    await l2.close();
  });

  it('reports BothLayersFailedError naming both causes when both layers fail', async () => {
    const namespace = uniqueNamespace('both-fail');
    const app = track(
      await createTestApp({ cache: { namespace, l1: new FailingStore(new Error('L1 out of memory')), l2: new FailingStore(new Error('Redis connection refused')) } }),
      namespace,
    );
    const error = await app
      .get(LayeredCache)
      .set('k', 1)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BothLayersFailedError);
    expect((error as Error).message).toContain('L1 out of memory');
    expect((error as Error).message).toContain('Redis connection refused');
    // A decorated method still returns its result.
    expect(await app.get(ProductService).save(sampleProduct('bf'))).toEqual(sampleProduct('bf'));
  });

  it('runs L1 only when l2 is omitted', async () => {
    const namespace = uniqueNamespace('l1-only');
    const app = track(await createTestApp({ cache: { namespace } }), namespace);
    expect(app.get(L2_STORE)).toBeNull();
    const service = app.get(ProductService);
    service.repository.rows.set('l', sampleProduct('l'));
    await service.findOne('l');
    await service.findOne('l');
    expect(service.repository.calls.find).toBe(1);
  });

  it('refuses at startup a namespace with ":", which could collide with another namespace\'s keys', async () => {
    await expect(createTestApp({ cache: { namespace: 'shop:eu', l2: false } })).rejects.toThrow(
      /Invalid cache namespace "shop:eu": it contains ":".*Use another separator, such as "shop-eu" or "shop\.eu"\./,
    );
  });

  it('refuses to start when l2.url is present but undefined, instead of connecting to localhost', async () => {
    const unsetVariable: string | undefined = undefined;
    const started = createTestApp({ cache: { namespace: uniqueNamespace('url-unset'), l2: { url: unsetVariable } } });
    await expect(started).rejects.toThrow(/l2\.url in LayeredCacheModule\) is undefined: is the environment variable .*REDIS_URL.* set\?/);
  });
});
