import { BothLayersFailedError } from '../../core/errors.js';
import { type PromiseOrValue, isPromiseLike } from '../../core/promise-or-value.js';
import type { Offload } from '../../core/offload.interface.js';
import type { LayerWrite, WritePolicy } from './write-policy.interface.js';

/** How one layer's write ended, when it ended at once. */
type Outcome = { readonly failed: false } | { readonly failed: true; readonly error: unknown };

const WRITTEN: Outcome = { failed: false };

/**
 * The default write policy: writes both layers at once and waits for both to settle. It resolves when at
 * least one layer took the value (the other layer's closure has already reported its own failure) and
 * rejects with {@link BothLayersFailedError} only when both failed.
 *
 * @example
 * LayeredCacheModule.forRoot({ writePolicy: new OptimisticParallelWritePolicy() });
 */
export class OptimisticParallelWritePolicy implements WritePolicy {
  execute(key: string, writeL1: LayerWrite, writeL2: LayerWrite, _offload: Offload): PromiseOrValue<void> {
    // Both closures are called before either is awaited, and one that throws cannot keep the other from running.
    const l1 = attempt(writeL1, key);
    const l2 = attempt(writeL2, key);
    if (!isPromiseLike(l1) && !isPromiseLike(l2)) return l1.failed && l2.failed ? Promise.reject(new BothLayersFailedError(l1.error, l2.error)) : undefined;
    return Promise.all([l1, l2]).then(([fromL1, fromL2]) => joined(fromL1, fromL2));
  }
}

function attempt(write: LayerWrite, key: string): Outcome | Promise<Outcome> {
  let written: PromiseOrValue<void>;
  try {
    written = write(key);
  } catch (error) {
    return { failed: true, error };
  }
  return isPromiseLike(written) ? written.then(() => WRITTEN, (error: unknown) => ({ failed: true, error })) : WRITTEN;
}

function joined(l1: Outcome, l2: Outcome): void {
  if (l1.failed && l2.failed) throw new BothLayersFailedError(l1.error, l2.error);
}
