import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { redisAddress } from '../environment/redis';
import { TTL_MS } from '../fixtures';
import type { CachePeer } from './cache-peer';

type MemoryDriverSetup = ReturnType<typeof memoryDriver>;
type MemoryDriver = ReturnType<MemoryDriverSetup['factory']>;

/**
 * BentoCache with the multi-tier setup of its documentation: a memory L1 bounded by size and a Redis L2
 * (ioredis). The L1 driver BentoCache creates is kept so that a scenario can evict from L1 alone.
 */
export function createBentoCachePeer(prefix: string): CachePeer {
  const l1Setup = memoryDriver({ maxSize: '10mb' });
  const l1Drivers: MemoryDriver[] = [];
  const createL1 = l1Setup.factory;
  l1Setup.factory = (config) => {
    const driver = createL1(config);
    l1Drivers.push(driver);
    return driver;
  };
  const bento = new BentoCache({
    default: 'cache',
    prefix: `${prefix}bento`,
    ttl: TTL_MS,
    stores: { cache: bentostore().useL1Layer(l1Setup).useL2Layer(redisDriver({ connection: redisAddress() })) },
  });
  // BentoCache creates its L1 driver on first use; until then its L1 holds nothing.
  const l1 = (): MemoryDriver | undefined => l1Drivers[0];
  return {
    name: 'BentoCache',
    configuration: "bentostore().useL1Layer(memoryDriver({ maxSize: '10mb' })).useL2Layer(redisDriver({ connection })), ttl 10 min",
    get: (key) => bento.get({ key }),
    getOrSet: (key, factory) => bento.getOrSet({ key, factory }),
    set: (key, value) => bento.set({ key, value }),
    evictL1: async (key) => {
      await l1()?.delete(key);
    },
    clearL1: async () => {
      await l1()?.clear();
    },
    countL1: async (keys) => {
      const driver = l1();
      return driver === undefined ? 0 : keys.filter((key) => driver.get(key) !== undefined).length;
    },
    close: () => bento.disconnectAll(),
  };
}
