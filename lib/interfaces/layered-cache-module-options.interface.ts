import type { OffloadOptions } from '../offload';
import type { ReadPolicy } from '../policies/read/read-policy.interface';
import type { RefillPolicy } from '../policies/refill/refill-policy';
import type { WritePolicy } from '../policies/write/write-policy.interface';
import type { CacheStore } from '../stores/cache-store.interface';
import type { MemoryStoreOptions } from '../stores/memory.store';
import type { RedisStoreOptions } from '../stores/redis';

/** Options of `LayeredCacheModule.forRoot` (all optional). */
export interface LayeredCacheModuleOptions {
  /** The in-process layer: a store, or options of the default `MemoryStore` (bounded at 10 000 entries). */
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
  /** Default time to live in milliseconds; default 60 000; 0 keeps entries until evicted. */
  ttl?: number;
  /** Prefix of every key (`namespace:key`); lets applications share one Redis without clashing. */
  namespace?: string;
  /** Bounds of the background task service. */
  offload?: OffloadOptions;
  /** How long `app.close()` waits for accepted background writes, in milliseconds. Default 5 000. */
  shutdownTimeoutMs?: number;
}
