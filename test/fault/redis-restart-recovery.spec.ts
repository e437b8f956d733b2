import { afterEach, describe, expect, it } from 'vitest';
import { sampleProduct } from '../fixtures/products';
import { bootFaultApp } from '../support/fault-app';
import { sleep } from '../support/redis';
import { RedisServer } from '../support/redis-server';

/*
 * After Redis restarts, the cache uses L2 again as soon as its client has reconnected, not a breaker
 * cool-down later: the cool-down is for a layer that cannot answer, and a connection that is ready again
 * says it can.
 */

const COOLDOWN_MS = 5_000;

describe('recovery after a Redis restart', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  for (const driver of ['node-redis', 'ioredis'] as const) {
    it(`serves L2 hits again once the client has reconnected, well before the breaker's cool-down ends (${driver})`, { timeout: 30_000 }, async () => {
      const redis = await RedisServer.start();
      cleanups.push(() => redis.stop());
      const reader = await bootFaultApp('restart-reader', redis.url, { l2: { url: redis.url, driver }, resilience: { breaker: { failureThreshold: 2, cooldownMs: COOLDOWN_MS } } });
      cleanups.push(() => reader.app.close());
      await redis.kill();
      // Reads while Redis is down fail, and open the reader's breaker.
      for (let i = 0; i < 5 && reader.cache.stats().resilience?.breaker?.state !== 'open'; i++) await reader.cache.get('product:missing').catch(() => undefined);
      expect(reader.cache.stats().resilience?.breaker?.state).toBe('open');

      await redis.restart();
      const restartedAt = performance.now();
      // Another instance, whose breaker never opened, writes the value into the new Redis.
      const writer = await bootFaultApp('restart-writer', redis.url, { l2: { url: redis.url, driver }, namespace: reader.namespace });
      cleanups.push(() => writer.app.close());
      await writer.service.save(sampleProduct('after-restart', 7));

      let servedAfterMs: number | undefined;
      while (performance.now() - restartedAt < COOLDOWN_MS + 3_000) {
        const found = await reader.cache.get<{ price: number }>('product:after-restart').catch(() => undefined);
        if (found?.price === 7) {
          servedAfterMs = performance.now() - restartedAt;
          break;
        }
        await sleep(20);
      }
      expect(servedAfterMs).toBeDefined();
      // The reconnect takes a few hundred milliseconds; waiting out the cool-down would take 5 s.
      expect(servedAfterMs).toBeLessThan(COOLDOWN_MS / 2);
      expect(reader.cache.stats().resilience?.breaker?.state).toBe('closed');
    });
  }

  it('lets timers run during a tight loop of writes while the breaker is open, so the loop cannot starve retries and time limits', { timeout: 30_000 }, async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const subject = await bootFaultApp('open-breaker-loop', redis.url, { shutdownTimeoutMs: 200, resilience: { breaker: { failureThreshold: 1, cooldownMs: 60_000 } } });
    cleanups.push(() => subject.app.close());
    await redis.kill();
    await subject.cache.set('first', 1).catch(() => undefined);
    expect(subject.cache.stats().resilience?.breaker?.state).toBe('open');

    let timerRanDuringLoop = false;
    let looping = true;
    setTimeout(() => (timerRanDuringLoop = looping), 5);
    const loopStarted = performance.now();
    let writes = 0;
    // Each write lands in L1 and is refused by the open breaker for L2, with no I/O at all.
    while (performance.now() - loopStarted < 300) {
      await subject.cache.set(`loop:${writes % 100}`, writes);
      writes++;
    }
    looping = false;

    expect(writes).toBeGreaterThan(100);
    expect(timerRanDuringLoop).toBe(true);
  });
});
