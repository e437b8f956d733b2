import { Injectable, Module, type Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CacheEvict,
  Cacheable,
  CacheWrite,
  getLayeredCacheToken,
  InjectLayeredCache,
  LayeredCache,
  LayeredCacheModule,
  type LayerWrite,
  type Offload,
  type PromiseOrValue,
  SequentialWritePolicy,
  WRITE_POLICY,
} from '../../lib';
import { RELAXED_L2_TIME_LIMIT } from '../support/app';
import { CapturingLogger } from '../support/capturing-logger';
import { REDIS_URL, holdsEntry, rawRedisForFile, uniqueNamespace } from '../support/redis';

const REPORTS = 'reports';

@Injectable()
class ReportService {
  readonly runs = { daily: 0, product: 0 };

  @Cacheable({ cache: REPORTS, key: (day: string) => `daily:${day}` })
  async daily(day: string): Promise<string> {
    this.runs.daily++;
    return `report of ${day} #${this.runs.daily}`;
  }

  @Cacheable({ key: (id: string) => `product:${id}` })
  async product(id: string): Promise<string> {
    this.runs.product++;
    return `product ${id} #${this.runs.product}`;
  }

  @CacheWrite({ cache: REPORTS, key: (day: string) => `daily:${day}` })
  async rebuild(day: string): Promise<string> {
    return `rebuilt ${day}`;
  }

  @CacheEvict({ cache: REPORTS, key: (day: string) => `daily:${day}` })
  async discard(_day: string): Promise<void> {}
}

@Injectable()
class CacheUser {
  constructor(
    readonly unnamed: LayeredCache,
    @InjectLayeredCache() readonly alsoUnnamed: LayeredCache,
    @InjectLayeredCache(REPORTS) readonly reports: LayeredCache,
  ) {}
}

@Module({ providers: [ReportService, CacheUser] })
class ReportsFeatureModule {}

@Module({ providers: [ReportService] })
class ReportServiceOnlyModule {}

/** A write policy that records the keys it writes, to show which registration's policy a write used. */
class RecordingWritePolicy extends SequentialWritePolicy {
  readonly keys: string[] = [];
  override execute(key: string, writeL1: LayerWrite, writeL2: LayerWrite, offload: Offload): PromiseOrValue<void> {
    this.keys.push(key);
    return super.execute(key, writeL1, writeL2, offload);
  }
}

