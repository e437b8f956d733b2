import type { Offload } from '../../offload/offload.interface';
import type { LayerWrite, WritePolicy } from './write-policy.interface';

/**
 * Writes L1, then L2. The caller waits for both, so a resolved write means both layers hold the value.
 * If L1 fails, L2 is not touched and L1's error rejects. If L2 fails, its error rejects but L1 keeps the
 * new value: the layers disagree until that entry expires or is written again.
 *
 * @example
 * LayeredCacheModule.forRoot({ writePolicy: new SequentialWritePolicy() });
 */
export class SequentialWritePolicy implements WritePolicy {
  readonly writesL2AfterL1Success = true;

  async execute(key: string, writeL1: LayerWrite, writeL2: LayerWrite, _offload: Offload): Promise<void> {
    await writeL1(key);
    await writeL2(key);
  }
}
