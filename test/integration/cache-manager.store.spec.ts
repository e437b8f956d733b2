import KeyvRedis from '@keyv/redis';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import { afterAll, describe, expect, it } from 'vitest';
import { CacheManagerStore, CacheSerializationError, createCacheEntry, LayeredCache, MemoryStore, OffloadService } from '../../lib';
import { REDIS_URL, uniqueNamespace } from '../support/redis';

describe('CacheManagerStore', () => {
  const redisKeyv = new Keyv({ store: new KeyvRedis(REDIS_URL), namespace: uniqueNamespace('cache-manager') });
  afterAll(async () => {
    await redisKeyv.clear();
    await redisKeyv.disconnect();
  });

  describe.each([
    { label: 'Keyv in memory', stores: () => [new Keyv()] },
    { label: 'Keyv on Redis (@keyv/redis)', stores: () => [redisKeyv] },
  ])('over $label', ({ stores }) => {
    it('round-trips entries with their metadata and Dates', async () => {
      const store = new CacheManagerStore(createCache({ stores: stores() }));
      const entry = createCacheEntry({ at: new Date('2026-01-01T00:00:00Z'), n: 1 }, 10_000);
      await store.set('k1', entry, 10_000);
      const read = await store.get<{ at: Date; n: number }>('k1');
      expect(read).toEqual(entry);
      expect(read?.value.at).toBeInstanceOf(Date);
      await store.delete('k1');
      expect(await store.get('k1')).toBeUndefined();
    });

    it('lets entries expire with the TTL it was given', async () => {
      const store = new CacheManagerStore(createCache({ stores: stores() }));
      await store.set('short', createCacheEntry(1, 30), 30);
      await new Promise((r) => setTimeout(r, 80));
      expect(await store.get('short')).toBeUndefined();
    });

    it('works as the L2 of a LayeredCache', async () => {
      const l1 = new MemoryStore();
      const cache = new LayeredCache({ l1, l2: new CacheManagerStore(createCache({ stores: stores() })), offload: new OffloadService() });
      await cache.set('shared', 'v');
      await l1.clear();
      expect(await cache.get('shared')).toBe('v');
    });
  });

  it('reports a foreign value as a serialization error', async () => {
    const cache = createCache({ stores: [new Keyv()] });
    await cache.set('foreign', { not: 'an envelope' });
    await expect(new CacheManagerStore(cache).get('foreign')).rejects.toBeInstanceOf(CacheSerializationError);
  });

  it('refuses to clear by prefix, which cache-manager cannot do, and clears everything without one', async () => {
    const cache = createCache({ stores: [new Keyv()] });
    const store = new CacheManagerStore(cache);
    await store.set('a', createCacheEntry(1, 0), undefined);
    await expect(store.clear('ns:')).rejects.toThrow(/cannot clear the keys under "ns:"/);
    await store.clear();
    expect(await store.get('a')).toBeUndefined();
  });
});
