import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CacheWrite, Cacheable, L2_STORE, LayeredCache, LayeredCacheModule, type LayeredCacheModuleOptions, MemoryStore, OffloadService, RedisStore } from '../../lib';
import { CapturingLogger } from '../support/capturing-logger';
import { REDIS_URL, holdsEntry, rawRedisForFile, uniqueNamespace } from '../support/redis';

const LIMIT = 64 * 1024;

/** A report of about `bytes` of JSON. */
const report = (bytes: number): { rows: string[] } => ({ rows: Array.from({ length: Math.ceil(bytes / 100) }, (_, index) => `row ${index}`.padEnd(97, '.')) });

@Injectable()
class Reports {
  loads = 0;
  size = 2 * LIMIT;

  @Cacheable({ key: 'report' })
  async find(): Promise<{ rows: string[] }> {
    this.loads++;
    return report(this.size);
  }

  @CacheWrite({ key: 'report' })
  async rebuild(): Promise<{ rows: string[] }> {
    return report(this.size);
  }
}

@Module({ providers: [Reports] })
class ReportsModule {}

describe('maxValueBytes in a Nest app (real Redis)', () => {
  const shared = rawRedisForFile();
  let app: TestingModule | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function boot(options: LayeredCacheModuleOptions = {}) {
    const namespace = uniqueNamespace('value-limits');
    shared.namespaces.push(namespace);
    const logger = new CapturingLogger();
    app = await Test.createTestingModule({
      imports: [
        LayeredCacheModule.forRoot({ isGlobal: true, namespace, l2: { url: REDIS_URL }, resilience: { timeoutMs: 2_000 }, invalidation: false, maxValueBytes: LIMIT, ...options }),
        ReportsModule,
      ],
    })
      .setLogger(logger)
      .compile();
    await app.init();
    return { namespace, logger, reports: app.get(Reports), cache: app.get(LayeredCache) };
  }

  it('gives the RedisStore it creates the same maxValueBytes', async () => {
    await boot();
    expect((app as TestingModule).get<RedisStore>(L2_STORE).maxValueBytes).toBe(LIMIT);
  });

  it('@Cacheable returns a result over the limit uncached, and the log says why and how to fix it', async () => {
    const { reports, cache, logger } = await boot();
    expect((await reports.find()).rows).toHaveLength(Math.ceil((2 * LIMIT) / 100));
    expect((await reports.find()).rows).toHaveLength(Math.ceil((2 * LIMIT) / 100));
    expect(reports.loads).toBe(2);
    expect(await cache.get('report')).toBeUndefined();
    const lines = logger.cache('CacheValueTooLargeError');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.level).toBe('warn');
    expect(lines[0]?.message).toMatch(/more than maxValueBytes \(65536 bytes.*Cache less.*raise maxValueBytes/);
  });

  it('@CacheWrite returns a result over the limit and leaves no older value behind', async () => {
    const { reports, cache, namespace } = await boot();
    reports.size = 1_000;
    await reports.rebuild();
    expect(await cache.get('report')).toBeDefined();
    reports.size = 2 * LIMIT;
    expect((await reports.rebuild()).rows).toHaveLength(Math.ceil((2 * LIMIT) / 100));
    expect(await cache.get('report')).toBeUndefined();
    expect(holdsEntry(await shared.client().get(`${namespace}:report`))).toBe(false);
  });

  it('serves a value over the default limit once maxValueBytes is raised', async () => {
    const { reports, cache } = await boot({ maxValueBytes: 4 * LIMIT });
    await reports.find();
    await reports.find();
    expect(reports.loads).toBe(1);
    expect(await cache.get('report')).toBeDefined();
  });

  it('logs an oversized value read from Redis as a miss, and replaces it with the method’s result', async () => {
    const { reports, logger, namespace } = await boot();
    // What a writer with a higher limit stored.
    const l2 = new RedisStore({ url: REDIS_URL, maxValueBytes: 4 * LIMIT });
    const writer = new LayeredCache({ l1: new MemoryStore(), l2, offload: new OffloadService(), namespace, invalidation: false, resilience: { timeoutMs: 2_000 } });
    await writer.set('report', report(2 * LIMIT));
    await writer.store.close();
    reports.size = 1_000;
    expect((await reports.find()).rows).toHaveLength(10);
    expect(reports.loads).toBe(1);
    expect(logger.cache('is at least')).toHaveLength(1);
    expect(logger.cache('is at least')[0]?.message).toMatch(/L2.*CacheValueTooLargeError.*the read is a miss/);
    expect((await reports.find()).rows).toHaveLength(10);
    expect(reports.loads).toBe(1);
  });
});
