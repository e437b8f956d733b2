import type { CacheStore } from './cache-store.interface.js';

/** True for any object with the `CacheStore` methods (so any store, ours or a user's, is accepted). */
export function isCacheStore(value: unknown): value is CacheStore {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.get === 'function' && typeof candidate.set === 'function' && typeof candidate.delete === 'function';
}
