import type { CacheEntry } from '../../core/cache-entry';
import type { CacheLayer } from '../../core/errors';
import type { Offload } from '../../offload/offload.interface';

/** Reads one layer: the entry, or `undefined` on a miss. */
export type LayerRead<T = unknown> = (key: string) => Promise<CacheEntry<T> | undefined>;

/** A hit and the layer that served it. A read policy resolves to this or to `undefined` (a miss). */
export interface ReadHit<T = unknown> {
  readonly entry: CacheEntry<T>;
  readonly source: CacheLayer;
}

/**
 * Decides how a read travels across the two layers. Control flow only: the closures do the I/O and
 * report their own failures; the policy decides which failures reach the caller.
 */
export interface ReadPolicy {
  /**
   * Declare `true` only if an L1 hit is always the answer, without consulting L2 or the offload service
   * (as `SequentialReadPolicy` does). The engine then serves L1 hits from a synchronous L1 directly.
   */
  readonly servesL1HitsAlone?: boolean;
  /**
   * Declare `true` only if, once L1 has missed, the answer is exactly L2's: its entry, its miss, or its
   * rejection, without consulting the offload service (as `SequentialReadPolicy` does). When the engine
   * already knows that L1 missed, it then reads L2 without calling `execute`.
   */
  readonly answersL1MissesWithL2?: boolean;
  execute<T>(key: string, readL1: LayerRead<T>, readL2: LayerRead<T>, offload: Offload): Promise<ReadHit<T> | undefined>;
}

/** DI token of the read policy. */
export const READ_POLICY: unique symbol = Symbol('READ_POLICY');
