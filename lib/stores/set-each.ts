import type { CacheStore, StoreWrite } from './cache-store.interface';

/**
 * Stores each write and resolves with its outcome (`undefined` when stored, otherwise its error); does not
 * reject. Uses the store's `setMany` when it has one, otherwise one `set` per write, all at once.
 */
export function setEach(store: CacheStore, writes: readonly StoreWrite[]): Promise<readonly unknown[]> {
  if (store.setMany !== undefined) return store.setMany(writes);
  return Promise.all(
    writes.map((write) => {
      try {
        return store.set(write.key, write.entry, write.ttlMs).then(stored, failed);
      } catch (error) {
        return error;
      }
    }),
  );
}

function stored(): undefined {
  return undefined;
}

function failed(error: unknown): unknown {
  return error;
}
