import type { CacheEntry } from '../../core/cache-entry';
import type { Offload } from '../../offload/offload.interface';
import type { LayerRead, ReadHit, ReadPolicy } from './read-policy.interface';

/**
 * The default read policy: L1 first, L2 only when L1 has no answer. An L1 miss or L1 error (which the
 * closure has already reported) falls through to L2; an L2 hit is returned, an L2 miss is a miss and an
 * L2 error rejects. It runs on every L1 hit, so that path allocates nothing but the returned hit.
 *
 * @example
 * LayeredCacheModule.forRoot({ readPolicy: new SequentialReadPolicy() });
 */
export class SequentialReadPolicy implements ReadPolicy {
  /** An L1 hit is the answer; subclasses that change that must set this to false. */
  readonly servesL1HitsAlone: boolean = true;
  /** After an L1 miss, L2's answer is the answer; subclasses that change that must set this to false. */
  readonly answersL1MissesWithL2: boolean = true;

  async execute<T>(
    key: string,
    readL1: LayerRead<T>,
    readL2: LayerRead<T>,
    _offload: Offload,
  ): Promise<ReadHit<T> | undefined> {
    let entry: CacheEntry<T> | undefined;
    try {
      entry = await readL1(key);
    } catch {
      // L1 is an optimisation: its failure is already reported and must not fail a read that L2 can serve.
      entry = undefined;
    }
    if (entry !== undefined) return { entry, source: 'l1' };
    entry = await readL2(key);
    return entry === undefined ? undefined : { entry, source: 'l2' };
  }
}
