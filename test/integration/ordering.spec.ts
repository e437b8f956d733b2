import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayeredCache, MemoryStore, OffloadService, RaceLoser, RaceWritePolicy, RedisStore, SequentialWritePolicy, type WritePolicy } from '../../lib';
import { createCacheEntry } from '../../lib/core/cache-entry';
import { decodeStoredText } from '../../lib/core/envelope';
import { deferred } from '../support/deferred';
import { eventually, rawRedisForFile, REDIS_URL, sleep, uniqueNamespace } from '../support/redis';
import { RedisServer } from '../support/redis-server';
import { ChaosStore } from '../../lib/testing';

/**
 * DESIGN section 8 against a real Redis, on one instance: no stale write-back, last write wins, a delete
 * stays deleted, refills never go back in time, whatever order the replies come back in.
 */

const redis = rawRedisForFile();
const namespaces = redis.namespaces;

function newCache(label: string, options: { writePolicy?: WritePolicy; url?: string; timeoutMs?: number } = {}) {
  const namespace = uniqueNamespace(label);
  namespaces.push(namespace);
  const l1 = new MemoryStore();
  const offload = new OffloadService();
  const timeoutMs = options.timeoutMs ?? 1_000;
  const cache = new LayeredCache({
    l1,
    l2: new RedisStore({ url: options.url ?? REDIS_URL, commandTimeoutMs: timeoutMs }),
    offload,
    namespace,
    writePolicy: options.writePolicy,
    resilience: { timeoutMs },
    // One instance: nothing to hear from others, and the tracking echo of its own writes (Redis 7.0 ignores
    // NOLOOP for script writes) would empty the L1 these tests inspect.
    invalidation: false,
  });
  const inRedis = async (key: string): Promise<string | null> => {
    const text = await redis.client().get(`${namespace}:${key}`);
    const entry = text === null ? undefined : decodeStoredText(text);
    return entry === undefined ? null : JSON.stringify(entry.value);
  };
  return { cache, l1, offload, namespace, inRedis, close: () => cache.store.close() };
}

describe('a write issued while getOrSet loads the same key', () => {
  it.each([
    ['a delete', (cache: LayeredCache) => cache.delete('p'), null],
    ['a newer set', (cache: LayeredCache) => cache.set('p', 'new'), '"new"'],
    ['a clear', (cache: LayeredCache) => cache.clear(), null],
  ] as const)('%s wins: the loaded value is returned to its caller but written back to no layer', async (_label, write, expected) => {
    const { cache, l1, namespace, inRedis, close } = newCache('load-overtaken');
    try {
      const loaded = deferred<string>();
      const load = cache.getOrSet('p', () => loaded.promise);
      await eventually(() => cache.stats().l2.misses === 1);
      await write(cache);
      loaded.resolve('old');
      expect(await load).toBe('old');
      await sleep(20);
      expect(await inRedis('p')).toBe(expected);
      expect((await l1.get(`${namespace}:p`))?.value).toBe(expected === null ? undefined : 'new');
    } finally {
      await close();
    }
  });

  it('a caller that arrives after the write does not join the older load', async () => {
    const { cache, close } = newCache('load-not-joined');
    try {
      const loaded = deferred<string>();
      const first = cache.getOrSet('p', () => loaded.promise);
      await eventually(() => cache.stats().l2.misses === 1);
      await cache.set('p', 'new');
      expect(await cache.getOrSet('p', async () => 'factory of the late caller')).toBe('new');
      await cache.delete('p');
      expect(await cache.getOrSet('p', async () => 'fresh')).toBe('fresh');
      loaded.resolve('old');
      expect(await first).toBe('old');
      expect(await cache.get('p')).toBe('fresh');
    } finally {
      await close();
    }
  });
});

