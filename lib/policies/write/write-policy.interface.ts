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
   * Declare `true` only if, once the L1 write has succeeded, the policy resolves without waiting for L2 and
   * hands an L2 write it has not started to `writeL2InBackground` (as `RaceWritePolicy` does). When the
   * engine can write L1 synchronously (an in-process L1) and that write succeeds, it then resolves at once
   * and queues the L2 write with the background writes itself, without calling `execute`.
   */
  readonly settlesOnL1Success?: boolean;
  /**
   * Declare `true` only if the policy writes L2 whenever the L1 write has succeeded (as the built-in
   * policies do). For a write no caller waits for (a background put), the engine then writes a synchronous
   * L1 and queues the L2 write with the background writes itself, without calling `execute`.
   */
  readonly writesL2AfterL1Success?: boolean;
  /**
   * @param writeL2InBackground Given by the cache when L2 writes can be batched: a policy that leaves an
   *   L2 write to the background (a race loser) may hand it over with this instead of `offload.run`.
   */
  execute(key: string, writeL1: LayerWrite, writeL2: LayerWrite, offload: Offload, writeL2InBackground?: LayerBackgroundWrite): Promise<void>;
}

/** DI token of the write policy. */
export const WRITE_POLICY: unique symbol = Symbol('WRITE_POLICY');
