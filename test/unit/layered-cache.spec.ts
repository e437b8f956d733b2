import { describe, expect, it, vi } from 'vitest';
import {
  BothLayersFailedError,
  CacheLayerError,
  type CacheStore,
  createCacheEntry,
  LayeredCache,
  LayeredCacheError,
  LayeredStore,
  MemoryStore,
  OffloadService,
  RefillPolicy,
  SequentialWritePolicy,
} from '../../lib';
import { type Deferred, deferred } from '../support/deferred';
import { eventually } from '../support/redis';
import { DelayedStore, FailingStore } from '../support/test-stores';
import { newMemoryCache } from '../support/memory-cache';

const newCache = newMemoryCache;

describe('LayeredCache writes no caller waits for', () => {
  it('a background put writes an in-process L1 before it returns and finishes L2 in a task that drain waits for', async () => {
    const l2 = new DelayedStore(new MemoryStore(), { set: 20 });
    const { cache, l1, offload } = newCache({ l2 });
    for (let i = 0; i < 5; i++) await cache.put(`k${i}`, i, { background: true });
    expect(l1.get('ns:k4')?.value).toBe(4);
    expect(await l2.inner.get('ns:k0')).toBeUndefined();
    await offload.drain();
    for (let i = 0; i < 5; i++) expect((await l2.inner.get(`ns:k${i}`))?.value).toBe(i);
    expect(cache.stats().l2.writes).toBe(5);
  });

  it('still writes L2 when the offload service refuses to track the write', async () => {
    const offload = new OffloadService({ concurrency: 1, maxQueued: 1 });
    const l2 = new DelayedStore(new MemoryStore(), { set: 5 });
    const { cache } = newCache({ offload, l2 });
    const release = deferred();
    offload.run('blocker', () => release.promise);
    offload.run('queued', () => release.promise);
    await cache.put('k', 'v', { background: true });
    expect(offload.counts().rejected).toBe(1);
    expect(await eventually(async () => (await l2.inner.get('ns:k'))?.value === 'v')).toBe(true);
    release.resolve();
  });

  it('a put with its own time limit still reaches L2', async () => {
    const { cache, l2, offload } = newCache();
    await cache.put('k', 'v', { background: true, timeoutMs: 50 });
    await offload.drain();
    expect((await l2.get('ns:k'))?.value).toBe('v');
  });
});

