import type { Offload } from '../../offload/offload.interface';

/** Writes one layer; receives the key so that one closure can serve many calls. */
export type LayerWrite = (key: string) => Promise<void>;

/**
 * Sends one layer's write in the background, together with the other writes no caller waits for (one
 * background task per batch, which the offload service's `drain()` waits for). It reports its own outcome.
 */
export type LayerBackgroundWrite = (key: string) => void;

/**
 * Decides how a write travels across the two layers. It owns control flow only: the closures do the I/O
 * (and report their own failures), so the same policy works for any layer pair, nested ones included.
 */
export interface WritePolicy {
  /**
   * @param writeL2InBackground Given by the cache when L2 writes can be batched: a policy that leaves an
   *   L2 write to the background (a race loser) may hand it over with this instead of `offload.run`.
   */
  execute(key: string, writeL1: LayerWrite, writeL2: LayerWrite, offload: Offload, writeL2InBackground?: LayerBackgroundWrite): Promise<void>;
}

/** DI token of the write policy. */
export const WRITE_POLICY: unique symbol = Symbol('WRITE_POLICY');