describe('named caches', () => {
  const redis = rawRedisForFile();
  let app: TestingModule | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function boot(imports: Parameters<typeof Test.createTestingModule>[0]['imports'], logger = new CapturingLogger(), feature: Type = ReportsFeatureModule): Promise<TestingModule> {
    const moduleRef = await Test.createTestingModule({ imports: [...(imports ?? []), feature] })
      .setLogger(logger)
      .compile();
    await moduleRef.init();
    app = moduleRef;
    return moduleRef;
  }

  function namespaces(): { readonly unnamed: string; readonly reports: string } {
    const pair = { unnamed: uniqueNamespace('named-default'), reports: uniqueNamespace('named-reports') };
    redis.namespaces.push(pair.unnamed, pair.reports);
    return pair;
  }

  it('gives each registration its own cache, injected by name, with its own keys in Redis', async () => {
    const ns = namespaces();
    const moduleRef = await boot([
      LayeredCacheModule.forRoot({ isGlobal: true, namespace: ns.unnamed, l2: { url: REDIS_URL }, resilience: RELAXED_L2_TIME_LIMIT }),
      LayeredCacheModule.forRoot({ isGlobal: true, name: REPORTS, namespace: ns.reports, l2: { url: REDIS_URL }, resilience: RELAXED_L2_TIME_LIMIT }),
    ]);
    const user = moduleRef.get(CacheUser);
    expect(user.alsoUnnamed).toBe(user.unnamed);
    expect(user.reports).not.toBe(user.unnamed);
    expect(moduleRef.get(getLayeredCacheToken(REPORTS))).toBe(user.reports);
    // Not even a lookup across all modules finds a named cache under LayeredCache.
    expect(moduleRef.get(LayeredCache, { strict: false })).toBe(user.unnamed);
    expect(user.reports.namespace).toBe(ns.reports);

    await user.reports.set('k', 'in reports');
    await user.unnamed.set('k', 'in the unnamed cache');
    expect(await user.reports.get('k')).toBe('in reports');
    expect(await user.unnamed.get('k')).toBe('in the unnamed cache');
    expect(holdsEntry(await redis.client().get(`${ns.reports}:k`))).toBe(true);
    expect(holdsEntry(await redis.client().get(`${ns.unnamed}:k`))).toBe(true);

    await user.reports.clear();
    expect(await user.reports.get('k')).toBeUndefined();
    expect(await user.unnamed.get('k')).toBe('in the unnamed cache');
  });

  it('serves a decorated method with the cache its cache option names', async () => {
    const ns = namespaces();
    const moduleRef = await boot([
      LayeredCacheModule.forRoot({ isGlobal: true, namespace: ns.unnamed, l2: { url: REDIS_URL }, resilience: RELAXED_L2_TIME_LIMIT }),
      LayeredCacheModule.forRoot({ isGlobal: true, name: REPORTS, namespace: ns.reports, l2: { url: REDIS_URL }, resilience: RELAXED_L2_TIME_LIMIT }),
    ]);
    const service = moduleRef.get(ReportService);
    const { reports, unnamed } = moduleRef.get(CacheUser);

    expect(await service.daily('mon')).toBe('report of mon #1');
    expect(await service.daily('mon')).toBe('report of mon #1');
    expect(service.runs.daily).toBe(1);
    expect(await reports.get('daily:mon')).toBe('report of mon #1');
    expect(await unnamed.get('daily:mon')).toBeUndefined();
    expect(holdsEntry(await redis.client().get(`${ns.reports}:daily:mon`))).toBe(true);

    await service.product('p1');
    expect(await unnamed.get('product:p1')).toBe('product p1 #1');
    expect(await reports.get('product:p1')).toBeUndefined();

    await service.rebuild('mon');
    expect(await service.daily('mon')).toBe('rebuilt mon');
    await service.discard('mon');
    expect(await reports.get('daily:mon')).toBeUndefined();
    expect(await service.daily('mon')).toBe('report of mon #2');
  });

  it('uses the policies given to each registration, and only for its own cache', async () => {
    const ns = namespaces();
    const reportsPolicy = new RecordingWritePolicy();
    const moduleRef = await boot([
      LayeredCacheModule.forRoot({ isGlobal: true, namespace: ns.unnamed }),
      LayeredCacheModule.forRoot({ isGlobal: true, name: REPORTS, namespace: ns.reports, providers: [{ provide: WRITE_POLICY, useValue: reportsPolicy }] }),
    ]);
    const { reports, unnamed } = moduleRef.get(CacheUser);
    await unnamed.set('a', 1);
    await reports.set('b', 2);
    await moduleRef.get(ReportService).daily('tue');
    expect(reportsPolicy.keys).toEqual([`${ns.reports}:b`, `${ns.reports}:daily:tue`]);
  });

  it('takes a named cache from forRootAsync, with the name as its namespace by default', async () => {
    const name = uniqueNamespace('async-named');
    redis.namespaces.push(name);
    const moduleRef = await boot([
      LayeredCacheModule.forRoot({ isGlobal: true }),
      LayeredCacheModule.forRootAsync({ isGlobal: true, name, useFactory: async () => ({ l2: { url: REDIS_URL }, resilience: RELAXED_L2_TIME_LIMIT }) }),
      LayeredCacheModule.forRoot({ isGlobal: true, name: REPORTS }),
    ]);
    const cache = moduleRef.get<LayeredCache>(getLayeredCacheToken(name));
    expect(cache.namespace).toBe(name);
    await cache.set('x', 'y');
    expect(holdsEntry(await redis.client().get(`${name}:x`))).toBe(true);
  });

  it('says at startup which layers each named cache runs', async () => {
    const logger = new CapturingLogger();
    await boot([LayeredCacheModule.forRoot({ isGlobal: true }), LayeredCacheModule.forRoot({ isGlobal: true, name: REPORTS, l1: { maxEntries: 50 } })], logger);
    const lines = logger.cache('Cache layers').map((line) => line.message);
    expect(lines).toHaveLength(2);
    expect(lines).toContainEqual(expect.stringMatching(/^Cache layers: L1 MemoryStore, up to 10000 entries\./));
    expect(lines).toContainEqual(expect.stringMatching(/^Cache layers of "reports": L1 MemoryStore, up to 50 entries\./));
  });

  it('exports only the named token from a named registration, so it never shadows the unnamed cache', async () => {
    @Injectable()
    class NeedsUnnamed {
      constructor(readonly cache: LayeredCache) {}
    }
    const moduleRef = Test.createTestingModule({ imports: [LayeredCacheModule.forRoot({ name: REPORTS })], providers: [NeedsUnnamed] });
    await expect(moduleRef.compile()).rejects.toThrow(/NeedsUnnamed/);
  });

  describe('startup checks', () => {
    it('refuses a decorated method whose cache option names a cache the application does not register', async () => {
      await expect(boot([LayeredCacheModule.forRoot({ isGlobal: true }), LayeredCacheModule.forRoot({ isGlobal: true, name: 'other' })], undefined, ReportServiceOnlyModule)).rejects.toThrow(
        `@Cacheable on ReportService.daily uses the cache "reports", but this application registers no LayeredCacheModule.forRoot({ name: 'reports' }). Its named caches: "other".`,
      );
    });

    it('refuses a decorated method without a cache option when the application registers only named caches', async () => {
      await expect(boot([LayeredCacheModule.forRoot({ isGlobal: true, name: REPORTS })], undefined, ReportServiceOnlyModule)).rejects.toThrow(
        '@Cacheable on ReportService.product has no cache option, so it uses the unnamed cache, but this application registers only named caches ("reports").',
      );
    });

    it('refuses two registrations of one name', async () => {
      await expect(boot([LayeredCacheModule.forRoot({ isGlobal: true }), LayeredCacheModule.forRoot({ name: REPORTS }), LayeredCacheModule.forRoot({ name: REPORTS, ttl: 5 })], undefined, ReportServiceOnlyModule)).rejects.toThrow(
        "LayeredCacheModule.forRoot({ name: 'reports' }) is registered twice in one application.",
      );
    });

    it('refuses a name that is not a non-empty string', () => {
      expect(() => LayeredCacheModule.forRoot({ name: '' })).toThrow('LayeredCacheModule got name "": a cache name must be a non-empty string.');
    });

    it('refuses a decorator cache option that is not a name', () => {
      expect(() => Cacheable({ cache: '' })).toThrow('@Cacheable got cache "": it must be the non-empty name given to LayeredCacheModule.forRoot({ name })');
    });
  });
});
