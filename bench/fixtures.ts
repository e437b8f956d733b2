/** Time to live of every entry the benchmarks write, in milliseconds: longer than any scenario, so that none expires while measured. */
export const TTL_MS = 600_000;

/** A catalog item of the size a typical cached service result has (about 120 bytes of JSON). */
export interface BenchItem {
  id: number;
  name: string;
  price: number;
  currency: string;
  stock: number;
  tags: string[];
}

/** A fresh item; every call allocates its own objects. */
export function makeItem(id: number): BenchItem {
  return { id, name: `Product ${id}`, price: id * 10, currency: 'EUR', stock: id % 17, tags: ['catalog', 'featured'] };
}

/** The item the latency scenarios read and write. */
export const SAMPLE_ITEM: BenchItem = makeItem(42);

/** Resolves on the next turn of the event loop, after pending I/O callbacks. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
