import type { CachedMethodDecorator, CacheEvictOptions } from './cached-method.definition.js';
import { createCachedMethodDecorator } from './create-cached-method.decorator.js';

/**
 * Deletes the key(s) from both layers after the method succeeds (or before it runs, with
 * `beforeInvocation: true`). A failed delete is reported as an event and never fails the call. An
 * Observable result passes every emission through; the key is deleted when it completes, not when it
 * errors or is unsubscribed first.
 *
 * @example
 * \@CacheEvict({ key: (id: string) => `product:${id}` })
 * async remove(id: string): Promise<void> { ... }
 */
export function CacheEvict<KeyArgs extends unknown[] = never[], TagArgs extends unknown[] = never[]>(
  options: CacheEvictOptions<KeyArgs, TagArgs> = {},
): CachedMethodDecorator<KeyArgs, TagArgs> {
  // The key and tags functions are checked against the method where the decorator is applied.
  return createCachedMethodDecorator('@CacheEvict', 'evict', options as CacheEvictOptions);
}
