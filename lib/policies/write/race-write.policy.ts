import { BothLayersFailedError } from '../../core/errors.js';
import { type PromiseOrValue, isPromiseLike } from '../../core/promise-or-value.js';
import type { Offload } from '../../core/offload.interface.js';
import { RaceLoser } from '../race-loser.js';
import type { LayerWrite, WritePolicy } from './write-policy.interface.js';

/** A layer's write: ended at once (`failed` says how), or still running. */
type Started = { readonly running: Promise<void> } | { readonly running: undefined; readonly failed: boolean; readonly error?: unknown };

const ignore = (): void => undefined;

/**
 * Starts both layers' writes at once and resolves as soon as the first one succeeds; the slower write (the
 * loser) is handed to the offload service (`RaceLoser.Offload`, the default), which counts it and lets
 * `drain` wait for it, or left to finish unobserved (`RaceLoser.Drop`). If the first layer to settle
 * failed, the policy waits for the other: its success resolves, its failure rejects with
 * {@link BothLayersFailedError}. A resolved write therefore promises only that one layer holds the value.
 * With an in-process L1 that takes the value at once, the write resolves at once and L2 is the loser.
 *
 * @example
 * LayeredCacheModule.forRoot({ writePolicy: new RaceWritePolicy(RaceLoser.Drop) });
 */
export class RaceWritePolicy implements WritePolicy {
  constructor(readonly loser: RaceLoser = RaceLoser.Offload) {}

  execute(key: string, writeL1: LayerWrite, writeL2: LayerWrite, offload: Offload): PromiseOrValue<void> {
    const l1 = start(writeL1, key);
    const l2 = start(writeL2, key);
    if (l1.running === undefined) {
      if (!l1.failed) return this.lost(l2.running, offload);
      if (l2.running === undefined) return l2.failed ? Promise.reject(new BothLayersFailedError(l1.error, l2.error)) : undefined;
      return l2.running.then(undefined, (error: unknown) => {
        throw new BothLayersFailedError(l1.error, error);
      });
    }
    if (l2.running === undefined) {
      if (!l2.failed) return this.lost(l1.running, offload);
      return l1.running.then(undefined, (error: unknown) => {
        throw new BothLayersFailedError(error, l2.error);
      });
    }
    return this.race(l1.running, l2.running, offload);
  }

  private race(l1: Promise<void>, l2: Promise<void>, offload: Offload): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let firstFailure: { readonly layer: 'l1' | 'l2'; readonly error: unknown } | undefined;
      let done = false;
      const succeeded = (other: Promise<void>): void => {
        // After the outcome is decided, the other layer is the loser: its result must not reach the caller.
        if (done) return;
        done = true;
        resolve();
        // A recorded failure means the other layer already settled, so there is nothing left to hand off.
        if (firstFailure === undefined) this.lost(other, offload);
      };
      const failed = (layer: 'l1' | 'l2', error: unknown): void => {
        if (done) return;
        if (firstFailure === undefined) {
          firstFailure = { layer, error };
          return;
        }
        done = true;
        reject(layer === 'l1' ? new BothLayersFailedError(error, firstFailure.error) : new BothLayersFailedError(firstFailure.error, error));
      };
      // Both are observed from here on, so a loser's later rejection is never unhandled, whatever the offload service does.
      l1.then(() => succeeded(l2), (error: unknown) => failed('l1', error));
      l2.then(() => succeeded(l1), (error: unknown) => failed('l2', error));
    });
  }

  /** The race is won; hands a loser still running to the offload service, or leaves it to run unobserved. */
  private lost(loser: Promise<void> | undefined, offload: Offload): void {
    if (loser === undefined) return;
    loser.then(ignore, ignore);
    if (this.loser !== RaceLoser.Offload) return;
    try {
      // No dedup key: two losers for one key are two different writes, and drain must wait for both. A refusal
      // (service full) needs no action: the write is already running and observed.
      offload.run('race-loser', () => loser);
    } catch {
      // `run` must not throw; if a custom Offload does, the caller already has its answer.
    }
  }
}

function start(write: LayerWrite, key: string): Started {
  try {
    const written = write(key);
    return isPromiseLike(written) ? { running: written } : { running: undefined, failed: false };
  } catch (error) {
    return { running: undefined, failed: true, error };
  }
}
