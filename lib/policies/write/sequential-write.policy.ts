import { type PromiseOrValue, callSafely, isPromiseLike } from '../../core/promise-or-value.js';
import type { Offload } from '../../core/offload.interface.js';
import type { LayerWrite, WritePolicy } from './write-policy.interface.js';

/**
 * Writes L1, then L2. The caller waits for both, so a resolved write means both layers hold the value.
 * If L1 fails, L2 is not touched and L1's error rejects. If L2 fails, its error rejects but L1 keeps the
 * new value: the layers disagree until that entry expires or is written again.
 *
 * @example
 * LayeredCacheModule.forRoot({ writePolicy: new SequentialWritePolicy() });
 */
export class SequentialWritePolicy implements WritePolicy {
  execute(key: string, writeL1: LayerWrite, writeL2: LayerWrite, _offload: Offload): PromiseOrValue<void> {
    let l1: PromiseOrValue<void>;
    try {
      l1 = writeL1(key);
    } catch (error) {
      return Promise.reject(error);
    }
    return isPromiseLike(l1) ? l1.then(() => writeL2(key)) : callSafely(writeL2, key);
  }
}
