export { Cacheable } from './cacheable.decorator.js';
export { CacheEvict } from './cache-evict.decorator.js';
export { CacheWrite } from './cache-write.decorator.js';
export type { CacheableOptions, CacheEvictOptions, CachedMethodDecorator, CacheKeyOption, CacheStoreOptions, CacheTagsOption, CacheWriteOptions } from './cached-method.definition.js';
export { InjectL1Store, InjectL2Store, InjectLayeredCache } from './inject.decorators.js';
