import { afterEach, describe, expect, it } from 'vitest';
import { CacheLayerError, CacheTimeoutError, LayeredCache, type LayeredCacheModuleOptions, MemoryStore, OffloadService, RedisStore } from '../../lib';
import { type Product, sampleProduct } from '../fixtures/products';
import { bootFaultApp, envelopeValue, type FaultApp, rawClient } from '../support/fault-app';
import { eventually } from '../support/redis';
import { RedisServer } from '../support/redis-server';
import { TcpProxy } from '../support/tcp-proxy';

/*
 * Redis stops answering without closing its connections: the server is paused (SIGSTOP), or a proxy in
 * front of it black-holes the traffic. Calls must give up on L2 at the time limit, the breaker must then
 * take L2 out so that calls stop waiting at all, and once Redis answers again what was written meanwhile
 * must reach it.
 */

const TIMEOUT_MS = 150;
const SLACK_MS = 300;
const OPTIONS: LayeredCacheModuleOptions = { resilience: { timeoutMs: TIMEOUT_MS, breaker: { failureThreshold: 3, cooldownMs: 400 } } };

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

/** Drives the application while L2 does not answer, then lets L2 answer again and checks it converged. */
async function hangAndRecover(subject: FaultApp, redisUrl: string, stopAnswering: () => void, answerAgain: () => void): Promise<void> {
  const { service, cache, namespace } = subject;
  for (let i = 0; i < 5; i++) service.repository.rows.set(`h${i}`, sampleProduct(`h${i}`, i));
  await service.save(sampleProduct('before', 1));

  stopAnswering();
  const durations: number[] = [];
  // The first calls wait for the time limit; each returns the method's result.
  for (let i = 0; i < 3; i++) {
    const { value, ms } = await timed(() => service.findOne(`h${i}`));
    expect(value).toEqual(sampleProduct(`h${i}`, i));
    durations.push(ms);
  }
  expect(cache.stats().resilience?.breaker?.state).toBe('open');
  // With the breaker open, calls do not wait for L2 at all.
  for (let i = 0; i < 20; i++) {
    const product = sampleProduct(`during${i % 5}`, 100 + i);
    const { value, ms } = await timed(() => service.save(product));
    expect(value).toEqual(product);
    expect(ms).toBeLessThan(TIMEOUT_MS); // L2 is not waited for at all
  }
  const { value: missing, ms: missMs } = await timed(() => cache.get('nothing-here'));
  expect(missing).toBeUndefined();
  expect(missMs).toBeLessThan(TIMEOUT_MS);
  for (const ms of durations) expect(ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
  expect(subject.events.filter((e) => e.type === 'circuit').map((e) => (e.type === 'circuit' ? e.state : ''))).toContain('open');
  expect(subject.logger.at('warn').some((m) => /L2 failed 3 time\(s\) in a row.*skipping it for 400 ms/.test(m))).toBe(true);

  answerAgain();
  expect(await eventually(() => cache.stats().resilience?.breaker?.state === 'closed' && cache.stats().resilience?.replay?.pending === 0, 10_000, 50)).toBe(true);
  const client = await rawClient(redisUrl);
  try {
    for (let i = 0; i < 5; i++) {
      const stored = envelopeValue(await client.get(`${namespace}:product:during${i}`)) as Product | undefined;
      expect(stored?.price).toBe(115 + i); // the newest of the four writes of each key
    }
    expect((envelopeValue(await client.get(`${namespace}:product:before`)) as Product).price).toBe(1);
  } finally {
    client.destroy();
  }
  expect(subject.logger.at('log').some((m) => m.startsWith('L2 answers again'))).toBe(true);
}

describe('Redis that hangs', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('paused with SIGSTOP beyond the time limit, then resumed', { timeout: 30_000 }, async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const subject = await bootFaultApp('paused', redis.url, OPTIONS);
    cleanups.push(() => subject.app.close());
    await hangAndRecover(subject, redis.url, () => redis.pause(), () => redis.resume());
  });

  it('black-holed by the network (a proxy that stops forwarding), then healed', { timeout: 30_000 }, async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const proxy = await TcpProxy.start(redis.port);
    cleanups.push(() => proxy.close());
    const subject = await bootFaultApp('black-holed', proxy.url, OPTIONS);
    cleanups.push(() => subject.app.close());
    await hangAndRecover(subject, redis.url, () => proxy.blackhole(), () => proxy.heal());
  });

  it('LayeredCache.get rejects as documented (timeout after an L1 miss) until the breaker opens', { timeout: 30_000 }, async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const subject = await bootFaultApp('paused-api', redis.url, OPTIONS);
    cleanups.push(() => subject.app.close());
    redis.pause();
    cleanups.push(async () => redis.resume());
    const { value: error, ms } = await timed(() => subject.cache.get('k').catch((e: unknown) => e));
    expect(error).toBeInstanceOf(CacheLayerError);
    expect((error as CacheLayerError).cause).toBeInstanceOf(CacheTimeoutError);
    expect(ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    expect(await subject.cache.getOrSet('k', () => 'factory')).toBe('factory');
  });

  it('waits the module time limit for L2, not cut short by the command timeout of the RedisStore it creates', { timeout: 30_000 }, async () => {
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const subject = await bootFaultApp('command-timeout', redis.url, { resilience: { timeoutMs: 450 } });
    cleanups.push(() => subject.app.close());
    redis.pause();
    cleanups.push(async () => redis.resume());
    const { value: error, ms } = await timed(() => subject.cache.get('k').catch((e: unknown) => e));
    expect((error as CacheLayerError).cause).toBeInstanceOf(CacheTimeoutError);
    expect((error as Error).message).toMatch(/within 450 ms/);
    expect(ms).toBeGreaterThanOrEqual(440); // not cut short by RedisStore's own default of 200 ms
  });
});

describe('writes of one key while Redis hangs', () => {
  it('each call answers within its time limit, also a write that waits behind an earlier write of the key', { timeout: 30_000 }, async () => {
    const server = await RedisServer.start();
    const cache = new LayeredCache({
      l1: new MemoryStore(),
      l2: new RedisStore({ url: server.url, commandTimeoutMs: TIMEOUT_MS }),
      offload: new OffloadService(),
      namespace: 'hang-same-key',
      resilience: { timeoutMs: TIMEOUT_MS, breaker: false },
    });
    try {
      await cache.set('k', 'warm');
      server.pause();
      const started = performance.now();
      const settled = await Promise.all(['a', 'b', 'c'].map((value) => cache.set('k', value).then(() => performance.now() - started)));
      // Without the bound, the second write would wait for the first to time out before its own call began.
      for (const ms of settled) expect(ms).toBeLessThan(TIMEOUT_MS * 1.5);
      expect(await cache.get('k')).toBe('c');
      server.resume();
      expect(await eventually(async () => (await cache.get('k')) === 'c')).toBe(true);
    } finally {
      server.resume();
      await cache.store.close();
      await server.stop();
    }
  });
});
