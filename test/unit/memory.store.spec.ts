import { afterEach, describe, expect, it, vi } from 'vitest';
import { type CacheEntry, createCacheEntry, LayeredCache, MemoryStore, OffloadService } from '../../lib';
import { estimateValueBytes } from '../../lib/core/entry-size';

afterEach(() => {
  vi.restoreAllMocks();
});

/** An entry whose text in L2 is `length` long, as the cache and RedisStore make them. */
const sized = (value: unknown, length: number): CacheEntry => ({ ...createCacheEntry(value, 0), encodedLength: length });

describe('MemoryStore', () => {
  it('returns what was set, by reference unless clone is on', async () => {
    const store = new MemoryStore();
    const value = { n: 1 };
    await store.set('k', createCacheEntry(value, 1000), 1000);
    expect((await store.get('k'))?.value).toBe(value);

    const cloning = new MemoryStore({ clone: true });
    await cloning.set('k', createCacheEntry(value, 1000), 1000);
    const read = await cloning.get<{ n: number }>('k');
    expect(read?.value).toEqual(value);
    expect(read?.value).not.toBe(value);
    read!.value.n = 2;
    expect((await cloning.get<{ n: number }>('k'))?.value.n).toBe(1);
  });

  it('expires entries after their TTL', async () => {
    const store = new MemoryStore();
    await store.set('short', createCacheEntry('v', 20), 20);
    await store.set('forever', createCacheEntry('v', 0), undefined);
    expect(await store.get('short')).toBeDefined();
    await new Promise((r) => setTimeout(r, 40));
    expect(await store.get('short')).toBeUndefined();
    expect(await store.get('forever')).toBeDefined();
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const store = new MemoryStore({ maxEntries: 2 });
    await store.set('a', createCacheEntry(1, 0), undefined);
    await store.set('b', createCacheEntry(2, 0), undefined);
    await store.get('a');
    await store.set('c', createCacheEntry(3, 0), undefined);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBeDefined();
    expect(store.size).toBe(2);
  });

  it('bounds total size when maxSize is set and skips entries larger than the bound', async () => {
    const store = new MemoryStore({ maxSize: 100, sizeOf: (entry) => String(entry.value).length });
    await store.set('a', createCacheEntry('x'.repeat(60), 0), undefined);
    await store.set('b', createCacheEntry('y'.repeat(60), 0), undefined);
    expect(await store.get('a')).toBeUndefined();
    expect(await store.get('b')).toBeDefined();
    await store.set('huge', createCacheEntry('z'.repeat(101), 0), undefined);
    expect(await store.get('huge')).toBeUndefined();
  });

  it('clears by prefix or entirely', async () => {
    const store = new MemoryStore();
    for (const key of ['ns:a', 'ns:b', 'other:a']) await store.set(key, createCacheEntry(key, 0), undefined);
    await store.clear('ns:');
    expect(await store.get('ns:a')).toBeUndefined();
    expect(await store.get('other:a')).toBeDefined();
    await store.clear();
    expect(store.size).toBe(0);
  });

  it('treats a non-positive TTL as a delete', async () => {
    const store = new MemoryStore();
    await store.set('k', createCacheEntry(1, 0), undefined);
    await store.set('k', createCacheEntry(2, 0), 0);
    expect(await store.get('k')).toBeUndefined();
  });

  it('answers get and set at once, without a promise, clone and TTL included', () => {
    const store = new MemoryStore({ clone: true });
    const value = { n: 1 };
    expect(store.set('k', createCacheEntry(value, 1000), 1000)).toBeUndefined();
    expect(store.get<{ n: number }>('k')?.value).toEqual(value);
    expect(store.get<{ n: number }>('k')?.value).not.toBe(value);
    store.set('k', createCacheEntry(value, 1000), 0);
    expect(store.get('k')).toBeUndefined();
  });

  it('rejects invalid bounds with a message naming the option', () => {
    expect(() => new MemoryStore({ maxEntries: 0 })).toThrow(/MemoryStore option "maxEntries" must be a positive integer, got 0/);
    expect(() => new MemoryStore({ maxSize: 1.5 })).toThrow(/"maxSize"/);
  });
});

