export { ChaosError, ChaosStore } from './chaos.store';
export type { ChaosOperation, ChaosStoreOptions, ChaosStoreStats } from './chaos.store';
