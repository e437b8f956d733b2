export { KeyvLayeredCache } from './keyv-layered-cache.js';
export type { KeyvLayeredCacheOptions, KeyvOptionsOnLayers } from './keyv-layered-cache.js';
