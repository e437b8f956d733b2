import { type DynamicModule, type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { L1_STORE, LayeredCache, LayeredCacheModule, MemoryStore, OffloadService, RedisStore } from '../../lib';
import { type NodeRedisClient, connectNodeRedis } from '../environment/redis';
import { TTL_MS } from '../fixtures';
import { ItemService } from './item.service';

/** This library as an application uses it: the module's defaults, Redis through node-redis, a decorated service. */
export interface OurCache {
  readonly configuration: string;
  readonly app: INestApplicationContext;
  readonly cache: LayeredCache;
  readonly l1: MemoryStore;
  readonly items: ItemService;
  /** The node-redis client of the L2 store (given to the store so that the benchmark can wait on it). */
  readonly client: NodeRedisClient;
  /** Resolves once accepted background writes and every command sent so far have finished. */
  drain(): Promise<void>;
  /**
   * Resolves once every accepted background task has finished, without the extra round trip of `drain`:
   * the offload service tracks every background L2 write (batches included) until Redis has answered it.
   */
  drainBackground(): Promise<void>;
  close(): Promise<void>;
}

@Module({})
class BenchAppModule {
  static register(namespace: string, l2: RedisStore): DynamicModule {
    return {
      module: BenchAppModule,
      imports: [LayeredCacheModule.forRoot({ namespace, ttl: TTL_MS, l2 })],
      providers: [ItemService],
    };
  }
}

/** Boots a Nest application context with the cache module and {@link ItemService}. */
export async function createOurCache(namespace: string): Promise<OurCache> {
  const client = await connectNodeRedis();
  const app = await NestFactory.createApplicationContext(BenchAppModule.register(namespace, new RedisStore({ client })), { logger: false });
  await app.init();
  const l1 = app.get<MemoryStore>(L1_STORE);
  if (!(l1 instanceof MemoryStore)) throw new Error('The module did not create its default MemoryStore');
  const offload = app.get(OffloadService);
  return {
    configuration: `LayeredCacheModule.forRoot({ namespace, ttl: 10 min, l2: new RedisStore({ client }) }): default MemoryStore (10 000 entries), node-redis v6, L1 invalidation by Redis tracking, sequential reads, optimistic parallel writes, refill always`,
    app,
    cache: app.get(LayeredCache),
    l1,
    items: app.get(ItemService),
    client,
    drain: async () => {
      await offload.drain(5_000);
      await client.ping();
    },
    drainBackground: async () => {
      await offload.drain(5_000);
    },
    close: async () => {
      await app.close();
      client.destroy();
    },
  };
}