describe.each([
  ['RaceWritePolicy (offload)', () => new RaceWritePolicy(RaceLoser.Offload)],
  ['RaceWritePolicy (drop)', () => new RaceWritePolicy(RaceLoser.Drop)],
  ['SequentialWritePolicy', () => new SequentialWritePolicy()],
  ['the default policy', () => undefined],
])('with %s, the last operation on a key wins in Redis', (_label, policy) => {
  it('await set, then await delete: the key is gone', async () => {
    const { cache, offload, inRedis, close } = newCache('set-then-delete', { writePolicy: policy() });
    try {
      await cache.set('k', 'v');
      await cache.delete('k');
      await offload.drain();
      await sleep(20);
      expect(await inRedis('k')).toBeNull();
      expect(await cache.get('k')).toBeUndefined();
    } finally {
      await close();
    }
  });

  it.each([
    ['delete', (cache: LayeredCache) => cache.delete('k'), null],
    ['clear', (cache: LayeredCache) => cache.clear(), null],
    ['set', (cache: LayeredCache) => cache.set('k', 'later'), '"later"'],
  ] as const)('a background put followed by a %s: the later operation wins', async (_name, later, expected) => {
    const { cache, offload, inRedis, close } = newCache('background-then', { writePolicy: policy() });
    try {
      for (let round = 0; round < 20; round++) {
        await cache.put('k', `put ${round}`, { background: true });
        await later(cache);
        await offload.drain();
        // A dropped race loser may still be on its way to Redis when its call returns (on a loaded machine it
        // may even time out and be replayed a retry delay later): the later operation must be what Redis holds
        // once the writes in flight have landed, and stay so.
        const landed = await eventually(async () => (await inRedis('k')) === expected, 5_000);
        expect(landed, `round ${round}: Redis holds ${await inRedis('k')}; resilience ${JSON.stringify(cache.stats().resilience)}`).toBe(true);
        await sleep(5);
        expect(await inRedis('k')).toBe(expected);
      }
    } finally {
      await close();
    }
  });
});

describe('an L2 reply that comes after a newer local write (Redis paused with SIGSTOP)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  it.each([
    ['set', (cache: LayeredCache) => cache.set('k', 'new'), 'new'],
    ['delete', (cache: LayeredCache) => cache.delete('k'), undefined],
  ] as const)('does not refill L1 with the value a local %s replaced', async (_name, write, expected) => {
    const { cache, l1, namespace, close } = newCache('refill-back-in-time', { url: server.url, timeoutMs: 2_000 });
    const direct = new RedisStore({ url: server.url });
    try {
      await direct.set(`${namespace}:k`, createCacheEntry('old', 60_000), 60_000);
      expect(await direct.get(`${namespace}:k`)).toBeDefined();
      server.pause();
      const read = cache.get('k');
      await sleep(10);
      const written = write(cache);
      await sleep(100);
      server.resume();
      expect(await read).toBe('old');
      await written;
      expect((await l1.get(`${namespace}:k`))?.value).toBe(expected);
      expect(await cache.get('k')).toBe(expected);
    } finally {
      server.resume();
      await direct.close();
      await close();
    }
  });
});

describe('a clear and the L2 writes kept for replay (Redis behind a ChaosStore)', () => {
  function newGuardedCache(label: string) {
    const namespace = uniqueNamespace(label);
    namespaces.push(namespace);
    const chaos = new ChaosStore(new RedisStore({ url: REDIS_URL }), { operations: ['set'] });
    const cache = new LayeredCache({
      l1: new MemoryStore(),
      l2: chaos,
      offload: new OffloadService(),
      namespace,
      // No replay on its own: the test replays with shutdown, after the clear.
      resilience: { timeoutMs: 200, breaker: false, replay: { retryDelayMs: 60_000 } },
      invalidation: false,
    });
    const inRedis = async (key: string): Promise<boolean> => (await redis.client().exists(`${namespace}:${key}`)) === 1;
    return { cache, chaos, inRedis };
  }

  it('a write kept for replay before a clear is not replayed after it', async () => {
    const { cache, chaos, inRedis } = newGuardedCache('clear-kept');
    try {
      chaos.fail(1);
      await cache.set('k', 'before the clear');
      expect(cache.stats().resilience?.replay?.pending).toBe(1);
      chaos.recover();
      await cache.clear();
      await cache.set('after', 'after the clear');
      await cache.store.shutdown(2_000);
      expect(await inRedis('k')).toBe(false);
      expect(await cache.get('k')).toBeUndefined();
      expect(await inRedis('after')).toBe(true);
    } finally {
      await cache.store.close();
    }
  });

  it('a write that outlived its caller and fails after a clear is not kept for replay', async () => {
    const { cache, chaos, inRedis } = newGuardedCache('clear-in-doubt');
    try {
      chaos.hang();
      // L1 takes it; L2 does not answer within the caller's limit, so the write goes on in the background.
      await cache.set('k', 'before the clear');
      await cache.clear();
      chaos.configure({ hang: false, failureRate: 1 });
      expect(await eventually(() => chaos.stats().failures === 1)).toBe(true);
      chaos.recover();
      await cache.store.shutdown(2_000);
      expect(await inRedis('k')).toBe(false);
      expect(await cache.get('k')).toBeUndefined();
    } finally {
      await cache.store.close();
    }
  });
});
