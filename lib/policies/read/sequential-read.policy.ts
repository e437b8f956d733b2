import type { CacheEntry } from '../../core/cache-entry.js';
import { type PromiseOrValue, callSafely, isPromiseLike } from '../../core/promise-or-value.js';
import type { Offload } from '../../core/offload.interface.js';
import type { LayerRead, ReadHit, ReadPolicy } from './read-policy.interface.js';

/**
 * The default read policy: L1 first, L2 only when L1 has no answer. An L1 miss or L1 error (which the
 * closure has already reported) falls through to L2; an L2 hit is returned, an L2 miss is a miss and an
 * L2 error rejects. An L1 that answers at once is answered at once, without a promise.
 *
 * @example
 * LayeredCacheModule.forRoot({ readPolicy: new SequentialReadPolicy() });
 */
export class SequentialReadPolicy implements ReadPolicy {
  execute<T>(key: string, readL1: LayerRead<T>, readL2: LayerRead<T>, _offload: Offload): PromiseOrValue<ReadHit<T> | undefined> {
    let fromL1: PromiseOrValue<CacheEntry<T> | undefined>;
    try {
      fromL1 = readL1(key);
    } catch {
      // L1 is an optimisation: its failure is already reported and must not fail a read that L2 can serve.
      return readFromL2(key, readL2);
    }
    if (isPromiseLike(fromL1)) {
      return fromL1.then(
        (entry) => (entry === undefined ? readFromL2(key, readL2) : { entry, source: 'l1' }),
        () => readFromL2(key, readL2),
      );
    }
    return fromL1 === undefined ? readFromL2(key, readL2) : { entry: fromL1, source: 'l1' };
  }
}

function readFromL2<T>(key: string, readL2: LayerRead<T>): PromiseOrValue<ReadHit<T> | undefined> {
  const fromL2 = callSafely(readL2, key);
  return isPromiseLike(fromL2) ? fromL2.then(l2Hit) : l2Hit(fromL2);
}

function l2Hit<T>(entry: CacheEntry<T> | undefined): ReadHit<T> | undefined {
  return entry === undefined ? undefined : { entry, source: 'l2' };
}
