import { describe, expect, it } from 'vitest';
import { type CacheEntry, type CacheStore, LayeredCache, MemoryStore, OffloadService, SequentialWritePolicy } from '../../lib';
import { deferred, type Deferred } from '../support/deferred';

/** A store that applies each write when the test answers it, in whatever order the test answers them. */
class HandAnsweredStore implements CacheStore {
  readonly memory = new MemoryStore();
  readonly pending: { key: string; apply: () => void; done: Deferred<void> }[] = [];
  get<T>(key: string): CacheEntry<T> | undefined {
    return this.memory.get<T>(key);
  }
  set<T>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined): Promise<void> {
    const done = deferred<void>();
    this.pending.push({ key, apply: () => this.memory.set(key, entry, ttlMs), done });
    return done.promise;
  }
  delete(key: string): Promise<void> {
    const done = deferred<void>();
    this.pending.push({ key, apply: () => this.memory.delete(key), done });
    return done.promise;
  }
  /** Applies and answers the pending operation at `index`. */
  answer(index: number): void {
    const [operation] = this.pending.splice(index, 1);
    operation.apply();
    operation.done.resolve();
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('operations on one key reach a layer in the order they were issued', () => {
  it('a custom store that would answer the second write first still ends with the second', async () => {
    const l2 = new HandAnsweredStore();
    const cache = new LayeredCache({ l1: new MemoryStore(), l2, offload: new OffloadService(), namespace: 'ns', resilience: false });
    const first = cache.set('k', 'first');
    const second = cache.set('k', 'second');
    await turn();
    // The second write waits for the first: only one is in the store's hands.
    expect(l2.pending.map((operation) => operation.key)).toEqual(['ns:k']);
    l2.answer(0);
    await first;
    await turn();
    l2.answer(0);
    await second;
    expect(l2.memory.get('ns:k')?.value).toBe('second');
  });

  it('writes of different keys do not wait for each other', async () => {
    const l2 = new HandAnsweredStore();
    const cache = new LayeredCache({ l1: new MemoryStore(), l2, offload: new OffloadService(), namespace: 'ns', resilience: false });
    void cache.set('a', 1);
    void cache.set('b', 2);
    await turn();
    expect(l2.pending.map((operation) => operation.key)).toEqual(['ns:a', 'ns:b']);
    l2.answer(1);
    l2.answer(0);
  });

  it('a delete issued while a sequential write waits for L1 reaches L2 after that write', async () => {
    const l1 = new HandAnsweredStore();
    const l2 = new MemoryStore();
    const cache = new LayeredCache({ l1, l2, offload: new OffloadService(), namespace: 'ns', writePolicy: new SequentialWritePolicy(), resilience: false });
    const written = cache.set('k', 'v');
    const deleted = cache.delete('k');
    await turn();
    // L1 has both; L2 has neither yet: the delete holds its place behind the write, which waits for L1.
    expect(l2.get('ns:k')).toBeUndefined();
    l1.answer(0);
    await written;
    await turn();
    l1.answer(0);
    await deleted;
    expect(l2.get('ns:k')).toBeUndefined();
    expect(l1.memory.get('ns:k')).toBeUndefined();
  });
});
