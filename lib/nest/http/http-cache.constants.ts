/**
 * Metadata key of `@CacheKey`. It is the key `@nestjs/cache-manager` uses, so `LayeredCacheInterceptor` reads
 * routes decorated with either package's `@CacheKey`, and our decorator can replace theirs with one import.
 */
export const CACHE_KEY_METADATA = 'cache_module:cache_key';

/** Metadata key of `@CacheTTL`, the one `@nestjs/cache-manager` uses (see {@link CACHE_KEY_METADATA}). */
export const CACHE_TTL_METADATA = 'cache_module:cache_ttl';
