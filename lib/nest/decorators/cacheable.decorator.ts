import type { CachedMethodDecorator, CacheableOptions } from './cached-method.definition.js';
import { createCachedMethodDecorator } from './create-cached-method.decorator.js';

/**
 * Serves the method from the cache: reads through the layers, and on a miss calls the method once
 * (concurrent callers with the same key share that call) and caches its result. Works on any provider,
 * for methods that are `async` or declare a `Promise` or rxjs `Observable` return type; any other method
 * is refused at startup. For an Observable, a hit emits the cached value and completes; a miss delivers
 * every emission as it happens (callers that miss the same key meanwhile share one subscription) and
 * caches the last value when it completes. A source that errors, is unsubscribed by all its subscribers,
 * or does not complete within `hardTimeoutMs` is not cached, and the next call runs the method again.
 * `undefined` results are not cached; cache failures fall back to calling the method.
 *
 * @example
 * \@Cacheable({ key: (id: string) => `product:${id}`, ttl: 30_000 })
 * async findOne(id: string): Promise<Product> { ... }
 */
export function Cacheable<KeyArgs extends unknown[] = never[], TagArgs extends unknown[] = never[]>(
  options: CacheableOptions<KeyArgs, TagArgs> = {},
): CachedMethodDecorator<KeyArgs, TagArgs> {
  // The key and tags functions are checked against the method where the decorator is applied.
  return createCachedMethodDecorator('@Cacheable', 'cacheable', options as CacheableOptions);
}
