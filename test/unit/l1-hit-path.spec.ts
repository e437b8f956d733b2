import { describe, expect, it, vi } from 'vitest';
import {
  type CacheEntry,
  type CacheStore,
  type LayerRead,
  type Offload,
  LayeredCache,
  MemoryStore,
  OffloadService,
  ParallelReadPolicy,
  type ReadHit,
  SequentialReadPolicy,
} from '../../lib';
import { MAX_KEY_LENGTH, NamespacedKeys, REMEMBERED_KEYS, boundKeyLength } from '../../lib/core/cache-key';

/** Changes how reads work, and says so: L1 hits must then go through it. */
class CountingSequentialPolicy extends SequentialReadPolicy {
  override readonly servesL1HitsAlone = false;
  calls = 0;
  override execute<T>(key: string, readL1: LayerRead<T>, readL2: LayerRead<T>, offload: Offload): Promise<ReadHit<T> | undefined> {
    this.calls++;
    return super.execute(key, readL1, readL2, offload);
  }
}

/** An in-process store without synchronous reads: its hits take the regular path. */
class CountingStore implements CacheStore {
  private readonly inner = new MemoryStore();
  reads = 0;
  get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    this.reads++;
    return this.inner.get<T>(key);
  }
  set<T>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined): Promise<void> {
    return this.inner.set(key, entry, ttlMs);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
}

function newCache(overrides: Partial<ConstructorParameters<typeof LayeredCache>[0]> = {}) {
  const l1 = new MemoryStore();
  const l2 = new MemoryStore();
  const cache = new LayeredCache({ l1, l2, offload: new OffloadService(), namespace: 'ns', ...overrides });
  return { cache, l1, l2 };
}

describe('L1 hits', () => {
  it('are counted once, whether read with get or getOrSet', async () => {
    const { cache } = newCache();
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v');
    expect(await cache.getOrSet('k', () => 'other')).toBe('v');
    expect(cache.stats().l1).toMatchObject({ hits: 2, misses: 0 });
    expect(cache.stats().l2).toMatchObject({ hits: 0, misses: 0 });
  });

  it('go through a read policy that declares it does not serve L1 hits alone', async () => {
    const readPolicy = new CountingSequentialPolicy();
    const { cache } = newCache({ readPolicy });
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v');
    expect(await cache.getOrSet('k', () => 'other')).toBe('v');
    expect(readPolicy.calls).toBe(2);
  });

  it('go through the asynchronous get of an L1 store without synchronous reads', async () => {
    const l1 = new CountingStore();
    const { cache } = newCache({ l1 });
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v');
    expect(l1.reads).toBe(1);
  });

  it('follow a per-call read policy that also reads L2', async () => {
    const { cache, l1, l2 } = newCache();
    await cache.set('k', 'v');
    await l1.set('ns:k', { value: 'short-lived', createdAt: Date.now(), expiresAt: Date.now() + 1_000 }, 1_000);
    await l2.set('ns:k', { value: 'long-lived', createdAt: Date.now(), expiresAt: Date.now() + 60_000 }, 60_000);
    expect(await cache.get('k')).toBe('short-lived');
    expect(await cache.get('k', { readPolicy: new ParallelReadPolicy() })).toBe('long-lived');
  });

  it('reject an invalid per-call time limit as the regular path does', async () => {
    const { cache } = newCache();
    await cache.set('k', 'v');
    await expect(cache.get('k', { timeoutMs: -1 })).rejects.toThrow();
    expect(await cache.get('k', { timeoutMs: 50 })).toBe('v');
  });

  it('return copies when L1 clones', async () => {
    const { cache } = newCache({ l1: new MemoryStore({ clone: true }) });
    const value = { n: 1 };
    await cache.set('k', value);
    const first = await cache.get<{ n: number }>('k');
    expect(first).toEqual(value);
    expect(first).not.toBe(value);
    expect(await cache.get('k')).not.toBe(first);
  });
});

/** Answers L1 misses from its own source instead of L2, and says so. */
class FallbackAfterL1MissPolicy extends SequentialReadPolicy {
  override readonly answersL1MissesWithL2 = false;
  override async execute<T>(key: string, readL1: LayerRead<T>): Promise<ReadHit<T> | undefined> {
    const entry = await readL1(key);
    return entry === undefined ? { entry: { value: 'fallback' as T, createdAt: 0, expiresAt: null }, source: 'l1' } : { entry, source: 'l1' };
  }
}

describe('L1 misses', () => {
  it('are answered by L2 without the policy when the policy declares that L2 answers them', async () => {
    const readPolicy = new SequentialReadPolicy();
    const execute = vi.spyOn(readPolicy, 'execute');
    const { cache, l2 } = newCache({ readPolicy });
    await l2.set('ns:k', { value: 'from l2', createdAt: Date.now(), expiresAt: null }, undefined);
    expect(await cache.get('k')).toBe('from l2');
    expect(await cache.get('missing')).toBeUndefined();
    expect(execute).not.toHaveBeenCalled();
    expect(cache.stats().l1).toMatchObject({ hits: 0, misses: 2 });
    expect(cache.stats().l2).toMatchObject({ hits: 1, misses: 1 });
  });

  it('go through a read policy that declares it answers them otherwise', async () => {
    const { cache, l2 } = newCache({ readPolicy: new FallbackAfterL1MissPolicy() });
    await l2.set('ns:k', { value: 'from l2', createdAt: Date.now(), expiresAt: null }, undefined);
    expect(await cache.get('k')).toBe('fallback');
    expect(await cache.getOrSet('other', () => 'factory')).toBe('fallback');
  });
});

describe('NamespacedKeys', () => {
  it('gives the namespaced, length-bounded key, the same on every call', () => {
    const keys = new NamespacedKeys('shop');
    const long = 'x'.repeat(MAX_KEY_LENGTH + 10);
    expect(keys.fullKey('product:1')).toBe('shop:product:1');
    expect(keys.fullKey('product:1')).toBe('shop:product:1');
    expect(keys.fullKey(long)).toBe(`shop:${boundKeyLength(long)}`);
    expect(new NamespacedKeys('').fullKey('product:1')).toBe('product:1');
  });

  it('keeps giving correct keys after it forgets the ones it remembered', () => {
    const keys = new NamespacedKeys('ns');
    for (let index = 0; index <= REMEMBERED_KEYS * 2; index++) {
      const key = `k${index}`;
      keys.remember(key, keys.fullKey(key));
      expect(keys.fullKey(key)).toBe(`ns:${key}`);
    }
    expect(keys.fullKey('k0')).toBe('ns:k0');
  });
});
