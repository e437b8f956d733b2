import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Cacheable, LayeredCache, LayeredCacheModule, type LayeredCacheModuleOptions } from '../../lib';
import { CapturingLogger } from '../support/capturing-logger';
import { uniqueNamespace } from '../support/redis';
import { freePort } from '../support/redis-server';

@Injectable()
class TenantService {
  calls = 0;

  @Cacheable({
    key: (): string => {
      throw new Error('tenant id missing from the request');
    },
  })
  async settings(): Promise<{ theme: string }> {
    this.calls++;
    return { theme: 'dark' };
  }

  @Cacheable()
  async matching(filter: (theme: string) => boolean): Promise<string[]> {
    return ['dark', 'light'].filter((theme) => theme === 'dark' && filter(theme));
  }
}

@Module({ providers: [TenantService], exports: [TenantService] })
class TenantModule {}

describe('cache failures reach the Nest log without subscribing', () => {
  let app: TestingModule | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function boot(cache: LayeredCacheModuleOptions, logger: CapturingLogger): Promise<TestingModule> {
    app = await Test.createTestingModule({ imports: [LayeredCacheModule.forRoot({ isGlobal: true, ...cache }), TenantModule] })
      .setLogger(logger)
      .compile();
    await app.init();
    return app;
  }

  /** Options of an L2 on Redis that is not there (a closed port), with failures that come fast and are not skipped. */
  async function deadRedis(): Promise<{ options: LayeredCacheModuleOptions }> {
    const port = await freePort();
    return {
      options: {
        namespace: uniqueNamespace('failure-log'),
        l2: { url: `redis://cache-user:s3cret-pw@127.0.0.1:${port}/2`, commandTimeoutMs: 20 },
        // No breaker: every call reaches the dead Redis and fails, as during an outage before a breaker trips.
        resilience: { timeoutMs: 40, breaker: false, replay: false },
        shutdownTimeoutMs: 200,
      },
    };
  }

  it('logs the first L2 read failure at once and one summary for the others, not one line per failure', async () => {
    const logger = new CapturingLogger();
    const { options } = await deadRedis();
    const cache = (await boot(options, logger)).get(LayeredCache);

    const calls = 30;
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: calls / 3 }, (_, i) => cache.get(`k${round}-${i}`).catch(() => undefined)));
    }
    expect(cache.stats().l2.errors).toBe(calls);

    const reads = logger.cache('L2 get');
    expect(reads).toHaveLength(1);
    expect(reads[0].level).toBe('warn');
    expect(reads[0].message).toMatch(/^Cache failure \(L2 get, CacheTimeoutError\): L2 get of "[^"]+" failed: .*(did not answer|not connected)/);
    expect(reads[0].message).toMatch(/Further failures of this kind are counted and summarised every 10 s/);

    await app?.close();
    app = undefined;
    const afterShutdown = logger.cache('L2 get');
    expect(afterShutdown).toHaveLength(2);
    expect(afterShutdown[1].message).toMatch(new RegExp(`^Cache failure \\(L2 get, CacheTimeoutError\\): ${calls - 1} more before shutdown; the last: L2 get of "`));
  });

  it('logs a key function that throws in a decorated method, once for repeated calls', async () => {
    const logger = new CapturingLogger();
    const service = (await boot({ namespace: uniqueNamespace('key-log') }, logger)).get(TenantService);
    expect(await service.settings()).toEqual({ theme: 'dark' });
    expect(await service.settings()).toEqual({ theme: 'dark' });
    const lines = logger.cache('key building');
    expect(lines).toHaveLength(1);
    expect(lines[0].message).toMatch(
      /^Cache failure \(key building, Error\): The key function of TenantService\.settings threw: tenant id missing from the request\. The call ran without the cache; .*Further failures of this kind/,
    );
  });

  it('logs a default key that cannot encode an argument, naming the method', async () => {
    const logger = new CapturingLogger();
    const service = (await boot({ namespace: uniqueNamespace('default-key-log') }, logger)).get(TenantService);
    expect(await service.matching(() => true)).toEqual(['dark']);
    const lines = logger.cache('key building');
    expect(lines).toHaveLength(1);
    expect(lines[0].message).toMatch(/^Cache failure \(key building, LayeredCacheError\): TenantService\.matching ran without the cache: Cannot build a cache key: argument 0 is function\. Give the decorator a "key" function/);
  });

  it('logs a clear that the cache refuses because it has no namespace to clear', async () => {
    const logger = new CapturingLogger();
    const { options } = await deadRedis();
    // No namespace: clearing the cache would mean every key of the Redis, which the cache refuses before sending anything.
    const cache = (await boot({ ...options, namespace: undefined }, logger)).get(LayeredCache);
    await cache.clear().catch(() => undefined);
    const lines = logger.cache('clear');
    expect(lines).toHaveLength(1);
    expect(lines[0].message).toMatch(/clear\(\) needs a namespace on a cache with an L2/);
  });

  it('logs a value the serializer refuses, with what to do about it', async () => {
    const logger = new CapturingLogger();
    const { options } = await deadRedis();
    const cache = (await boot(options, logger)).get(LayeredCache);
    await cache.set('order', { total: 10n }).catch(() => undefined);
    const lines = logger.cache('serialize');
    expect(lines).toHaveLength(1);
    expect(lines[0].message).toMatch(/^Cache failure \(L2 serialize, CacheSerializationError\): .*value\.total is a BigInt.*store it as a string/);
  });
});
