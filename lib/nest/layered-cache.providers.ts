import { Logger, type Provider } from '@nestjs/common';
import { CacheEventBus } from '../core/cache-events.js';
import { LayeredCache } from '../engine/layered-cache.js';
import type { LayeredCacheModuleOptions } from './interfaces/layered-cache-module-options.interface.js';
import { DEFAULT_CACHE_NAME, L1_STORE, L2_STORE, LAYERED_CACHE_NAME, LAYERED_CACHE_OPTIONS, READ_POLICY, REFILL_POLICY, REGISTERED_CACHE, WRITE_POLICY } from './layered-cache.constants.js';
import { OffloadService } from '../offload/offload.service.js';
import type { ReadPolicy } from '../policies/read/read-policy.interface.js';
import { SequentialReadPolicy } from '../policies/read/sequential-read.policy.js';
import { RefillPolicy } from '../policies/refill/refill-policy.js';
import { OptimisticParallelWritePolicy } from '../policies/write/optimistic-parallel-write.policy.js';
import type { WritePolicy } from '../policies/write/write-policy.interface.js';
import type { CacheStore } from '../stores/cache-store.interface.js';
import { isCacheStore } from '../stores/is-cache-store.js';
import { MemoryStore } from '../stores/memory.store.js';
import { RedisStore } from '../stores/redis/index.js';
import { DEFAULT_COMMAND_TIMEOUT_MS } from '../stores/redis/redis.store.js';
import { CachedMethodRunner } from './decorators/cached-method.runner.js';
import { CacheFailureLog } from './layered-cache.failure-log.js';
import { MEMORY_STORE_DESCRIPTION } from './layered-cache.messages.js';
import { describeRedisTarget } from '../stores/redis/redis-target.js';

/**
 * Stores this module created from options (and so must close), each with how the startup line describes
 * it; stores handed in stay the owner's and are described by their class name.
 */
export const MODULE_OWNED_STORES: unique symbol = Symbol('MODULE_OWNED_STORES');

/** Mirrors `MemoryStore`'s own default, for the startup line of the store the module creates. */
const DEFAULT_L1_MAX_ENTRIES = 10_000;

const logger = new Logger('LayeredCache');

/** The module's default providers; each token can be replaced by a provider of the user's. */
export function createLayeredCacheProviders(): Provider[] {
  return [
    { provide: MODULE_OWNED_STORES, useValue: new WeakMap<CacheStore, string>() },
    {
      provide: L1_STORE,
      inject: [LAYERED_CACHE_OPTIONS, MODULE_OWNED_STORES],
      useFactory: (options: LayeredCacheModuleOptions, owned: WeakMap<CacheStore, string>): CacheStore => {
        if (isCacheStore(options.l1)) return options.l1;
        const store = new MemoryStore(options.l1);
        const l1 = options.l1;
        const bound = l1?.maxBytes ?? l1?.maxSize;
        const size = bound === undefined ? undefined : { bound, unit: l1?.sizeOf === undefined ? ('bytes' as const) : ('size units' as const) };
        owned.set(store, MEMORY_STORE_DESCRIPTION(l1?.maxEntries ?? DEFAULT_L1_MAX_ENTRIES, size));
        return store;
      },
    },
    {
      provide: L2_STORE,
      inject: [LAYERED_CACHE_OPTIONS, MODULE_OWNED_STORES],
      useFactory: (options: LayeredCacheModuleOptions, owned: WeakMap<CacheStore, string>): CacheStore | null => {
        if (options.l2 === undefined || options.l2 === false) return null;
        if (isCacheStore(options.l2)) return options.l2;
        // Unless told otherwise, each Redis command gets at least as long as the cache waits for L2, and the
        // store decodes values as large as the cache writes.
        const callerLimit = options.resilience === false ? undefined : options.resilience?.timeoutMs;
        const commandTimeoutMs = options.l2.commandTimeoutMs ?? (callerLimit !== undefined && callerLimit > DEFAULT_COMMAND_TIMEOUT_MS ? callerLimit : undefined);
        const maxValueBytes = options.l2.maxValueBytes ?? options.maxValueBytes;
        const store = new RedisStore({ ...options.l2, commandTimeoutMs, maxValueBytes });
        owned.set(store, describeRedisTarget(options.l2));
        return store;
      },
    },
    {
      provide: READ_POLICY,
      inject: [LAYERED_CACHE_OPTIONS],
      useFactory: (options: LayeredCacheModuleOptions): ReadPolicy => options.readPolicy ?? new SequentialReadPolicy(),
    },
    {
      provide: WRITE_POLICY,
      inject: [LAYERED_CACHE_OPTIONS],
      useFactory: (options: LayeredCacheModuleOptions): WritePolicy => options.writePolicy ?? new OptimisticParallelWritePolicy(),
    },
    {
      provide: REFILL_POLICY,
      inject: [LAYERED_CACHE_OPTIONS],
      useFactory: (options: LayeredCacheModuleOptions): RefillPolicy => options.refillPolicy ?? RefillPolicy.Always,
    },
    { provide: CacheEventBus, useFactory: () => new CacheEventBus() },
    {
      provide: CacheFailureLog,
      inject: [CacheEventBus],
      // Subscribes at once, so that failures while the application starts are logged too.
      useFactory: (events: CacheEventBus) => new CacheFailureLog(events.errors$, logger),
    },
    {
      provide: OffloadService,
      inject: [LAYERED_CACHE_OPTIONS, CacheEventBus],
      useFactory: (options: LayeredCacheModuleOptions, events: CacheEventBus) =>
        new OffloadService(options.offload, {
          logger,
          onEvent: (event) => {
            if (event.outcome !== 'completed') events.offload(event);
          },
        }),
    },
    {
      provide: REGISTERED_CACHE,
      inject: [LAYERED_CACHE_OPTIONS, LAYERED_CACHE_NAME, L1_STORE, L2_STORE, READ_POLICY, WRITE_POLICY, REFILL_POLICY, OffloadService, CacheEventBus],
      useFactory: (
        options: LayeredCacheModuleOptions,
        name: string,
        l1: CacheStore,
        l2: CacheStore | null,
        readPolicy: ReadPolicy,
        writePolicy: WritePolicy,
        refillPolicy: RefillPolicy,
        offload: OffloadService,
        events: CacheEventBus,
      ) =>
        new LayeredCache({
          l1,
          l2,
          readPolicy,
          writePolicy,
          refillPolicy,
          offload,
          events,
          // A named cache keeps its keys apart from the other caches' unless told to share a namespace.
          namespace: options.namespace ?? (name === DEFAULT_CACHE_NAME ? undefined : name),
          ttl: options.ttl,
          resilience: options.resilience,
          invalidation: options.invalidation,
          l1MaxTtl: options.l1MaxTtl,
          maxValueBytes: options.maxValueBytes,
          logger,
        }),
    },
    {
      provide: CachedMethodRunner,
      inject: [REGISTERED_CACHE, CacheEventBus],
      useFactory: (cache: LayeredCache, events: CacheEventBus) => new CachedMethodRunner(cache, events),
    },
  ];
}
