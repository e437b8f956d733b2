import type { CacheEntry } from '../core/cache-entry.js';
import type { PromiseOrValue } from '../core/promise-or-value.js';

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
  /**
   * Removes the key, whether or not it existed. A store that checks versions (as `RedisStore` does) may
   * keep `mark` in its place for `mark.ttlMs`, so that a write older than the delete that arrives later is
   * refused; other stores ignore it.
   */
  delete(key: string, mark?: DeleteMark): PromiseOrValue<void>;
  /** Removes every key that starts with `prefix`, or everything this store holds when no prefix is given. */
  clear?(prefix?: string): PromiseOrValue<void>;
  /** Releases connections and timers the store owns. */
  close?(): PromiseOrValue<void>;
  /**
   * Calls `listener` each time the store's connection is ready again after it was lost (left out by stores
   * without one). The cache's guard around L2 then probes the store at once instead of waiting out its
   * breaker's cool-down, and replays what it kept. Returns a function that stops the calls.
   */
  onReconnected?(listener: () => void): () => void;
  /**
   * One round trip to the store that reads and writes nothing (Redis `PING`), bounded like the store's other
   * calls; rejects when the store does not answer in time. Left out by in-process stores. Health checks
   * call it on the store itself, past the cache's circuit breaker, to tell whether the layer answers now.
   */
  ping?(): PromiseOrValue<void>;
}

/** The version of a delete, and how long a store that checks versions keeps it in place of the key. */
export interface DeleteMark {
  readonly version: string;
  readonly ttlMs: number;
}
