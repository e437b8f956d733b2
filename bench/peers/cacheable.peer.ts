import KeyvRedis from '@keyv/redis';
import { Cacheable } from 'cacheable';
import { REDIS_URL } from '../environment/redis';
import { TTL_MS } from '../fixtures';
import type { CachePeer } from './cache-peer';

/** cacheable with its README's layer 1 + layer 2 setup: the default in-memory primary and a Redis secondary. */
export function createCacheablePeer(prefix: string): CachePeer {
  const cache = new Cacheable({ secondary: new KeyvRedis(REDIS_URL, { namespace: `${prefix}cacheable` }), ttl: TTL_MS });
  return {
    name: 'cacheable',
    configuration: 'new Cacheable({ secondary: new KeyvRedis(url), ttl: 10 min })',
    get: (key) => cache.get(key),
    getOrSet: (key, factory) => cache.getOrSet(key, factory),
    set: (key, value) => cache.set(key, value),
    evictL1: (key) => cache.primary.delete(key),
    clearL1: () => cache.primary.clear(),
    countL1: async (keys) => {
      let held = 0;
      for (const key of keys) if ((await cache.primary.get(key)) !== undefined) held++;
      return held;
    },
    close: async () => {
      await cache.disconnect();
    },
  };
}
