import { afterEach, describe, expect, it } from 'vitest';
import { type Product, sampleProduct } from '../fixtures/products';
import { bootFaultApp, rawClient } from '../support/fault-app';
import { eventually } from '../support/redis';
import { RedisServer } from '../support/redis-server';

/*
 * A Redis that answers with an error is up: out of memory (maxmemory with noeviction) or read-only (a
 * replica), it still serves reads. Its refusals of writes fail those writes, say what Redis answered, and
 * leave reads alone: the breaker, meant for a layer that does not answer, stays closed.
 */

const IDS = Array.from({ length: 20 }, (_, i) => `r${i}`);

describe('Redis refusing writes', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /**
   * Writes ever smaller values until Redis refuses even the smallest: then it is full for any write. Each
   * size on a connection of its own, closed after it, so that no client buffer of this fill is left to free.
   */
  async function fillMemory(url: string): Promise<void> {
    let written = 0;
    for (const size of [64 * 1024, 4 * 1024, 256, 16, 16]) {
      const client = await rawClient(url);
      try {
        const chunk = 'x'.repeat(size);
        for (;;) {
          try {
            await client.set(`filler:${written++}`, chunk);
          } catch (error) {
            if (String(error).includes('OOM')) break;
            throw error;
          }
        }
      } finally {
        client.destroy();
      }
    }
  }

  for (const driver of ['node-redis', 'ioredis'] as const) {
    it(`keeps serving L2 hits from a Redis out of memory, and says OOM for the writes it refuses (${driver})`, { timeout: 30_000 }, async () => {
      const redis = await RedisServer.start(undefined, ['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction']);
      cleanups.push(() => redis.stop());
      const writer = await bootFaultApp('oom', redis.url, { l2: { url: redis.url, driver } });
      cleanups.push(() => writer.app.close());
      for (const [i, id] of IDS.entries()) await writer.service.save(sampleProduct(id, i));
      await fillMemory(redis.url);

      const reader = await bootFaultApp('oom-reader', redis.url, { l2: { url: redis.url, driver }, namespace: writer.namespace, shutdownTimeoutMs: 1_000 });
      cleanups.push(() => reader.app.close());
      // Refused writes first: they must not keep the reads below from Redis.
      for (const [i, id] of IDS.entries()) await reader.service.save(sampleProduct(`new-${id}`, i));
      const found = await Promise.all(IDS.map((id) => reader.service.findOne(id)));

      expect(found.map((product) => product?.price)).toEqual(IDS.map((_, i) => i));
      const stats = reader.cache.stats();
      expect(stats.l2.hits).toBe(IDS.length);
      expect(stats.resilience?.breaker).toMatchObject({ state: 'closed', opened: 0 });
      expect(stats.l2.errors).toBeGreaterThanOrEqual(IDS.length);
      // The refused writes are kept for later, and the reads' successes do not replay them into refusals again and again.
      expect(stats.resilience?.replay?.pending).toBe(IDS.length);
      expect(stats.resilience?.replay?.failedAttempts).toBeLessThanOrEqual(1);
      expect(reader.logger.lines.map((line) => line.message).join('\n')).toMatch(/OOM command not allowed/);
    });

    it(`keeps serving L2 hits from a read-only replica, says READONLY for its refusals, and closes at once (${driver})`, { timeout: 30_000 }, async () => {
      // No wait before the first sync of the replica (5 s by default).
      const primary = await RedisServer.start(undefined, ['--repl-diskless-sync-delay', '0']);
      cleanups.push(() => primary.stop());
      const replica = await RedisServer.start(undefined, ['--replicaof', '127.0.0.1', String(primary.port)]);
      cleanups.push(() => replica.stop());
      const writer = await bootFaultApp('readonly', primary.url, { l2: { url: primary.url, driver } });
      cleanups.push(() => writer.app.close());
      for (const [i, id] of IDS.entries()) await writer.service.save(sampleProduct(id, i));
      const replicated = await rawClient(replica.url);
      cleanups.push(async () => replicated.destroy());
      expect(await eventually(async () => (await replicated.dbSize()) >= IDS.length, 10_000)).toBe(true);

      const reader = await bootFaultApp('readonly-reader', replica.url, { l2: { url: replica.url, driver }, namespace: writer.namespace, shutdownTimeoutMs: 5_000 });
      for (const [i, id] of IDS.entries()) await reader.service.save(sampleProduct(`new-${id}`, i));
      const found = await Promise.all(IDS.map((id) => reader.service.findOne(id)));

      expect(found.map((product: Product | undefined) => product?.price)).toEqual(IDS.map((_, i) => i));
      expect(reader.cache.stats().l2.hits).toBe(IDS.length);
      expect(reader.cache.stats().resilience?.breaker).toMatchObject({ state: 'closed', opened: 0 });

      // The kept writes cannot be written to a replica however long shutdown waits: it gives up on them at once, saying why.
      const started = performance.now();
      await reader.app.close();
      expect(performance.now() - started).toBeLessThan(1_500);
      expect(reader.logger.at('error').join('\n')).toMatch(/READONLY/);
      expect(reader.logger.at('error').join('\n')).not.toMatch(/did not answer/);
    });
  }
});
