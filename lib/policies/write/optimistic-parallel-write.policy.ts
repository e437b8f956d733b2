import { BothLayersFailedError } from '../../core/errors';
import { startLayerCall } from '../start-layer-call';
import type { Offload } from '../../offload/offload.interface';
import type { LayerWrite, WritePolicy } from './write-policy.interface';

/**
 * The default write policy: writes both layers at once and waits for both to settle. It resolves when at
 * least one layer took the value (the other layer's closure has already reported its own failure) and
 * rejects with {@link BothLayersFailedError} only when both failed.
 *
 * @example
 * LayeredCacheModule.forRoot({ writePolicy: new OptimisticParallelWritePolicy() });
 */
export class OptimisticParallelWritePolicy implements WritePolicy {
  readonly writesL2AfterL1Success = true;

  execute(key: string, writeL1: LayerWrite, writeL2: LayerWrite, _offload: Offload): Promise<void> {
    // startLayerCall turns a closure's synchronous throw into a rejection, so one broken layer cannot
    // keep the other from being written.
    const l1 = startLayerCall(writeL1, key);
    const l2 = startLayerCall(writeL2, key);
    // Joined by hand rather than with Promise.allSettled, which allocates a result object per layer on every write.
    return new Promise<void>((resolve, reject) => {
      let settled = 0;
      let l1Failure: { readonly error: unknown } | undefined;
      let l2Failure: { readonly error: unknown } | undefined;
      const onSettled = (): void => {
        if (++settled < 2) return;
        if (l1Failure !== undefined && l2Failure !== undefined) reject(new BothLayersFailedError(l1Failure.error, l2Failure.error));
        else resolve();
      };
      l1.then(onSettled, (error: unknown) => {
        l1Failure = { error };
        onSettled();
      });
      l2.then(onSettled, (error: unknown) => {
        l2Failure = { error };
        onSettled();
      });
    });
  }
}
