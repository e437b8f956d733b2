import { Test, type TestingModule } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type CacheStore, LayeredCacheModule, type LayeredCacheModuleOptions, MemoryStore } from '../../lib';
import { ChaosStore } from '../../lib/testing';
import { CapturingLogger } from '../support/capturing-logger';
import { REDIS_URL, uniqueNamespace } from '../support/redis';
import { freePort } from '../support/redis-server';

describe('the line the module logs at startup', () => {
  let app: TestingModule | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function startupLines(cache: LayeredCacheModuleOptions, logger = new CapturingLogger()): Promise<string[]> {
    app = await Test.createTestingModule({ imports: [LayeredCacheModule.forRoot(cache)] })
      .setLogger(logger)
      .compile();
    await app.init();
    return logger.cache('Cache layers:').map((line) => line.message);
  }

  it('names the Redis host, port and db of the L2, never its username or password', async () => {
    const port = await freePort();
    const logger = new CapturingLogger();
    const namespace = uniqueNamespace('startup');
    const lines = await startupLines(
      {
        namespace,
        l2: { url: `redis://cache-user:s3cret-pw@127.0.0.1:${port}/2`, commandTimeoutMs: 20 },
        resilience: { timeoutMs: 40, replay: false },
        shutdownTimeoutMs: 200,
      },
      logger,
    );
    expect(lines).toEqual([
      `Cache layers: L1 MemoryStore, up to 10000 entries; L2 Redis 127.0.0.1:${port} db 2 (node-redis); L1 invalidation: Redis tracking where the server allows it, else pub/sub (prefix "${namespace}:"), not connected yet.`,
    ]);
    await app?.close();
    app = undefined;
    expect(logger.lines.filter((line) => /s3cret-pw|cache-user/.test(line.message))).toEqual([]);
  });

  it('says which invalidation a Redis L2 uses once it is connected', async () => {
    const namespace = uniqueNamespace('startup');
    const lines = await startupLines({ namespace, l2: { url: REDIS_URL } });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Cache layers: L1 MemoryStore, up to 10000 entries; L2 Redis \S+ db \d+ \(node-redis\); L1 invalidation: Redis (tracking \(prefix "[^"]+:"\)|pub\/sub \(channel "[^"]+:"\))\.$/);
    expect(lines[0]).toContain(`${namespace}:"`);
  });

  it('says how long L1 keeps entries at most when l1MaxTtl is set', async () => {
    const lines = await startupLines({ l1: new MemoryStore(), l2: new ChaosStore(new MemoryStore()), l1MaxTtl: 5_000 });
    expect(lines[0]).toMatch(/ L1 keeps entries at most 5000 ms\.$/);
    await app?.close();
    const written = await startupLines({ l1: new MemoryStore(), l2: new ChaosStore(new MemoryStore()), l1MaxTtl: '5s' });
    expect(written[0]).toMatch(/ L1 keeps entries at most 5s\.$/);
  });

  it('says how many bytes L1 holds at most, and in what unit a sizeOf of its own counts', async () => {
    expect((await startupLines({ l1: { maxBytes: 64 * 1024 * 1024 } }))[0]).toMatch(/^Cache layers: L1 MemoryStore, up to 10000 entries and 67108864 bytes\. /);
    await app?.close();
    expect((await startupLines({ l1: { maxSize: 500, sizeOf: () => 1 } }))[0]).toMatch(/^Cache layers: L1 MemoryStore, up to 10000 entries and 500 size units\. /);
  });

  it('says that it runs L1 only when there is no L2', async () => {
    expect(await startupLines({ l1: { maxEntries: 500 } })).toEqual([
      'Cache layers: L1 MemoryStore, up to 500 entries. No L2 store configured: caching in process memory only (L1). Pass l2: { url } (Redis) or any CacheStore to share the cache between instances.',
    ]);
  });

  it('names stores it was handed by their class', async () => {
    expect(await startupLines({ l1: new MemoryStore(), l2: new ChaosStore(new MemoryStore()) })).toEqual([
      "Cache layers: L1 MemoryStore; L2 ChaosStore; L1 invalidation: none (other instances' writes reach this L1 only when its entries expire).",
    ]);
  });

  it('describes a store given as a plain object without calling it "Object"', async () => {
    const inner = new MemoryStore();
    const plain: CacheStore = { get: (key) => inner.get(key), set: (key, entry, ttlMs) => inner.set(key, entry, ttlMs), delete: (key) => inner.delete(key) };
    expect(await startupLines({ l2: plain })).toEqual([
      "Cache layers: L1 MemoryStore, up to 10000 entries; L2 a custom CacheStore; L1 invalidation: none (other instances' writes reach this L1 only when its entries expire).",
    ]);
  });
});
