export { RedisStore } from './redis.store';
export type {
  ExistingRedisClientStoreOptions,
  IoRedisStoreOptions,
  NodeRedisStoreOptions,
  RedisStoreCommonOptions,
  RedisStoreOptions,
} from './redis.store';
export type { RedisDriver } from './redis-commands';
export type { NodeRedisClientLike, NodeRedisClientOptions } from './node-redis.commands';
export type { IoRedisClientLike, IoRedisClientOptions } from './ioredis.commands';
