/**
 * How other instances learn that their L1 copy of a key is stale (DESIGN section 9).
 *
 * - `'tracking'`: Redis server-assisted client-side caching. Redis itself tells every instance of every
 *   change of a key under the namespace, made by any client, at no extra command per write.
 * - `'pubsub'`: each instance publishes the keys (never the values) it changed in Redis on a channel of
 *   the namespace, one message per batch.
 * - `'auto'`: tracking where the server allows it, else pub/sub.
 */
export type InvalidationMode = 'tracking' | 'pubsub' | 'auto';

/** What an {@link InvalidationBus} tells the cache of changes made by other instances (or other clients). */
export interface InvalidationListener {
  /** These keys (full keys, as stored in the layers) changed elsewhere: an L1 copy of them is stale. */
  keysChanged(keys: readonly string[]): void;
  /** Every key under `prefix` changed elsewhere (a clear); `undefined`: every key (a flush of the database). */
  cleared(prefix: string | undefined): void;
  /**
   * Messages may have been lost (the bus was disconnected and is listening again): no L1 entry can be
   * trusted to be fresh.
   */
  lost(): void;
  /** Something went wrong that the bus recovers from by itself (it keeps trying): reported as an error. */
  failed(error: Error): void;
  /** A change worth a log line, such as falling back from tracking to pub/sub. */
  notice(message: string): void;
}

/**
 * Carries invalidations between the instances that share an L2. The cache starts it with the prefix of
 * its keys and a listener, tells it of each change it made in L2 (after L2 acknowledged it), and closes it
 * at shutdown. A bus never calls the listener for changes the same cache announced.
 *
 * @example
 * // A bus over a message broker the application already runs.
 * class NatsInvalidationBus implements InvalidationBus {
 *   readonly description = 'NATS subject cache.invalidate';
 *   async start(prefix: string, listener: InvalidationListener) { ... }
 *   announceChanged(key: string) { ... }
 *   announceCleared(prefix: string | undefined) { ... }
 *   async close() { ... }
 * }
 */
export interface InvalidationBus {
  /** What the startup line says about it, e.g. `Redis tracking (BCAST, prefix "shop:")`. */
  readonly description: string;
  /**
   * Starts delivering changes of keys under `prefix` made elsewhere. Resolves once it is listening, or
   * once it has said why it cannot yet (it keeps trying in the background and calls `lost` when it starts
   * listening late). Must not reject while the shared layer is merely unreachable.
   */
  start(prefix: string, listener: InvalidationListener): Promise<void>;
  /**
   * This cache changed `key` in L2 (`version`: of the write or delete, when it has one). A bus that learns
   * of changes by itself (Redis tracking) leaves this out, and the cache then adds no work to a write.
   */
  announceChanged?(key: string, version: string | undefined): void;
  /** This cache cleared every key under `prefix` (`undefined`: every key) in L2. */
  announceCleared?(prefix: string | undefined): void;
  /** Stops listening and releases its connections. */
  close(): Promise<void>;
}

/** A shared layer that can build an {@link InvalidationBus} over its own connection (`RedisStore`). */
export interface InvalidationSource {
  createInvalidationBus(mode: InvalidationMode): InvalidationBus;
}

/** True for stores that can build an invalidation bus. */
export function isInvalidationSource(store: unknown): store is InvalidationSource {
  return typeof store === 'object' && store !== null && typeof (store as Partial<InvalidationSource>).createInvalidationBus === 'function';
}
