import { LayeredCache, MemoryStore, OffloadService } from '../../lib';

/** A cache over two in-process layers (namespace `ns`), with its parts for the test to look into. */
export function newMemoryCache(overrides: Partial<ConstructorParameters<typeof LayeredCache>[0]> = {}) {
  const l1 = new MemoryStore();
  const l2 = new MemoryStore();
  const offload = new OffloadService();
  const cache = new LayeredCache({ l1, l2, offload, namespace: 'ns', ...overrides });
  return { cache, l1, l2, offload };
}
