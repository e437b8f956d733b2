import type { CacheEntry } from '../../core/cache-entry.js';
import type { CacheLayer } from '../../core/errors.js';
import { BothLayersFailedError } from '../../core/errors.js';
import { callSafely } from '../../core/promise-or-value.js';
import type { Offload } from '../../core/offload.interface.js';
import { RaceLoser } from '../race-loser.js';
import type { LayerRead, ReadHit, ReadPolicy } from './read-policy.interface.js';

/**
 * Reads both layers at once; the first hit wins and the slower read (the loser) is handed to the offload
 * service (`RaceLoser.Offload`, the default) or left unobserved (`RaceLoser.Drop`). Without a hit: two
 * errors reject with {@link BothLayersFailedError} (keeping both, unlike hitbox), one error and one miss
 * is a miss (the closure reported the error), two misses are a miss. Useful when L1 latency varies.
 *
 * @example
 * LayeredCacheModule.forRoot({ readPolicy: new RaceReadPolicy(RaceLoser.Drop) });
 */
export class RaceReadPolicy implements ReadPolicy {
  constructor(readonly loser: RaceLoser = RaceLoser.Offload) {}

  execute<T>(key: string, readL1: LayerRead<T>, readL2: LayerRead<T>, offload: Offload): Promise<ReadHit<T> | undefined> {
    // callSafely turns a closure's synchronous throw into a rejection, so it takes part in the race.
    const l1 = Promise.resolve(callSafely(readL1, key));
    const l2 = Promise.resolve(callSafely(readL2, key));
    return new Promise<ReadHit<T> | undefined>((resolve, reject) => {
      let done = false;
      let firstNoHit: { readonly failed: boolean; readonly error: unknown } | undefined;
      const onSettled = (layer: CacheLayer, entry: CacheEntry<T> | undefined, failed: boolean, error: unknown): void => {
        // After the outcome is decided, the other layer is the loser: its result must not reach the caller.
        if (done) return;
        if (entry !== undefined) {
          done = true;
          resolve({ entry, source: layer });
          // A recorded miss or error means the other layer already settled, so there is nothing to hand off.
          if (firstNoHit === undefined) this.handOffLoser(layer === 'l1' ? l2 : l1, offload);
          return;
        }
        if (firstNoHit === undefined) {
          firstNoHit = { failed, error };
          return;
        }
        done = true;
        if (!failed || !firstNoHit.failed) {
          resolve(undefined);
          return;
        }
        reject(
          layer === 'l1'
            ? new BothLayersFailedError(error, firstNoHit.error)
            : new BothLayersFailedError(firstNoHit.error, error),
        );
      };
      // Both promises are observed from here on, so a loser's later rejection is never unhandled,
      // whatever the offload service does with it.
      l1.then(
        (entry) => onSettled('l1', entry, false, undefined),
        (error: unknown) => onSettled('l1', undefined, true, error),
      );
      l2.then(
        (entry) => onSettled('l2', entry, false, undefined),
        (error: unknown) => onSettled('l2', undefined, true, error),
      );
    });
  }

  private handOffLoser(loser: Promise<unknown>, offload: Offload): void {
    if (this.loser !== RaceLoser.Offload) return;
    try {
      // A `false` (service full) needs no action: the read is already running and observed.
      // No dedup key: two losers for one key are two different writes, and drain must wait for both.
      offload.run('race-loser', () => loser);
    } catch {
      // `run` must not throw; if a custom Offload does, the caller already has its answer and the loser is
      // still observed, so letting the throw escape would only become an unhandled rejection.
    }
  }
}
