// The `nestjs-layered-cache/terminus` entry: the health indicator for @nestjs/terminus, an optional peer
// dependency, kept out of the root entry so that the root loads without it. The report it is built on,
// `inspectCacheHealth`, is in the root entry.

export { LayeredCacheHealthIndicator } from './layered-cache.health-indicator.js';
export type { LayeredCacheHealthOptions } from './layered-cache.health-indicator.js';
