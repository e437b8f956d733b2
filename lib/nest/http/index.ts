export { LayeredCacheInterceptor } from './layered-cache.interceptor.js';
export { CacheKey } from './cache-key.decorator.js';
export type { CacheKeyFactory } from './cache-key.decorator.js';
export { CacheTTL } from './cache-ttl.decorator.js';
export type { CacheTTLFactory } from './cache-ttl.decorator.js';
export { CACHE_KEY_METADATA, CACHE_TTL_METADATA } from './http-cache.constants.js';
