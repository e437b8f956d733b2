export { RedisStore } from './redis.store.js';
export type {
  ExistingRedisClientStoreOptions,
  IoRedisStoreOptions,
  NodeRedisStoreOptions,
  RedisStoreCommonOptions,
  RedisStoreOptions,
} from './redis.store.js';
export type { RedisDriver } from './redis-commands.js';
export type { NodeRedisClientLike, NodeRedisClientOptions } from './node-redis.commands.js';
export type { IoRedisClientLike, IoRedisClientOptions } from './ioredis.commands.js';
