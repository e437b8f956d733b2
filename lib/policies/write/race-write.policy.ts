import type { CacheLayer } from '../../core/errors';
import { BothLayersFailedError } from '../../core/errors';
import { startLayerCall } from '../start-layer-call';
import type { Offload } from '../../offload/offload.interface';
import { RaceLoser } from '../race-loser';
import type { LayerWrite, WritePolicy } from './write-policy.interface';

/**
 * Writes both layers at once and resolves as soon as the first one succeeds. The slower write (the loser)
 * is handed to the offload service (`RaceLoser.Offload`, the default) or left to finish unobserved
 * (`RaceLoser.Drop`). If the first layer to settle failed, the policy waits for the other: its success
 * resolves, its failure rejects with {@link BothLayersFailedError}. A resolved write therefore promises
 * only that one layer holds the value.
 *
 * @example
 * LayeredCacheModule.forRoot({ writePolicy: new RaceWritePolicy(RaceLoser.Drop) });
 */
export class RaceWritePolicy implements WritePolicy {
  constructor(readonly loser: RaceLoser = RaceLoser.Offload) {}

  execute(key: string, writeL1: LayerWrite, writeL2: LayerWrite, offload: Offload): Promise<void> {
    // startLayerCall turns a closure's synchronous throw into a rejection, so it takes part in the race.
    const l1 = startLayerCall(writeL1, key);
    const l2 = startLayerCall(writeL2, key);
    return new Promise<void>((resolve, reject) => {
      let done = false;
      let firstFailure: { readonly layer: CacheLayer; readonly error: unknown } | undefined;
      const onSettled = (layer: CacheLayer, failed: boolean, error: unknown): void => {
        // After the outcome is decided, the other layer is the loser: its result must not reach the caller.
        if (done) return;
        if (!failed) {
          done = true;
          resolve();
          // A recorded failure means the other layer already settled, so there is nothing left to hand off.
          if (firstFailure === undefined) this.handOffLoser(layer === 'l1' ? l2 : l1, offload);
          return;
        }
        if (firstFailure === undefined) {
          firstFailure = { layer, error };
          return;
        }
        done = true;
        reject(
          layer === 'l1'
            ? new BothLayersFailedError(error, firstFailure.error)
            : new BothLayersFailedError(firstFailure.error, error),
        );
      };
      // Both promises are observed from here on, so a loser's later rejection is never unhandled,
      // whatever the offload service does with it.
      l1.then(
        () => onSettled('l1', false, undefined),
        (error: unknown) => onSettled('l1', true, error),
      );
      l2.then(
        () => onSettled('l2', false, undefined),
        (error: unknown) => onSettled('l2', true, error),
      );
    });
  }

  private handOffLoser(loser: Promise<void>, offload: Offload): void {
    if (this.loser !== RaceLoser.Offload) return;
    try {
      // A `false` (service full) needs no action: the write is already running and observed.
      // No dedup key: two losers for one key are two different writes, and drain must wait for both.
      offload.run('race-loser', () => loser);
    } catch {
      // `run` must not throw; if a custom Offload does, the caller already has its answer and the loser is
      // still observed, so letting the throw escape would only become an unhandled rejection.
    }
  }
}
