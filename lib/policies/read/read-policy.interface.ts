import type { CacheEntry } from '../../core/cache-entry.js';
import type { CacheLayer } from '../../core/errors.js';
import type { PromiseOrValue } from '../../core/promise-or-value.js';
import type { Offload } from '../../core/offload.interface.js';

/**
 * Reads one layer: the entry, or `undefined` on a miss. An in-process layer answers at once, a remote one
 * with a promise; a failure throws or rejects (the closure has already reported it).
 */
export type LayerRead<T = unknown> = (key: string) => PromiseOrValue<CacheEntry<T> | undefined>;

/** A hit and the layer that served it. A read policy resolves to this or to `undefined` (a miss). */
export interface ReadHit<T = unknown> {
  readonly entry: CacheEntry<T>;
  readonly source: CacheLayer;
}

/**
 * Decides how a read travels across the two layers. Control flow only: the closures do the I/O and
 * report their own failures; the policy decides which failures reach the caller. The cache calls
 * `execute` for every read. Returning a plain value when both closures answered at once keeps an
 * in-process hit free of promises; returning a promise is always allowed.
 */
export interface ReadPolicy {
  execute<T>(key: string, readL1: LayerRead<T>, readL2: LayerRead<T>, offload: Offload): PromiseOrValue<ReadHit<T> | undefined>;
}
