import { type CustomDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { CACHE_KEY_METADATA } from './http-cache.constants.js';

/**
 * Computes the cache key of a request; `undefined`, `null` or `''` serves the request without the cache.
 * The same shape as `@nestjs/cache-manager`'s `CacheKeyFactory`.
 */
export type CacheKeyFactory = (context: ExecutionContext) => string | null | undefined | Promise<string | null | undefined>;

/**
 * Sets the key under which `LayeredCacheInterceptor` caches a route's response, instead of the request URL.
 * Writes the same metadata as `@CacheKey` of `@nestjs/cache-manager`, so either works on a route and moving
 * from theirs to ours is a change of import. A fixed key is one entry for every request of the route
 * (whatever its parameters or query); a factory can build the key from the request.
 *
 * @example
 * \@Get('settings')
 * \@CacheKey('settings')
 * findSettings() { ... }
 */
export const CacheKey = (key: string | CacheKeyFactory): CustomDecorator<string> => SetMetadata(CACHE_KEY_METADATA, key);
