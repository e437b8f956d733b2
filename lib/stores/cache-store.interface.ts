import type { CacheEntry } from '../core/cache-entry';
import type { PromiseOrValue } from '../core/promise-or-value';

/**
 * A cache layer. Any object with these methods can be used as L1 or L2 (or as a layer of a nested
 * composition). Each method returns its result directly (an in-process store such as `MemoryStore`) or as a
 * promise (a store that does I/O); the cache calls these methods and nothing else, so a subclass that
 * overrides one sees it called for every operation. A store reports failures by throwing or rejecting,
 * never by hanging: stores that talk to a network bound each call with a timeout.
 */
export interface CacheStore {
  /** The entry, or `undefined` when the key is absent or expired. */
  get<T = unknown>(key: string): PromiseOrValue<CacheEntry<T> | undefined>;
  /**
   * Stores the entry. `ttlMs` is how long the layer should keep it (the entry's remaining lifetime, whole
   * milliseconds); `undefined` keeps it until evicted.
   */
  set<T = unknown>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined): PromiseOrValue<void>;
  /** Removes the key, whether or not it existed. */
  delete(key: string): PromiseOrValue<void>;
  /** Removes every key that starts with `prefix`, or everything this store holds when no prefix is given. */
  clear?(prefix?: string): PromiseOrValue<void>;
  /** Releases connections and timers the store owns. */
  close?(): PromiseOrValue<void>;
}

/** DI token of the in-process layer. The interface and its token share one name, as in `@nestjs/throttler`. */
export const L1_STORE: unique symbol = Symbol('L1_STORE');
/** DI token of the shared layer (absent when the module runs L1 only). */
export const L2_STORE: unique symbol = Symbol('L2_STORE');
