export { LayeredCacheModule } from './layered-cache.module';
export type { LayeredCacheModuleExtras } from './layered-cache.module-definition';
export { LAYERED_CACHE_OPTIONS } from './layered-cache.constants';
export type { LayeredCacheModuleOptions } from './interfaces';

export { LayeredCache, DEFAULT_TTL_MS } from './core/layered-cache';
export type {
  CacheDeleteOptions,
  CacheReadOptions,
  CacheTimeoutOptions,
  CacheWriteOptions as LayeredCacheWriteOptions,
  GetOrSetOptions,
  LayeredCacheDependencies,
  LayeredCacheStats,
} from './core/layered-cache';
export { LayeredStore } from './core/layered-store';
export type { LayerCallOptions, LayeredStoreOptions } from './core/layered-store';
export { CacheEventBus } from './core/cache-events';
export type {
  CacheCircuitEvent,
  CacheCircuitState,
  CacheCounters,
  CacheDeleteEvent,
  CacheErrorEvent,
  CacheEvent,
  CacheHitEvent,
  CacheLayerStats,
  CacheMissEvent,
  CacheOffloadEvent,
  CacheRefillEvent,
  CacheReplayEvent,
  CacheWriteEvent,
} from './core/cache-events';
export { createCacheEntry, remainingTtl, isExpired } from './core/cache-entry';
export type { CacheEntry } from './core/cache-entry';
export { encodeArguments, boundKeyLength, MAX_KEY_LENGTH, validNamespace } from './core/cache-key';
export {
  BothLayersFailedError,
  CacheLayerError,
  CacheSerializationError,
  CacheTimeoutError,
  CircuitOpenError,
  LayeredCacheError,
} from './core/errors';
export type { CacheLayer, CacheOperation } from './core/errors';
export { JsonSerializer } from './core/serializer';
export type { Serializer } from './core/serializer';
export type { CachedClass, CachedType, CachedTypeFor } from './core/value-codec';

export * from './decorators';
export * from './offload';
export * from './policies';

export { L1_STORE, L2_STORE } from './stores/cache-store.interface';
export type { CacheStore } from './stores/cache-store.interface';
export type { PromiseOrValue } from './core/promise-or-value';
export { isCacheStore } from './stores/is-cache-store';
export { MemoryStore } from './stores/memory.store';
export type { MemoryStoreOptions } from './stores/memory.store';
export { CacheManagerStore } from './stores/cache-manager.store';
export type { CacheManagerStoreOptions } from './stores/cache-manager.store';
export * from './stores/redis';

export * from './resilience';
export * from './testing';
