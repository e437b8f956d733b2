import type { CacheableOptions } from './cached-method.definition';
import { createCachedMethodDecorator } from './create-cached-method.decorator';

/**
 * Serves the method from the cache: reads through the layers, and on a miss calls the method once
 * (concurrent callers with the same key share that call) and caches its result. Works on any provider,
 * for methods that return a Promise or an rxjs Observable (the value it emits last is cached).
 * `undefined` results are not cached; cache failures fall back to calling the method.
 *
 * @example
 * \@Cacheable({ key: (id: string) => `product:${id}`, ttl: 30_000 })
 * async findOne(id: string): Promise<Product> { ... }
 */
export function Cacheable(options: CacheableOptions = {}): MethodDecorator {
  return createCachedMethodDecorator('@Cacheable', 'cacheable', options);
}
