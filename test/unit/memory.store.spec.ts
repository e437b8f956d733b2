import { describe, expect, it } from 'vitest';
import { createCacheEntry, MemoryStore } from '../../lib';

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