describe('MemoryStore bounded by bytes', () => {
  it('counts each entry as the length of its L2 text and evicts the least recently used beyond maxBytes', () => {
    const store = new MemoryStore({ maxBytes: 1000 });
    store.set('a', sized('a', 400), undefined);
    store.set('b', sized('b', 400), undefined);
    store.get('a');
    store.set('c', sized('c', 400), undefined);
    expect(store.get('b')).toBeUndefined();
    expect(store.get('a')).toBeDefined();
    expect(store.get('c')).toBeDefined();
  });

  it('stores no entry larger than the whole bound, and drops what the key held before', () => {
    const store = new MemoryStore({ maxBytes: 1000 });
    store.set('k', sized('small', 10), undefined);
    store.set('k', sized('huge', 1001), undefined);
    expect(store.get('k')).toBeUndefined();
  });

  it('keeps the size of copies with clone', () => {
    const store = new MemoryStore({ maxBytes: 1000, clone: true });
    store.set('a', sized({ n: 1 }, 600), undefined);
    store.set('b', sized({ n: 2 }, 600), undefined);
    expect(store.get('a')).toBeUndefined();
    expect(store.get('b')?.value).toEqual({ n: 2 });
  });

  it('measures an entry written through a cache with an L2 without serializing its value again', async () => {
    const l1 = new MemoryStore({ maxBytes: 2_500 });
    const cache = new LayeredCache({ l1, l2: new MemoryStore(), offload: new OffloadService(), invalidation: false });
    const stringify = vi.spyOn(JSON, 'stringify');
    await cache.set('a', { text: 'x'.repeat(1_000) });
    // Once, to check the value for L2 before any layer is written; the text's length is the entry's size.
    expect(stringify).toHaveBeenCalledTimes(1);
    await cache.set('b', { text: 'y'.repeat(1_000) });
    // Each counts its text's 1 011 characters: two fit in 2 500 bytes, a third evicts the oldest.
    expect(l1.size).toBe(2);
    expect(stringify).toHaveBeenCalledTimes(2);
    await cache.set('c', { text: 'z'.repeat(1_000) });
    expect(l1.get('a')).toBeUndefined();
    expect(l1.get('c')).toBeDefined();
    await cache.store.close();
  });

  it('estimates entries without an L2 text from their value, without serializing it', () => {
    const store = new MemoryStore({ maxBytes: 10_000 });
    const stringify = vi.spyOn(JSON, 'stringify');
    store.set('a', createCacheEntry({ text: 'x'.repeat(6_000) }, 0), undefined);
    store.set('b', createCacheEntry({ text: 'y'.repeat(6_000) }, 0), undefined);
    expect(stringify).not.toHaveBeenCalled();
    expect(store.get('a')).toBeUndefined();
    expect(store.get('b')).toBeDefined();
  });

  it('estimates about the length of the JSON text, bytes for binary data, whatever the depth or a cycle', () => {
    const value = { id: 1, name: 'Ada', tags: ['a', 'b'], avatar: Buffer.alloc(1_000) };
    const json = JSON.stringify({ ...value, avatar: undefined }).length + 1_000;
    expect(estimateValueBytes(value)).toBeGreaterThan(json * 0.5);
    expect(estimateValueBytes(value)).toBeLessThan(json * 2);
    let deep: unknown = 1;
    for (let level = 0; level < 200_000; level++) deep = [deep];
    expect(estimateValueBytes(deep)).toBeGreaterThan(0);
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(estimateValueBytes(cyclic)).toBeGreaterThan(0);
  });

  it('counts maxSize without sizeOf in bytes too', () => {
    const store = new MemoryStore({ maxSize: 1000 });
    store.set('a', sized('a', 600), undefined);
    store.set('b', sized('b', 600), undefined);
    expect(store.get('a')).toBeUndefined();
  });

  it('reports the entries it holds and their bytes, and no bytes without a bound in bytes', () => {
    const store = new MemoryStore({ maxBytes: 1000 });
    store.set('a', sized('a', 400), undefined);
    store.set('b', sized('b', 300), undefined);
    expect({ entries: store.size, bytes: store.bytes }).toEqual({ entries: 2, bytes: 700 });
    store.delete('a');
    expect(store.bytes).toBe(300);
    expect(new MemoryStore({ maxSize: 1000 }).bytes).toBe(0);
    expect(new MemoryStore().bytes).toBeUndefined();
    expect(new MemoryStore({ maxSize: 10, sizeOf: () => 1 }).bytes).toBeUndefined();
  });

  it('refuses two size bounds, and sizeOf without maxSize', () => {
    expect(() => new MemoryStore({ maxBytes: 1000, maxSize: 1000 })).toThrow(/both "maxBytes" and "maxSize"/);
    expect(() => new MemoryStore({ sizeOf: () => 1 })).toThrow(/"sizeOf" without "maxSize"/);
    expect(() => new MemoryStore({ maxBytes: 0 })).toThrow(/MemoryStore option "maxBytes" must be a positive integer, got 0/);
  });
});
