import type { OffloadOptions } from '../../offload/offload.service.js';
import type { ReadPolicy } from '../../policies/read/read-policy.interface.js';
import type { RefillPolicy } from '../../policies/refill/refill-policy.js';
import type { WritePolicy } from '../../policies/write/write-policy.interface.js';
import type { ResilienceOptions } from '../../resilience/resilient-store.js';
import type { CacheStore } from '../../stores/cache-store.interface.js';
import type { MemoryStoreOptions } from '../../stores/memory.store.js';
import type { InvalidationOption } from '../../engine/invalidation-option.js';
import type { RedisStoreOptions } from '../../stores/redis/index.js';
import type { Duration } from '../../core/ttl.js';

/** Options of `LayeredCacheModule.forRoot` (all optional). */
export interface LayeredCacheModuleOptions {
  /**
   * The in-process layer: a store, or options of the default `MemoryStore` (bounded at 10 000 entries;
   * `maxBytes` bounds it by the size of its entries too).
   */
  l1?: CacheStore | MemoryStoreOptions;
  /**
   * The shared layer: a store, `RedisStore` options such as `{ url }`, or `false`. Omitted or `false`
   * runs L1 only (logged once at startup). The module never reads environment variables itself.
   */
  l2?: CacheStore | RedisStoreOptions | false;
  /** Default `SequentialReadPolicy`. */
  readPolicy?: ReadPolicy;
  /** Default `OptimisticParallelWritePolicy`. */
  writePolicy?: WritePolicy;
  /** Default `RefillPolicy.Always`. */
  refillPolicy?: RefillPolicy;
  /**
   * Default time to live: a number of **milliseconds** (`60_000`), or a string with its unit (`'1m'`, `'30s'`,
   * `'2h'`), so that seconds are never taken for milliseconds. Default 60 000; 0 keeps entries until evicted.
   */
  ttl?: Duration;
  /**
   * Prefix of every key (`namespace:key`); lets applications share one Redis without clashing. A non-empty
   * name without `:` (use `-` or `.` to structure it: `shop-eu`), refused at startup otherwise. Default: none
   * for the unnamed cache, the cache's `name` for a named one.
   */
  namespace?: string;
  /** Bounds of the background task service. */
  offload?: OffloadOptions;
  /**
   * How long `app.close()` waits for accepted background writes and for the replay of kept L2 writes,
   * together, in milliseconds. Default 5 000.
   */
  shutdownTimeoutMs?: number;
  /**
   * How the app is shielded from a slow, failing or absent L2: `timeoutMs` (longest wait for L2 per call,
   * default 200; the command itself goes on up to the store's `commandTimeoutMs`, 2 000 for a `RedisStore`
   * the module creates, or this limit when it is longer), `breaker` (`{ failureThreshold: 5, cooldownMs: 5_000 }`,
   * or `false`) and `replay` of tolerated failed writes (`{ maxEntries: 10_000, concurrency: 8,
   * retryDelayMs: 1_000, timeoutMs: 5_000 }`, or `false`). `false` turns all of it off.
   *
   * @example
   * LayeredCacheModule.forRoot({ l2: { url }, resilience: { timeoutMs: 100, breaker: { failureThreshold: 3, cooldownMs: 2_000 } } });
   */
  resilience?: ResilienceOptions | false;
  /**
   * How instances on one Redis drop each other's stale L1 copies. Default `'auto'` with a Redis L2:
   * Redis tracking (`CLIENT TRACKING ... BCAST NOLOOP`: any write to a key of the namespace, by any client,
   * invalidates, at no extra command per write) where the server allows it, else `'pubsub'` (each write is
   * announced, in batches, on a channel of the namespace). An `InvalidationBus` of your own, or `false`.
   * The startup line says which is used.
   */
  invalidation?: InvalidationOption;
  /**
   * Largest text of an entry in L2, in bytes (UTF-8: the value's JSON and a header of at most 71 bytes plus
   * its tags). Default 8 MiB; from 1 to 512 MiB. A larger value is cached in no layer (`set` rejects with
   * `CacheValueTooLargeError`; `@Cacheable`, `@CacheWrite` and `getOrSet` return it uncached and log it), and
   * a longer reply from Redis is a miss, logged, never parsed. Also the `maxValueBytes` of the `RedisStore`
   * the module creates, unless `l2.maxValueBytes` says otherwise (it may not be lower than this). Raise it
   * on every instance that shares the keys.
   *
   * @example
   * LayeredCacheModule.forRoot({ l2: { url, commandTimeoutMs: 2_000 }, maxValueBytes: 64 * 1024 * 1024 });
   */
  maxValueBytes?: number;
  /**
   * Longest time L1 keeps any entry, in milliseconds: the bound on how long an L1 copy can outlive a change
   * whose invalidation was lost (a dropped connection is resynchronised, but a message lost otherwise is not).
   * Default: none beyond each entry's TTL; L1 copies of other instances' entries never outlive this
   * instance's own `ttl`. Milliseconds, or a string with its unit (`'30s'`).
   */
  l1MaxTtl?: Duration;
}
