// The public names of nestjs-layered-cache (DESIGN section 2) and the types needed to call them. Test helpers
// such as ChaosStore are in the `nestjs-layered-cache/testing` entry; everything else stays internal.

export { LayeredCacheModule } from './nest/layered-cache.module.js';
export type { LayeredCacheModuleExtras } from './nest/layered-cache.module-definition.js';
export { L1_STORE, L2_STORE, LAYERED_CACHE_OPTIONS, READ_POLICY, REFILL_POLICY, WRITE_POLICY, getLayeredCacheToken } from './nest/layered-cache.constants.js';
export type { LayeredCacheModuleOptions } from './nest/interfaces/index.js';
export * from './nest/decorators/index.js';

export { LayeredCache } from './engine/layered-cache.js';
export type {
  CacheDeleteOptions,
  CacheReadOptions,
  CacheTimeoutOptions,
  CacheWriteOptions as LayeredCacheWriteOptions,
  GetOrSetOptions,
  LayeredCacheDependencies,
  LayeredCacheStats,
} from './engine/layered-cache.js';
export type { InvalidationOption } from './engine/invalidation-option.js';
export type { SingleFlightOptions } from './engine/shared-loads.js';
export type { InvalidationBus, InvalidationListener, InvalidationMode } from './core/invalidation.js';
export { LayeredStore } from './engine/layered-store.js';
export type { LayerCallOptions, LayeredStoreOptions } from './engine/layered-store.js';

export { CacheEventBus } from './core/cache-events.js';
export type {
  CacheCircuitEvent,
  CacheCircuitState,
  CacheCounters,
  CacheDeleteEvent,
  CacheErrorEvent,
  CacheEvent,
  CacheHitEvent,
  CacheInvalidationEvent,
  CacheLayerStats,
  CacheMissEvent,
  CacheOffloadEvent,
  CacheRefillEvent,
  CacheReplayEvent,
  CacheWriteEvent,
} from './core/cache-events.js';
export { createCacheEntry } from './core/cache-entry.js';
export type { CacheEntry } from './core/cache-entry.js';
export {
  BothLayersFailedError,
  CacheLayerError,
  CacheSerializationError,
  CacheTimeoutError,
  CacheValueTooLargeError,
  CircuitOpenError,
  LayeredCacheError,
  RedisCommandError,
} from './core/errors.js';
export type { CacheLayer, CacheOperation } from './core/errors.js';
export { DEFAULT_MAX_DEPTH, JsonSerializer } from './core/serializer.js';
export type { JsonSerializerOptions, Serializer } from './core/serializer.js';
export { DEFAULT_MAX_VALUE_BYTES } from './core/value-size.js';
export type { CachedClass, CachedType, CachedTypeFor } from './core/value-codec.js';
export type { PromiseOrValue } from './core/promise-or-value.js';
export type { Duration, DurationUnit } from './core/ttl.js';

export { OffloadService } from './offload/offload.service.js';
export type { OffloadCounts, OffloadDrainResult, OffloadEvent, OffloadHooks, OffloadOptions } from './offload/offload.service.js';
export type { Offload, OffloadRunOptions, OffloadTask, OffloadTaskKind } from './core/offload.interface.js';

export {
  OptimisticParallelWritePolicy,
  ParallelReadPolicy,
  RaceLoser,
  RaceReadPolicy,
  RaceWritePolicy,
  RefillPolicy,
  SequentialReadPolicy,
  SequentialWritePolicy,
} from './policies/index.js';
export type { LayerRead, LayerWrite, ReadHit, ReadPolicy, WritePolicy } from './policies/index.js';

export type { CacheStore, DeleteMark } from './stores/cache-store.interface.js';
export { MemoryStore } from './stores/memory.store.js';
export type { MemoryStoreOptions } from './stores/memory.store.js';
export { CacheManagerStore } from './stores/cache-manager.store.js';
export type { CacheManagerStoreOptions } from './stores/cache-manager.store.js';
export * from './stores/redis/index.js';

export type { CircuitBreakerOptions, CircuitBreakerStats, CircuitState } from './resilience/circuit-breaker.js';
export type { ReplayOutcome, ReplayQueueOptions, ReplayQueueStats } from './resilience/l2-write-replay-queue.js';
export type { L2ReplayOptions, L2ResilienceStats, ReplayShutdownResult, ResilienceLogger, ResilienceOptions } from './resilience/resilient-store.js';

// Keyv storage adapter: Keyv, cache-manager and @nestjs/cache-manager (CacheModule, CACHE_MANAGER, CacheInterceptor)
// on the layers of a LayeredCache.
export { KeyvLayeredCache } from './adapters/keyv/index.js';
export type { KeyvLayeredCacheOptions, KeyvOptionsOnLayers } from './adapters/keyv/index.js';

// HTTP response caching (LayeredCacheInterceptor) and the @CacheKey/@CacheTTL decorators it shares with @nestjs/cache-manager.
export { CACHE_KEY_METADATA, CACHE_TTL_METADATA, CacheKey, CacheTTL, LayeredCacheInterceptor } from './nest/http/index.js';
export type { CacheKeyFactory, CacheTTLFactory } from './nest/http/index.js';

// Health of a cache (the Terminus indicator built on it is in the `nestjs-layered-cache/terminus` entry).
export { DEFAULT_HEALTH_PING_TIMEOUT_MS, inspectCacheHealth } from './engine/cache-health.js';
export type { CacheHealthReport, CacheHealthThresholds, L1Health, L2Health } from './engine/cache-health.js';
