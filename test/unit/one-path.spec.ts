import { describe, expect, it } from 'vitest';
import {
  type CacheEntry,
  type LayerRead,
  type LayerWrite,
  MemoryStore,
  type Offload,
  ParallelReadPolicy,
  type PromiseOrValue,
  RaceLoser,
  RaceWritePolicy,
  type ReadHit,
  SequentialReadPolicy,
  SequentialWritePolicy,
  type WritePolicy,
} from '../../lib';
import { DelayedStore } from '../support/test-stores';
import { newMemoryCache } from '../support/memory-cache';

const newCache = newMemoryCache;

class LoggingReadPolicy extends SequentialReadPolicy {
  readonly seen: string[] = [];
  override execute<T>(key: string, readL1: LayerRead<T>, readL2: LayerRead<T>, offload: Offload): PromiseOrValue<ReadHit<T> | undefined> {
    this.seen.push(key);
    return super.execute(key, readL1, readL2, offload);
  }
}

class AuditedStore extends MemoryStore {
  readonly audit: string[] = [];
  override get<T>(key: string): CacheEntry<T> | undefined {
    this.audit.push(`get ${key}`);
    return super.get<T>(key);
  }
  override set<T>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined): void {
    this.audit.push(`set ${key}`);
    super.set(key, entry, ttlMs);
  }
}

/** Keeps `secret:` keys in process memory only. */
class NoSecretsInL2Policy extends SequentialWritePolicy {
  override execute(key: string, writeL1: LayerWrite, writeL2: LayerWrite, offload: Offload): PromiseOrValue<void> {
    return key.startsWith('ns:secret:') ? writeL1(key) : super.execute(key, writeL1, writeL2, offload);
  }
}

class CountingRaceWritePolicy extends RaceWritePolicy {
  calls = 0;
  override execute(key: string, writeL1: LayerWrite, writeL2: LayerWrite, offload: Offload): PromiseOrValue<void> {
    this.calls++;
    return super.execute(key, writeL1, writeL2, offload);
  }
}

/** The README's example: L2 first, and L1 only once L2 has the value. */
const l2ThenL1: WritePolicy = {
  execute: async (key, writeL1, writeL2) => {
    await writeL2(key);
    await writeL1(key);
  },
};

describe('a read policy that overrides execute', () => {
  it('is called for every read: L1 hits, misses and L2 hits, through get and getOrSet', async () => {
    const readPolicy = new LoggingReadPolicy();
    const { cache, l2 } = newCache({ readPolicy });
    await cache.set('hot', 'v');
    l2.set('ns:shared', { value: 'from l2', createdAt: Date.now(), expiresAt: null }, undefined);
    await cache.get('hot');
    await cache.get('hot');
    await cache.getOrSet('hot', () => 'unused');
    await cache.get('missing');
    expect(await cache.get('shared')).toBe('from l2');
    expect(readPolicy.seen).toEqual(['ns:hot', 'ns:hot', 'ns:hot', 'ns:missing', 'ns:shared']);
  });

  it('decides per call when given as a per-call option', async () => {
    const { cache, l1, l2 } = newCache();
    l1.set('ns:k', { value: 'short-lived', createdAt: Date.now(), expiresAt: Date.now() + 1_000 }, 1_000);
    l2.set('ns:k', { value: 'long-lived', createdAt: Date.now(), expiresAt: Date.now() + 60_000 }, 60_000);
    expect(await cache.get('k')).toBe('short-lived');
    expect(await cache.get('k', { readPolicy: new ParallelReadPolicy() })).toBe('long-lived');
  });
});

describe('a store subclass that overrides get and set', () => {
  it('sees every read and write of its layer, hits and refills included', async () => {
    const l1 = new AuditedStore();
    const l2 = new AuditedStore();
    const { cache } = newCache({ l1, l2 });
    await cache.set('a', 1);
    expect(await cache.get('a')).toBe(1);
    l2.set('ns:b', { value: 2, createdAt: Date.now(), expiresAt: null }, undefined);
    l2.audit.length = 0;
    expect(await cache.get('b')).toBe(2);
    expect(await cache.get('b')).toBe(2);
    expect(l1.audit).toEqual(['set ns:a', 'get ns:a', 'get ns:b', 'set ns:b', 'get ns:b']);
    expect(l2.audit).toEqual(['get ns:b']);
  });
});

describe('a write policy subclass', () => {
  it('keeps secrets out of L2 for awaited writes, background puts and getOrSet alike', async () => {
    const { cache, l1, l2, offload } = newCache({ writePolicy: new NoSecretsInL2Policy() });
    await cache.set('secret:a', 'x');
    await cache.put('secret:b', 'y', { background: true });
    await cache.getOrSet('secret:c', () => 'z', { background: true });
    await cache.put('public', 'p', { background: true });
    await offload.drain();
    expect(['ns:secret:a', 'ns:secret:b', 'ns:secret:c'].map((key) => l1.get(key)?.value)).toEqual(['x', 'y', 'z']);
    expect(['ns:secret:a', 'ns:secret:b', 'ns:secret:c'].map((key) => l2.get(key))).toEqual([undefined, undefined, undefined]);
    expect(l2.get('ns:public')?.value).toBe('p');
  });

  it('is called for awaited sets and background puts of a race policy', async () => {
    const writePolicy = new CountingRaceWritePolicy();
    const { cache, offload } = newCache({ writePolicy });
    await cache.set('a', 1);
    await cache.put('b', 2, { background: true });
    await offload.drain();
    expect(writePolicy.calls).toBe(2);
  });

  it('writing L2 first leaves L1 untouched when L2 fails, awaited or in the background', async () => {
    const failingL2 = new (class extends MemoryStore {
      override set(): void {
        throw new Error('L2 refused');
      }
    })();
    const { cache, l1, offload } = newCache({ l2: failingL2, writePolicy: l2ThenL1, resilience: false });
    await expect(cache.set('awaited', 1)).rejects.toThrow(/L2 refused/);
    await cache.put('background', 2, { background: true });
    await offload.drain();
    expect(l1.get('ns:awaited')).toBeUndefined();
    expect(l1.get('ns:background')).toBeUndefined();
  });
});

describe('RaceWritePolicy losers', () => {
  it('with Drop, the L2 write still happens but is not a counted background task', async () => {
    const l2 = new DelayedStore(new MemoryStore(), { set: 10 });
    const { cache, offload } = newCache({ l2, writePolicy: new RaceWritePolicy(RaceLoser.Drop) });
    await cache.set('k', 'v');
    expect(offload.counts()).toMatchObject({ running: 0, queued: 0, completed: 0 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect((await l2.inner.get('ns:k'))?.value).toBe('v');
  });

  it('with Offload, the L2 write is a background task that drain waits for', async () => {
    const l2 = new DelayedStore(new MemoryStore(), { set: 10 });
    const { cache, offload } = newCache({ l2, writePolicy: new RaceWritePolicy(RaceLoser.Offload) });
    await cache.set('k', 'v');
    await offload.drain();
    expect(offload.counts()).toMatchObject({ completed: 1 });
    expect((await l2.inner.get('ns:k'))?.value).toBe('v');
  });
});

describe('L1 hits', () => {
  it('are counted once, whether read with get or getOrSet', async () => {
    const { cache } = newCache();
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v');
    expect(await cache.getOrSet('k', () => 'other')).toBe('v');
    expect(cache.stats().l1).toMatchObject({ hits: 2, misses: 0 });
    expect(cache.stats().l2).toMatchObject({ hits: 0, misses: 0 });
  });

  it('reject an invalid per-call time limit even when L1 could answer', async () => {
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