describe('LayeredCache', () => {
  it('prefixes keys with the namespace and writes both layers', async () => {
    const { cache, l1, l2 } = newCache();
    await cache.set('k', 'v');
    expect((await l1.get('ns:k'))?.value).toBe('v');
    expect((await l2.get('ns:k'))?.value).toBe('v');
    expect(await cache.get('k')).toBe('v');
  });

  it('refills L1 after an L2 hit with the remaining TTL, without making the caller wait', async () => {
    const { cache, l1, l2, offload } = newCache();
    const entry = createCacheEntry('v', 5_000, Date.now() - 4_000);
    await l2.set('ns:k', entry, 1_000);
    expect(await cache.get('k')).toBe('v');
    await offload.drain();
    const refilled = await l1.get('ns:k');
    expect(refilled?.expiresAt).toBe(entry.expiresAt);
    expect(cache.stats().refills).toBe(1);
  });

  it('does not refill when the refill policy is never', async () => {
    const { cache, l1, l2, offload } = newCache({ refillPolicy: RefillPolicy.Never });
    await l2.set('ns:k', createCacheEntry('v', 5_000), 5_000);
    expect(await cache.get('k')).toBe('v');
    await offload.drain();
    expect(await l1.get('ns:k')).toBeUndefined();
  });

  it('rejects undefined values with a message saying what to do instead', async () => {
    const { cache } = newCache();
    await expect(cache.set('k', undefined)).rejects.toThrow(/Cannot cache undefined under "k".*delete\("k"\)/);
  });

  it('getOrSet calls the factory once for concurrent callers and caches its value', async () => {
    const { cache } = newCache();
    let calls = 0;
    const factory = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      return { n: calls };
    };
    const results = await Promise.all(Array.from({ length: 100 }, () => cache.getOrSet('k', factory)));
    expect(calls).toBe(1);
    expect(results.every((r) => r.n === 1)).toBe(true);
    expect(await cache.getOrSet('k', factory)).toEqual({ n: 1 });
    expect(calls).toBe(1);
  });

  describe('getOrSet single-flight', () => {
    /** An L2 whose reads the test answers one by one, and whose writes go to a MemoryStore. */
    function heldL2() {
      const stored = new MemoryStore();
      const reads: Deferred<undefined>[] = [];
      const l2: CacheStore = {
        get: () => {
          const read = deferred<undefined>();
          reads.push(read);
          return read.promise;
        },
        set: (key, entry, ttlMs) => stored.set(key, entry, ttlMs),
        delete: (key) => stored.delete(key),
      };
      return { l2, reads };
    }

    it('concurrent calls that miss an in-process L1 share one L2 read and one factory call', async () => {
      const { l2, reads } = heldL2();
      const { cache } = newCache({ l2 });
      const factory = vi.fn(async () => 'value');
      const first = cache.getOrSet('k', factory);
      const late = cache.getOrSet('k', factory);
      expect(reads).toHaveLength(1);
      reads[0].resolve(undefined);
      expect(await Promise.all([first, late])).toEqual(['value', 'value']);
      expect(factory).toHaveBeenCalledTimes(1);
    });

    it('a call that arrives while the factory runs waits for its value', async () => {
      const { l2, reads } = heldL2();
      const { cache } = newCache({ l2 });
      const produced = deferred<string>();
      const factory = vi.fn(() => produced.promise);
      const first = cache.getOrSet('k', factory);
      reads[0].resolve(undefined);
      await new Promise((resolve) => setImmediate(resolve));
      const second = cache.getOrSet('k', factory);
      produced.resolve('value');
      expect(await Promise.all([first, second])).toEqual(['value', 'value']);
      expect(factory).toHaveBeenCalledTimes(1);
    });

    it('with an L1 that cannot be read synchronously, concurrent calls share one read and one factory call', async () => {
      const { l2, reads } = heldL2();
      const l1: CacheStore = new DelayedStore(new MemoryStore(), {});
      const { cache } = newCache({ l1, l2 });
      const factory = vi.fn(async () => 'value');
      const calls = Array.from({ length: 10 }, () => cache.getOrSet('k', factory));
      await eventually(async () => reads.length > 0);
      reads[0].resolve(undefined);
      expect(await Promise.all(calls)).toEqual(Array.from({ length: 10 }, () => 'value'));
      expect(reads).toHaveLength(1);
      expect(factory).toHaveBeenCalledTimes(1);
    });

    it('lets go of a key whose factory does not settle within hardTimeoutMs: the next call loads on its own', async () => {
      const { cache } = newCache();
      const errors: unknown[] = [];
      cache.events$.subscribe((event) => event.type === 'error' && errors.push(event.error));
      const never = new Promise<string>(() => undefined);
      const stuck = cache.getOrSet('k', () => never, { hardTimeoutMs: 30 });
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(await cache.getOrSet('k', async () => 'fresh')).toBe('fresh');
      expect(await cache.get('k')).toBe('fresh');
      expect(errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/did not settle within 30 ms \(hardTimeoutMs\)/) })]);
      void stuck;
    });

    it('does not cache a value that came after its hardTimeoutMs', async () => {
      const { cache } = newCache();
      const late = deferred<string>();
      const call = cache.getOrSet('k', () => late.promise, { hardTimeoutMs: 20 });
      await new Promise((resolve) => setTimeout(resolve, 40));
      late.resolve('late');
      expect(await call).toBe('late');
      expect(await cache.get('k')).toBeUndefined();
    });

    it.each([
      ['an in-process L1', () => new MemoryStore()],
      ['an L1 read asynchronously', () => new DelayedStore(new MemoryStore(), {})],
    ])('with %s, a factory that throws at once rejects the call and the next call runs the factory again', async (_label, l1) => {
      const { cache } = newCache({ l1: l1() });
      const broken = new Error('factory threw');
      await expect(
        cache.getOrSet('k', () => {
          throw broken;
        }),
      ).rejects.toBe(broken);
      expect(await cache.getOrSet('k', () => 'second')).toBe('second');
    });
  });

  it('wrap is getOrSet', async () => {
    const { cache } = newCache();
    expect(await cache.wrap('w', () => 'computed')).toBe('computed');
    expect(await cache.wrap('w', () => 'again')).toBe('computed');
  });

  it('getOrSet returns the factory value when both layers fail, and rejects only with the factory error', async () => {
    const boom = new Error('down');
    const { cache } = newCache({ l1: new FailingStore(boom), l2: new FailingStore(boom) });
    expect(await cache.getOrSet('k', () => 42)).toBe(42);
    const factoryError = new Error('factory');
    await expect(cache.getOrSet('k', () => Promise.reject(factoryError))).rejects.toBe(factoryError);
    expect(cache.stats().errors).toBeGreaterThanOrEqual(4);
  });

  it('set rejects with BothLayersFailedError naming both causes when both layers fail', async () => {
    const { cache } = newCache({ l1: new FailingStore(new Error('l1 is full')), l2: new FailingStore(new Error('l2 is down')) });
    const error = await cache.set('k', 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BothLayersFailedError);
    const both = error as BothLayersFailedError;
    expect(both.message).toMatch(/L1: .*l1 is full.*L2: .*l2 is down/);
    expect(both.l1Error).toBeInstanceOf(CacheLayerError);
    expect((both.l1Error as CacheLayerError).layer).toBe('l1');
    expect((both.l2Error as CacheLayerError).layer).toBe('l2');
  });

  it('honours a per-call write policy', async () => {
    const l1 = new FailingStore(new Error('l1 down'));
    const l2 = new MemoryStore();
    const { cache } = newCache({ l1, l2 });
    await expect(cache.set('k', 1)).resolves.toBeUndefined(); // default policy tolerates one layer
    await expect(cache.set('k', 1, { writePolicy: new SequentialWritePolicy() })).rejects.toBeInstanceOf(CacheLayerError);
  });

  it('deletes from both layers; one failure is reported, both reject', async () => {
    const { cache, l2 } = newCache({ l1: new FailingStore(new Error('l1 down')) });
    await l2.set('ns:k', createCacheEntry(1, 0), undefined);
    await expect(cache.delete('k')).resolves.toBeUndefined();
    expect(await l2.get('ns:k')).toBeUndefined();
    const both = newCache({ l1: new FailingStore(new Error('a')), l2: new FailingStore(new Error('b')) });
    await expect(both.cache.delete('k')).rejects.toBeInstanceOf(BothLayersFailedError);
  });

  it('clears one namespace only', async () => {
    const { cache, l1, l2 } = newCache();
    await cache.set('a', 1);
    await l2.set('other:a', createCacheEntry(1, 0), undefined);
    await cache.clear();
    expect(await cache.get('a')).toBeUndefined();
    expect(await l2.get('other:a')).toBeDefined();
    expect(l1.size).toBe(0);
  });

  it('runs L1 only when there is no L2', async () => {
    const { cache, l1 } = newCache({ l2: null });
    await cache.set('k', 1);
    expect((await l1.get('ns:k'))?.value).toBe(1);
    expect(await cache.get('k')).toBe(1);
  });

  it('rejects an invalid ttl with a clear error', async () => {
    const { cache } = newCache();
    await expect(cache.set('k', 1, { ttl: -1 })).rejects.toThrow(LayeredCacheError);
    expect(() => newCache({ ttl: Number.NaN })).toThrow(/ttl is a number of milliseconds from 0 to/);
  });

  it('composes three layers: a LayeredStore is the L2 of another cache', async () => {
    const offload = new OffloadService();
    const l2 = new MemoryStore();
    const l3 = new MemoryStore();
    const inner = new LayeredStore({ l1: l2, l2: l3, offload });
    const l1 = new MemoryStore();
    const cache = new LayeredCache({ l1, l2: inner, offload });

    await cache.set('k', 'v');
    expect((await l1.get('k'))?.value).toBe('v');
    expect((await l2.get('k'))?.value).toBe('v');
    expect((await l3.get('k'))?.value).toBe('v');

    await l1.clear();
    await l2.clear();
    expect(await cache.get('k')).toBe('v'); // served by L3
    await offload.drain();
    expect((await l2.get('k'))?.value).toBe('v'); // the inner composition refilled its L1
    expect((await l1.get('k'))?.value).toBe('v'); // the outer one refilled its L1
  });
});
