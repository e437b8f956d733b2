import { createKeyv as createKeyvRedis } from '@keyv/redis';
import { createCache } from 'cache-manager';
import { createKeyv as createKeyvMemory } from 'cacheable';
import { REDIS_URL } from '../environment/redis';
import { TTL_MS } from '../fixtures';
import type { CachePeer } from './cache-peer';

/** cache-manager 7 with the two stores of its README: Keyv over `CacheableMemory`, then Keyv over Redis. */
export function createCacheManagerPeer(prefix: string): CachePeer {
  const l1 = createKeyvMemory();
  const l2 = createKeyvRedis(REDIS_URL, { namespace: `${prefix}cache-manager` });
  const cache = createCache({ stores: [l1, l2], ttl: TTL_MS });
  return {
    name: 'cache-manager',
    configuration: "createCache({ stores: [createKeyv() from 'cacheable', createKeyv(url) from '@keyv/redis'], ttl: 10 min })",
    get: (key) => cache.get(key),
    getOrSet: (key, factory) => cache.wrap(key, factory),
    set: (key, value) => cache.set(key, value),
    evictL1: (key) => l1.delete(key),
    clearL1: () => l1.clear(),
    countL1: async (keys) => {
      let held = 0;
      for (const key of keys) if ((await l1.get(key)) !== undefined) held++;
      return held;
    },
    close: async () => {
      await cache.disconnect();
    },
  };
}
