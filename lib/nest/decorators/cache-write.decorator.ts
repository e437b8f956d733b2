import type { CachedMethodDecorator, CacheWriteOptions } from './cached-method.definition.js';
import { createCachedMethodDecorator } from './create-cached-method.decorator.js';

/**
 * Calls the method and writes its result under the key through the write policy, then returns the
 * result. A failed write is reported as an event and never turns a successful call into an error.
 * With `background: true` the result is returned without waiting for the write. An Observable result
 * passes every emission through as it happens; its last value is written when it completes (the
 * subscriber completes after the write), nothing when it errors or is unsubscribed first.
 *
 * @example
 * \@CacheWrite({ key: (id: string) => `product:${id}` })
 * async update(id: string, patch: ProductPatch): Promise<Product> { ... }
 */
export function CacheWrite<KeyArgs extends unknown[] = never[], TagArgs extends unknown[] = never[]>(
  options: CacheWriteOptions<KeyArgs, TagArgs> = {},
): CachedMethodDecorator<KeyArgs, TagArgs> {
  // The key and tags functions are checked against the method where the decorator is applied.
  return createCachedMethodDecorator('@CacheWrite', 'write', options as CacheWriteOptions);
}
