import type { CacheEntry, CacheStore } from '../../lib';

/** Wraps a store and delays chosen operations, to make one layer slow on purpose. */
export class DelayedStore implements CacheStore {
  constructor(
    readonly inner: CacheStore,
    private readonly delays: { get?: number; set?: number; delete?: number },
  ) {}

  async get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    if (this.delays.get) await new Promise((r) => setTimeout(r, this.delays.get));
    return this.inner.get<T>(key);
  }

  async set<T>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined): Promise<void> {
    if (this.delays.set) await new Promise((r) => setTimeout(r, this.delays.set));
    return this.inner.set(key, entry, ttlMs);
  }

  async delete(key: string): Promise<void> {
    if (this.delays.delete) await new Promise((r) => setTimeout(r, this.delays.delete));
    return this.inner.delete(key);
  }

  async clear(prefix?: string): Promise<void> {
    await this.inner.clear?.(prefix);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

/** A store whose every operation fails with `error`. */
export class FailingStore implements CacheStore {
  calls = 0;
  constructor(private readonly error: Error) {}
  get<T>(): Promise<CacheEntry<T> | undefined> {
    this.calls++;
    return Promise.reject(this.error);
  }
  set(): Promise<void> {
    this.calls++;
    return Promise.reject(this.error);
  }
  delete(): Promise<void> {
    this.calls++;
    return Promise.reject(this.error);
  }
}
