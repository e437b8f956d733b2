import { LRUCache } from 'lru-cache';
import type { CacheEntry } from '../core/cache-entry';
import { INVALID_POSITIVE_INTEGER_OPTION } from '../core/messages';
import type { CacheStore } from './cache-store.interface';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Most entries kept; the least recently used is evicted beyond it. Default 10 000. */
  maxEntries?: number;
  /**
   * Optional bound on the total size of the entries, in the unit `sizeOf` returns (for example bytes).
   * Entries larger than the bound are not stored.
   */
  maxSize?: number;
  /** Size of one entry for `maxSize`. Default: UTF-16 length of a string value, else of its JSON text. */
  sizeOf?: (entry: CacheEntry, key: string) => number;
  /**
   * Values are kept by reference by default, which is fastest but means that mutating an object after
   * caching it (or after reading it) changes the cached value for every caller. `true` stores and
   * returns `structuredClone` copies instead.
   */
  clone?: boolean;
}

/**
 * In-process LRU layer on `lru-cache`, bounded by entry count and optionally by size, with per-entry TTL.
 *
 * @example
 * const l1 = new MemoryStore({ maxEntries: 50_000, maxSize: 64 * 1024 * 1024, clone: true });
 */
export class MemoryStore implements CacheStore {
  private readonly lru: LRUCache<string, CacheEntry>;
  private readonly clone: boolean;

  constructor(options: MemoryStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 10_000;
    assertPositiveInteger('maxEntries', maxEntries);
    if (options.maxSize !== undefined) assertPositiveInteger('maxSize', options.maxSize);
    this.clone = options.clone ?? false;
    const sizeOf = options.sizeOf ?? estimateEntrySize;
    this.lru = new LRUCache<string, CacheEntry>({
      max: maxEntries,
      ...(options.maxSize !== undefined
        ? { maxSize: options.maxSize, maxEntrySize: options.maxSize, sizeCalculation: (entry, key) => Math.max(1, sizeOf(entry, key)) }
        : {}),
    });
  }

  /** Number of entries held now. */
  get size(): number {
    return this.lru.size;
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

function estimateEntrySize(entry: CacheEntry): number {
  const value = entry.value;
  if (typeof value === 'string') return value.length * 2;
  try {
    return (JSON.stringify(value) ?? '').length * 2;
  } catch {
    return 1024;
  }
}

function assertPositiveInteger(option: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(INVALID_POSITIVE_INTEGER_OPTION('MemoryStore', option, value));
}
