import type { CacheStore } from '../stores/cache-store.interface';
import type { CacheEntry } from './cache-entry';
import { type PromiseOrValue, isPromiseLike } from './promise-or-value';

const ignore = (): void => undefined;

/**
 * Keeps the operations on one key of a store in the order they were issued, whatever order the store
 * answers in: a write or delete of a key starts once the previous write or delete of that key has settled,
 * a read of a key waits for the writes of it issued before, and a clear waits for the writes it covers
 * (and holds back the ones issued after it). Reads do not wait for each other, and keys never wait for other
 * keys. A store that answers at once never waits, so an in-process layer costs one map look-up per call.
 *
 * Without it, a store that answers its second write first (a custom store, a queue, a store with
 * reconnects) could keep the first, and a read answered before an earlier write landed would refill L1
 * with the value that write replaced.
 * @internal
 */
export class KeyOrderedStore implements CacheStore {
  /** The last write or delete of each key that has not settled yet, observed (it never rejects). */
  private readonly writing = new Map<string, Promise<void>>();
  /** Clears that have not settled yet, with the prefix each covers (`undefined`: every key). */
  private clearing: { readonly prefix: string | undefined; readonly done: Promise<void> }[] = [];

  constructor(readonly inner: CacheStore) {}

  get<T>(key: string): PromiseOrValue<CacheEntry<T> | undefined> {
    const before = this.pendingBefore(key);
    return before === undefined ? this.inner.get<T>(key) : before.then(() => this.inner.get<T>(key));
  }

  set<T>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined): PromiseOrValue<void> {
    return this.write(key, () => this.inner.set(key, entry, ttlMs));
  }

  delete(key: string): PromiseOrValue<void> {
    return this.write(key, () => this.inner.delete(key));
  }

  clear(prefix?: string): PromiseOrValue<void> {
    const covered: Promise<void>[] = [];
    for (const [key, pending] of this.writing) if (prefix === undefined || key.startsWith(prefix)) covered.push(pending);
    for (const earlier of this.clearing) covered.push(earlier.done);
    const run = (): PromiseOrValue<void> => (this.inner.clear === undefined ? undefined : this.inner.clear(prefix));
    const cleared = covered.length === 0 ? run() : Promise.all(covered).then(run);
    if (!isPromiseLike(cleared)) return cleared;
    const done = cleared.then(ignore, ignore);
    const clear = { prefix, done };
    this.clearing.push(clear);
    void done.then(() => {
      this.clearing = this.clearing.filter((other) => other !== clear);
    });
    return cleared;
  }

  close(): PromiseOrValue<void> {
    return this.inner.close?.();
  }

  private write(key: string, run: () => PromiseOrValue<void>): PromiseOrValue<void> {
    const before = this.pendingBefore(key);
    const written = before === undefined ? run() : before.then(run);
    if (!isPromiseLike(written)) return written;
    const settled = written.then(ignore, ignore);
    this.writing.set(key, settled);
    void settled.then(() => {
      if (this.writing.get(key) === settled) this.writing.delete(key);
    });
    return written;
  }

  /** What an operation on `key` must wait for: the unsettled write of it and the clears that cover it. */
  private pendingBefore(key: string): Promise<unknown> | undefined {
    const writing = this.writing.size === 0 ? undefined : this.writing.get(key);
    if (this.clearing.length === 0) return writing;
    const waits: Promise<unknown>[] = writing === undefined ? [] : [writing];
    for (const clear of this.clearing) if (clear.prefix === undefined || key.startsWith(clear.prefix)) waits.push(clear.done);
    return waits.length === 0 ? undefined : waits.length === 1 ? waits[0] : Promise.all(waits);
  }
}
