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
  async execute(key: string, writeL1: LayerWrite, writeL2: LayerWrite, _offload: Offload): Promise<void> {
    // startLayerCall turns a closure's synchronous throw into a rejection, so one broken layer cannot
    // keep the other from being written.
    const [l1, l2] = await Promise.allSettled([
      startLayerCall(writeL1, key),
      startLayerCall(writeL2, key),
    ]);
    if (l1.status === 'rejected' && l2.status === 'rejected') {
      throw new BothLayersFailedError(l1.reason, l2.reason);
    }
  }
}
