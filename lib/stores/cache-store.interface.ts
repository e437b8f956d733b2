import type { CacheEntry } from '../core/cache-entry';

/**
 * A cache layer. Any object with these methods can be used as L1 or L2 (or as a layer of a nested
 * composition). Every method is async; a store reports failures by rejecting, never by hanging:
 * stores that talk to a network bound each call with a timeout.
 */
export interface CacheStore {
  /** Resolves to the entry, or `undefined` when the key is absent or expired. */
  get<T = unknown>(key: string): Promise<CacheEntry<T> | undefined>;
  /**
   * Optional, for in-process stores only: what `get` would resolve to, returned synchronously. A store
   * that implements it promises the two always agree; `LayeredCache` then answers L1 hits without a
   * promise hop. A store whose reads can be slow or fail asynchronously must not implement it.
   */
  getSync?<T = unknown>(key: string): CacheEntry<T> | undefined;
  /**
   * Optional, for in-process stores only: does what `set` does, synchronously, throwing where `set` would
   * reject. `LayeredStore` then refills L1 after an L2 hit without a promise.
   */
  setSync?<T = unknown>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined): void;
  /**
   * Optional: milliseconds within which every `get`, `set` and `delete` settles, for a store that bounds
   * each call with its own timeout (as `RedisStore` does). The module's L2 time limit then relies on it
   * instead of arming a second timer for each call whose limit is at least this long.
   */
  readonly settlesWithinMs?: number;
  /**
   * Stores the entry. `ttlMs` is how long the layer should keep it (the entry's remaining lifetime);
   * `undefined` keeps it until evicted.
   */
  set<T = unknown>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined): Promise<void>;
  /**
   * Optional: stores many entries together, for a store that can send them at once (as `RedisStore` does:
   * one write to the socket, one deadline). Resolves with one outcome per write, in order: `undefined` when
   * it was stored, the error otherwise; it does not reject. The cache sends the L2 writes no caller waits
   * for (race losers, background puts) through it when the store has it.
   */
  setMany?(writes: readonly StoreWrite[]): Promise<readonly unknown[]>;
  /** Removes the key; resolves whether or not it existed. */
  delete(key: string): Promise<void>;
  /** Removes every key that starts with `prefix`, or everything this store holds when no prefix is given. */
  clear?(prefix?: string): Promise<void>;
  /** Releases connections and timers the store owns. */
  close?(): Promise<void>;
}

/** One write of {@link CacheStore.setMany}: what `set(key, entry, ttlMs)` would store. */
export interface StoreWrite {
  readonly key: string;
  readonly entry: CacheEntry;
  readonly ttlMs: number | undefined;
}

/** DI token of the in-process layer. The interface and its token share one name, as in `@nestjs/throttler`. */
export const L1_STORE: unique symbol = Symbol('L1_STORE');
/** DI token of the shared layer (absent when the module runs L1 only). */
export const L2_STORE: unique symbol = Symbol('L2_STORE');
