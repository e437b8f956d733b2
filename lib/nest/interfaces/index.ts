export type { LayeredCacheModuleOptions } from './layered-cache-module-options.interface.js';
