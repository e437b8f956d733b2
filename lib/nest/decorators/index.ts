export { Cacheable } from './cacheable.decorator';
export { CacheEvict } from './cache-evict.decorator';
export { CacheWrite } from './cache-write.decorator';
export type { CacheableOptions, CacheEvictOptions, CachedMethodDecorator, CacheKeyOption, CacheStoreOptions, CacheTagsOption, CacheWriteOptions } from './cached-method.definition';
export { InjectL1Store, InjectL2Store } from './inject-store.decorator';
