import { type DynamicModule, type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { L1_STORE, LayeredCache, LayeredCacheModule, MemoryStore, OffloadService, RedisStore } from '../../lib';
import type IoRedis from 'ioredis';
import { connectIoRedis } from '../environment/redis';
import { TTL_MS } from '../fixtures';
import { ItemService } from './item.service';

/**
 * This library as an application uses it: the module's defaults, a decorated service, and Redis through an
 * ioredis client of the application's, the faster of the two raw clients here, so that the targets, which
 * compare with the faster raw client, compare like with like (the default driver has rows of its own).
 */
export interface OurCache {
  readonly configuration: string;
  readonly app: INestApplicationContext;
  readonly cache: LayeredCache;
  readonly l1: MemoryStore;
  readonly items: ItemService;
  /** The ioredis client of the L2 store (given to the store so that the benchmark can wait on it). */
  readonly client: IoRedis;
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
  const client = await connectIoRedis(false);
  const app = await NestFactory.createApplicationContext(BenchAppModule.register(namespace, new RedisStore({ client })), { logger: false });
  await app.init();
  const l1 = app.get<MemoryStore>(L1_STORE);
  if (!(l1 instanceof MemoryStore)) throw new Error('The module did not create its default MemoryStore');
  const offload = app.get(OffloadService);
  return {
    configuration: `LayeredCacheModule.forRoot({ namespace, ttl: 10 min, l2: new RedisStore({ client }) }): default MemoryStore (10 000 entries), an ioredis 5 client, L1 invalidation 'auto' (pub/sub on a Redis that echoes a connection's own script writes, as 7.0 does), sequential reads, optimistic parallel writes, refill always`,
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
      client.disconnect();
    },
  };
}
