import type { CacheEntry } from '../../core/cache-entry.js';
import { BothLayersFailedError } from '../../core/errors.js';
import { callSafely } from '../../core/promise-or-value.js';
import type { Offload } from '../../core/offload.interface.js';
import type { LayerRead, ReadHit, ReadPolicy } from './read-policy.interface.js';

/**
 * Reads both layers at once and waits for both. When both hit it keeps the entry that lives longer
 * (no expiry counts as latest; ties go to L1), so a fresher L2 entry wins over an older L1 copy. One hit
 * is returned as is. Without a hit: two errors reject with {@link BothLayersFailedError}, anything else is
 * a miss (the closures reported their errors).
 *
 * @example
 * LayeredCacheModule.forRoot({ readPolicy: new ParallelReadPolicy() });
 */
export class ParallelReadPolicy implements ReadPolicy {
  async execute<T>(
    key: string,
    readL1: LayerRead<T>,
    readL2: LayerRead<T>,
    _offload: Offload,
  ): Promise<ReadHit<T> | undefined> {
    // callSafely turns a closure's synchronous throw into a rejection, so the other layer still answers.
    const [l1, l2] = await Promise.allSettled([
      Promise.resolve(callSafely(readL1, key)),
      Promise.resolve(callSafely(readL2, key)),
    ]);
    const fromL1 = l1.status === 'fulfilled' ? l1.value : undefined;
    const fromL2 = l2.status === 'fulfilled' ? l2.value : undefined;
    if (fromL1 !== undefined && (fromL2 === undefined || !expiresLater(fromL2, fromL1))) {
      return { entry: fromL1, source: 'l1' };
    }
    if (fromL2 !== undefined) return { entry: fromL2, source: 'l2' };
    if (l1.status === 'rejected' && l2.status === 'rejected') throw new BothLayersFailedError(l1.reason, l2.reason);
    return undefined;
  }
}

/** True when `a` outlives `b`; `expiresAt: null` (never expires) outlives any expiry. */
function expiresLater(a: CacheEntry, b: CacheEntry): boolean {
  if (a.expiresAt === null) return b.expiresAt !== null;
  return b.expiresAt !== null && a.expiresAt > b.expiresAt;
}
