import type { Cache } from 'cache-manager';
import type { CacheEntry } from '../core/cache-entry.js';
import { decodeStoredText, encodeEnvelope } from '../core/envelope.js';
import { LayeredCacheError } from '../core/errors.js';
import { JsonSerializer, type Serializer } from '../core/serializer.js';
import { CACHE_MANAGER_PREFIX_CLEAR } from '../core/messages.js';
import type { CacheStore } from './cache-store.interface.js';

/** The part of a cache-manager `Cache` this store uses. */
export type CacheManagerCache = Pick<Cache, 'get' | 'set' | 'del' | 'clear' | 'disconnect'>;

/** Options of {@link CacheManagerStore}. */
export interface CacheManagerStoreOptions {
  /** Encodes values; default {@link JsonSerializer} (keeps Dates). */
  serializer?: Serializer;
  /** Disconnect the cache's stores in `close()`. Default false: the cache stays yours. */
  closeCache?: boolean;
}

/**
 * Uses any cache-manager `Cache` (and so any Keyv storage adapter) as a layer. Entries are stored in the
 * same versioned envelope as in Redis, so Dates and expiry metadata survive any Keyv backend.
 *
 * @example
 * const cache = createCache({ stores: [new Keyv({ store: new KeyvPostgres(url) })] });
 * LayeredCacheModule.forRoot({ l2: new CacheManagerStore(cache) });
 */
export class CacheManagerStore implements CacheStore {
  /** Turns values into the text this store keeps; the cache checks a value with it before any layer is written. */
  readonly serializer: Serializer;

  constructor(
    private readonly cache: CacheManagerCache,
    private readonly options: CacheManagerStoreOptions = {},
  ) {
    this.serializer = options.serializer ?? new JsonSerializer();
  }

  async get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    const text = await this.cache.get<string>(key);
    if (text === undefined || text === null) return undefined;
    return decodeStoredText(String(text), this.serializer) as CacheEntry<T> | undefined;
  }

  async set<T>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined): Promise<void> {
    if (ttlMs !== undefined && ttlMs <= 0) {
      await this.cache.del(key);
      return;
    }
    const text = encodeEnvelope(entry, this.serializer);
    await this.cache.set(key, text, ttlMs === undefined ? undefined : Math.ceil(ttlMs));
  }

  async delete(key: string): Promise<void> {
    await this.cache.del(key);
  }

  /** Clears the whole cache. cache-manager cannot delete by prefix, so a prefix is refused with a clear error. */
  async clear(prefix?: string): Promise<void> {
    if (prefix !== undefined && prefix !== '') throw new LayeredCacheError(CACHE_MANAGER_PREFIX_CLEAR(prefix));
    await this.cache.clear();
  }

  async close(): Promise<void> {
    if (this.options.closeCache) await this.cache.disconnect();
  }
}
