// The public names of nestjs-layered-cache (DESIGN section 2) and the types needed to call them. Test helpers
// such as ChaosStore are in the `nestjs-layered-cache/testing` entry; everything else stays internal.

export { LayeredCacheModule } from './nest/layered-cache.module';
export type { LayeredCacheModuleExtras } from './nest/layered-cache.module-definition';
export { L1_STORE, L2_STORE, LAYERED_CACHE_OPTIONS, READ_POLICY, REFILL_POLICY, WRITE_POLICY } from './nest/layered-cache.constants';
export type { LayeredCacheModuleOptions } from './nest/interfaces';
export * from './nest/decorators';

export { LayeredCache } from './engine/layered-cache';
export type {
  CacheDeleteOptions,
  CacheReadOptions,
  CacheTimeoutOptions,
  CacheWriteOptions as LayeredCacheWriteOptions,
  GetOrSetOptions,
  LayeredCacheDependencies,
  LayeredCacheStats,
} from './engine/layered-cache';
export type { InvalidationOption } from './engine/invalidation-option';
export type { SingleFlightOptions } from './engine/shared-loads';
export type { InvalidationBus, InvalidationListener, InvalidationMode } from './core/invalidation';
export { LayeredStore } from './engine/layered-store';
export type { LayerCallOptions, LayeredStoreOptions } from './engine/layered-store';

export { CacheEventBus } from './core/cache-events';
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
} from './core/cache-events';
export { createCacheEntry } from './core/cache-entry';
export type { CacheEntry } from './core/cache-entry';
export {
  BothLayersFailedError,
  CacheLayerError,
  CacheSerializationError,
  CacheTimeoutError,
  CacheValueTooLargeError,
  CircuitOpenError,
  LayeredCacheError,
  RedisCommandError,
} from './core/errors';
export type { CacheLayer, CacheOperation } from './core/errors';
export { DEFAULT_MAX_DEPTH, JsonSerializer } from './core/serializer';
export type { JsonSerializerOptions, Serializer } from './core/serializer';
export { DEFAULT_MAX_VALUE_BYTES } from './core/value-size';
export type { CachedClass, CachedType, CachedTypeFor } from './core/value-codec';
export type { PromiseOrValue } from './core/promise-or-value';

export { OffloadService } from './offload/offload.service';
export type { OffloadCounts, OffloadDrainResult, OffloadEvent, OffloadHooks, OffloadOptions } from './offload/offload.service';
export type { Offload, OffloadRunOptions, OffloadTask, OffloadTaskKind } from './core/offload.interface';

export {
  OptimisticParallelWritePolicy,
  ParallelReadPolicy,
  RaceLoser,
  RaceReadPolicy,
  RaceWritePolicy,
  RefillPolicy,
  SequentialReadPolicy,
  SequentialWritePolicy,
} from './policies';
export type { LayerRead, LayerWrite, ReadHit, ReadPolicy, WritePolicy } from './policies';

export type { CacheStore, DeleteMark } from './stores/cache-store.interface';
export { MemoryStore } from './stores/memory.store';
export type { MemoryStoreOptions } from './stores/memory.store';
export { CacheManagerStore } from './stores/cache-manager.store';
export type { CacheManagerStoreOptions } from './stores/cache-manager.store';
export * from './stores/redis';

export type { CircuitBreakerOptions, CircuitBreakerStats, CircuitState } from './resilience/circuit-breaker';
export type { ReplayOutcome, ReplayQueueOptions, ReplayQueueStats } from './resilience/l2-write-replay-queue';
export type { L2ReplayOptions, L2ResilienceStats, ReplayShutdownResult, ResilienceLogger, ResilienceOptions } from './resilience/resilient-store';
