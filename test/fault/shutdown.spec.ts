import { afterEach, describe, expect, it } from 'vitest';
import { RaceWritePolicy } from '../../lib';
import { type Product, sampleProduct } from '../fixtures/products';
import { bootFaultApp, envelopeValue, rawClient } from '../support/fault-app';
import { eventually, sleep } from '../support/redis';
import { RedisServer } from '../support/redis-server';
import { TcpProxy } from '../support/tcp-proxy';

/*
 * app.close() drains what the cache accepted: offloaded writes first, then the L2 writes kept while Redis
 * was failing, within shutdownTimeoutMs. What cannot be written in time is counted and logged, not lost
 * silently.
 */

const IDS = Array.from({ length: 12 }, (_, i) => `s${i}`);

describe('shutdown with writes L2 has not taken yet', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function storedPrices(url: string, namespace: string): Promise<(number | undefined)[]> {
    const client = await rawClient(url);
    try {
      return await Promise.all(IDS.map(async (id) => (envelopeValue(await client.get(`${namespace}:product:${id}`)) as Product | undefined)?.price));
    } finally {
      client.destroy();
    }
  }

  it('writes the kept writes on app.close() once Redis is back, even while the breaker rests', { timeout: 30_000 }, async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const subject = await bootFaultApp('shutdown-replay', redis.url, { resilience: { breaker: { failureThreshold: 2, cooldownMs: 60_000 } } });
    await redis.kill();
    for (const [i, id] of IDS.entries()) await subject.service.save(sampleProduct(id, i));
    // The first writes were sent and wait for their answer (the client's queue holds them until it reconnects);
    // once the breaker opened, the others were kept without being sent.
    const resilience = subject.cache.stats().resilience;
    expect((resilience?.replay?.pending ?? 0) + (resilience?.unanswered ?? 0)).toBe(IDS.length);
    expect(resilience?.unanswered).toBeGreaterThan(0);
    await redis.restart();

    await subject.app.close();

    expect(await storedPrices(redis.url, subject.namespace)).toEqual(IDS.map((_, i) => i));
    expect(subject.cache.stats().resilience).toMatchObject({ unanswered: 0, replay: { pending: 0, abandoned: 0 } });
    expect(subject.logger.at('error')).toEqual([]);
  });

  it('waits for offloaded race losers stuck on a paused Redis, and writes them when it resumes', { timeout: 30_000 }, async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const subject = await bootFaultApp('shutdown-paused', redis.url, { writePolicy: new RaceWritePolicy(), shutdownTimeoutMs: 5_000 });
    redis.pause();
    cleanups.push(async () => redis.resume());
    // Each call returns as soon as L1 has the value; its L2 write is left hanging on the offload service.
    for (const [i, id] of IDS.entries()) expect(await subject.service.save(sampleProduct(id, 100 + i))).toEqual(sampleProduct(id, 100 + i));

    const closing = subject.app.close();
    await sleep(400);
    redis.resume();
    await closing;

    expect(await storedPrices(redis.url, subject.namespace)).toEqual(IDS.map((_, i) => 100 + i));
    expect(subject.logger.at('error')).toEqual([]);
  });

  it('gives up within shutdownTimeoutMs when Redis stays down, and counts and logs what it could not write', { timeout: 30_000 }, async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const subject = await bootFaultApp('shutdown-down', redis.url, { shutdownTimeoutMs: 1_000 });
    await redis.kill();
    for (const [i, id] of IDS.entries()) await subject.service.save(sampleProduct(id, i));

    const started = performance.now();
    await subject.app.close();
    const elapsed = performance.now() - started;

    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(2_500);
    // Kept writes are abandoned; those sent before the breaker opened may still be unanswered, and are said so.
    const errors = subject.logger.at('error');
    expect(errors).toHaveLength(1);
    const said = /^Shutdown could not write (\d+) kept L2 write\(s\) within \d+ ms because L2 did not answer(?:, and (\d+) write\(s\) sent earlier were still unanswered)?/.exec(errors[0]);
    expect(said).not.toBeNull();
    expect(Number(said?.[1]) + Number(said?.[2] ?? 0)).toBe(IDS.length);
    // Those fail later, when their own time limit ends, and are counted as abandoned too.
    expect(await eventually(() => subject.cache.stats().resilience?.replay?.abandoned === IDS.length, 5_000)).toBe(true);
  });

  for (const driver of ['node-redis', 'ioredis'] as const) {
    it(`returns from app.close() at once when nothing is left to write, while Redis hangs (${driver})`, { timeout: 30_000 }, async () => {
      const redis = await RedisServer.start();
      cleanups.push(() => redis.stop());
      const subject = await bootFaultApp('shutdown-idle-hang', redis.url, { l2: { url: redis.url, driver }, shutdownTimeoutMs: 5_000 });
      await subject.service.save(sampleProduct('idle', 1));
      // Long enough for the write's announcement to other instances to have gone out: nothing is pending.
      await sleep(50);
      redis.pause();
      cleanups.push(async () => redis.resume());

      const started = performance.now();
      await subject.app.close();

      // Nothing waits for the hung Redis: not the invalidation connection, not a command, not the shutdown bound.
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(subject.logger.at('error')).toEqual([]);
    });

    it(`bounds what app.close() waits for a hung Redis by the command timeout: the last write's announcement (${driver})`, { timeout: 30_000 }, async () => {
      const redis = await RedisServer.start();
      cleanups.push(() => redis.stop());
      const subject = await bootFaultApp('shutdown-announce-hang', redis.url, { l2: { url: redis.url, driver, commandTimeoutMs: 200 }, shutdownTimeoutMs: 5_000 });
      await subject.service.save(sampleProduct('announced', 1));
      // At once: the announcement of the write to other instances is still to be published when Redis hangs.
      redis.pause();
      cleanups.push(async () => redis.resume());

      const started = performance.now();
      await subject.app.close();

      expect(performance.now() - started).toBeLessThan(1_000);
      // The announcement that could not go out is said, with what the other instances' copies then risk.
      expect(subject.logger.at('warn')).toEqual([expect.stringMatching(/Publishing the invalidation of 1 key\(s\).*PUBLISH did not answer within 200 ms.*l1MaxTtl/)]);
    });
  }

  it('replays hundreds of kept writes within shutdownTimeoutMs through a Redis that answers each command 150 ms late', { timeout: 30_000 }, async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const proxy = await TcpProxy.start(redis.port);
    cleanups.push(() => proxy.close());
    const subject = await bootFaultApp('shutdown-slow', proxy.url, {
      l2: { url: proxy.url, commandTimeoutMs: 1_000 },
      shutdownTimeoutMs: 5_000,
      resilience: { breaker: { failureThreshold: 1, cooldownMs: 60_000 } },
    });
    const ids = Array.from({ length: 600 }, (_, i) => `slow${i}`);
    proxy.blackhole();
    // The first write times out and opens the breaker; every later one is kept without being sent.
    for (const [i, id] of ids.entries()) await subject.service.save(sampleProduct(id, i));
    const resilience = subject.cache.stats().resilience;
    expect((resilience?.replay?.pending ?? 0) + (resilience?.unanswered ?? 0)).toBe(ids.length);
    proxy.delayReplies(150);
    proxy.heal();

    await subject.app.close();

    expect(subject.cache.stats().resilience).toMatchObject({ unanswered: 0, replay: { pending: 0, abandoned: 0 } });
    const client = await rawClient(redis.url);
    try {
      const stored = await Promise.all(ids.map(async (id) => (envelopeValue(await client.get(`${subject.namespace}:product:${id}`)) as Product | undefined)?.price));
      expect(stored).toEqual(ids.map((_, i) => i));
    } finally {
      client.destroy();
    }
  });
});
