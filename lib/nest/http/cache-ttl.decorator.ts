import { type CustomDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { CACHE_TTL_METADATA } from './http-cache.constants.js';

/** Computes the time to live of a request's cached response, in milliseconds. Like `@nestjs/cache-manager`'s `CacheTTLFactory`. */
export type CacheTTLFactory = (context: ExecutionContext) => number | Promise<number>;

/**
 * Sets how long `LayeredCacheInterceptor` keeps a route's response, in **milliseconds** (as
 * `@nestjs/cache-manager` 5 and later), on a route or on a controller (a route's own wins). `0` keeps the
 * response until it is evicted, as `@CacheTTL(0)` does with `@nestjs/cache-manager`. Without it, the cache's
 * `ttl` applies (default 60 000). Writes the same metadata as `@CacheTTL` of `@nestjs/cache-manager`, so either
 * works and moving from theirs to ours is a change of import.
 *
 * @example
 * \@Get('rates')
 * \@CacheTTL(5_000)                 // five seconds
 * findRates() { ... }
 */
export const CacheTTL = (ttl: number | CacheTTLFactory): CustomDecorator<string> => SetMetadata(CACHE_TTL_METADATA, ttl);
