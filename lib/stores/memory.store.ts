import { LRUCache } from 'lru-cache';
import type { CacheEntry } from '../core/cache-entry.js';
import { entryBytes } from '../core/entry-size.js';
import { INVALID_POSITIVE_INTEGER_OPTION, MEMORY_STORE_SIZE_OF_WITHOUT_MAX_SIZE, MEMORY_STORE_TWO_SIZE_BOUNDS } from '../core/messages.js';
import type { CacheStore } from './cache-store.interface.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Most entries kept; the least recently used is evicted beyond it. Default 10 000. */
  maxEntries?: number;
  /**
   * Optional bound on the total size of the entries in bytes: the least recently used are evicted beyond
   * it, and an entry larger than the whole bound is not stored (the key then holds nothing). An entry's
   * size is the length of its text in L2, which the cache knows for every value it writes with an L2 (the
   * text it just made) and every L2 hit it copies into L1 ({@link CacheEntry.encodedLength}), so measuring
   * costs nothing; an entry
   * without one (an L1-only cache) is estimated by a walk of its value (see `estimateValueBytes`), never
   * by serializing it. The objects a value is made of take more heap than its text, commonly 2 to 4 times:
   * size the bound accordingly. Not with `maxSize`.
   */
  maxBytes?: number;
  /**
   * The same bound in a unit of your own: `sizeOf` gives each entry's size. Without `sizeOf` it is in bytes,
   * measured as for `maxBytes`. Not with `maxBytes`.
   */
  maxSize?: number;
  /** Size of one entry for `maxSize`, in its unit; only with `maxSize`. */
  sizeOf?: (entry: CacheEntry, key: string) => number;
  /**
   * Values are kept by reference by default, which is fastest but means that mutating an object after
   * caching it (or after reading it) changes the cached value for every caller. `true` stores and
   * returns `structuredClone` copies instead.
   */
  clone?: boolean;
}

/**
 * In-process LRU layer on `lru-cache`, bounded by entry count and optionally by bytes, with per-entry TTL.
 *
 * @example
 * const l1 = new MemoryStore({ maxEntries: 50_000, maxBytes: 64 * 1024 * 1024, clone: true });
 */
export class MemoryStore implements CacheStore {
  private readonly lru: LRUCache<string, CacheEntry>;
  private readonly clone: boolean;
  /** True when the entries are measured in bytes (`maxBytes`, or `maxSize` without `sizeOf`). */
  private readonly measuresBytes: boolean;

  constructor(options: MemoryStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 10_000;
    assertPositiveInteger('maxEntries', maxEntries);
    if (options.maxBytes !== undefined && options.maxSize !== undefined) throw new RangeError(MEMORY_STORE_TWO_SIZE_BOUNDS);
    if (options.sizeOf !== undefined && options.maxSize === undefined) throw new RangeError(MEMORY_STORE_SIZE_OF_WITHOUT_MAX_SIZE);
    if (options.maxBytes !== undefined) assertPositiveInteger('maxBytes', options.maxBytes);
    if (options.maxSize !== undefined) assertPositiveInteger('maxSize', options.maxSize);
    this.clone = options.clone ?? false;
    const maxSize = options.maxBytes ?? options.maxSize;
    const sizeOf = options.sizeOf;
    this.measuresBytes = maxSize !== undefined && sizeOf === undefined;
    this.lru = new LRUCache<string, CacheEntry>({
      max: maxEntries,
      ...(maxSize !== undefined
        ? {
            maxSize,
            maxEntrySize: maxSize,
            sizeCalculation: sizeOf === undefined ? entryBytes : (entry: CacheEntry, key: string) => Math.max(1, sizeOf(entry, key)),
          }
        : {}),
    });
  }

  /** Number of entries held now. */
  get size(): number {
    return this.lru.size;
  }

  /**
   * Total size of the entries held now, in bytes as `maxBytes` counts them; `undefined` without a bound in
   * bytes: entries are then not measured, and measuring them only to report it would cost a walk of each value.
   */
  get bytes(): number | undefined {
    return this.measuresBytes ? this.lru.calculatedSize : undefined;
  }

  /** The entry (a copy with `clone`), or `undefined` when absent or expired; answered at once. */
  get<T>(key: string): CacheEntry<T> | undefined {
    const entry = this.lru.get(key) as CacheEntry<T> | undefined;
    if (entry === undefined || !this.clone) return entry;
    return { ...entry, value: structuredClone(entry.value) };
  }

  /** Stores the entry at once; a `ttlMs` of 0 or less removes the key. */
  set<T>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined): void {
    if (ttlMs !== undefined && ttlMs <= 0) {
      this.lru.delete(key);
      return;
    }
    const stored = this.clone ? { ...entry, value: structuredClone(entry.value) } : entry;
    this.lru.set(key, stored, ttlMs === undefined ? undefined : { ttl: Math.ceil(ttlMs) });
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  clear(prefix?: string): void {
    if (prefix === undefined || prefix === '') {
      this.lru.clear();
    } else {
      for (const key of this.lru.keys()) {
        if (key.startsWith(prefix)) this.lru.delete(key);
      }
    }
  }

  close(): void {
    this.lru.clear();
  }
}

function assertPositiveInteger(option: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(INVALID_POSITIVE_INTEGER_OPTION('MemoryStore', option, value));
}
