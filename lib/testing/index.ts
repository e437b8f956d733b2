export { ChaosError, ChaosStore } from './chaos.store.js';
export type { ChaosOperation, ChaosStoreOptions, ChaosStoreStats } from './chaos.store.js';
