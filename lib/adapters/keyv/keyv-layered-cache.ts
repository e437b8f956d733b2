import { EventEmitter } from 'node:events';
import { KEYV_NEEDS_LAYERED_CACHE } from '../../core/messages.js';
import { LayeredCacheError } from '../../core/errors.js';
import { validTtl } from '../../core/ttl.js';
import type { LayeredCache } from '../../engine/layered-cache.js';
import { keyvNamespacePrefix } from './keyv-key-space.js';

/** Options of {@link KeyvLayeredCache.keyvOptions}: those of the Keyv that runs on the cache. */
export interface KeyvLayeredCacheOptions {
  /** The Keyv namespace; its keys live under `keyv:<namespace>:` in the cache's namespace. Default `'keyv'`, as in Keyv. */
  readonly namespace?: string;
  /**
   * Time to live in milliseconds of the writes that name none (Keyv's `ttl`; cache-manager's and
   * `CacheModule`'s own `ttl` take precedence over it). Default: the cache's default TTL (`defaultTtl`,
   * 60 000 unless the cache was given another); 0 means such writes never expire.
   */
  readonly ttl?: number;
}

/**
 * What `new Keyv(...)` takes to run on a `LayeredCache` (see {@link KeyvLayeredCache.keyvOptions}). Its
 * `serialize` and `deserialize` are `undefined`: Keyv then hands the store its `{ value, expires }` record as
 * it is, and the cache's serializer stores it in L2.
 */
export interface KeyvOptionsOnLayers {
  /** A new adapter over the cache, for this Keyv alone. */
  readonly store: KeyvLayeredCache;
  /** The Keyv namespace: `options.namespace`, else `'keyv'`. */
  readonly namespace: string;
  /** Milliseconds for writes that name no TTL: `options.ttl`, else the cache's default TTL (0: no expiry). */
  readonly ttl: number;
  /** The adapter puts each namespace's keys under a prefix of its own, so Keyv need not prefix them too. */
  readonly useKeyPrefix: false;
  readonly serialize: undefined;
  readonly deserialize: undefined;
}

/**
 * A Keyv (v5) storage adapter over a {@link LayeredCache}, so that Keyv, cache-manager 7 and
 * `@nestjs/cache-manager` (`CacheModule`, `CACHE_MANAGER`, `CacheInterceptor`) run on the cache's layers and
 * policies. TTLs are milliseconds, as everywhere in Keyv and cache-manager: `@CacheTTL(200)` keeps the entry
 * 200 ms in every layer. A write without a TTL never expires (Keyv's meaning); build the Keyv with
 * {@link KeyvLayeredCache.keyvOptions} to give such writes the cache's default TTL instead.
 *
 * Values are stored as Keyv hands them over. Built with `keyvOptions` (serialization left to the cache), that is
 * Keyv's `{ value, expires }` record, which the cache's serializer keeps faithfully: Dates, Buffers and
 * Uint8Arrays come back as themselves from L1 and L2, and values it cannot store (BigInt, `#private` state)
 * are refused and cached in no layer. With Keyv's default serializer the store is given Keyv's JSON text,
 * in which Dates are already strings.
 *
 * Each Keyv namespace is a prefix of its own inside the cache's namespace (`shop:keyv:http:<key>`), so Keyv
 * data never meets the cache's other keys and `clear()` deletes one Keyv namespace only. Give each Keyv its
 * own adapter: Keyv sets the adapter's `namespace`. The adapter does not own the cache: `disconnect()`
 * leaves it open. There is no `iterator`: the layers cannot list their keys (L1 holds only this instance's
 * copies, and a key longer than 256 characters is stored under a digest of it). There is no `setMany`
 * either: the cache writes key by key through its write policy, and Keyv's own fallback (one `set` per
 * entry) answers `true` or `false` for each, which Keyv's type for an adapter's `setMany` cannot.
 *
 * @example
 * // Nest: @nestjs/cache-manager on the layers of LayeredCacheModule
 * CacheModule.registerAsync({
 *   inject: [LayeredCache],
 *   useFactory: (cache: LayeredCache) => ({ stores: [new Keyv(KeyvLayeredCache.keyvOptions(cache, { namespace: 'http' }))] }),
 * });
 *
 * // Without Nest
 * const cacheManager = createCache({ stores: [new Keyv(KeyvLayeredCache.keyvOptions(layeredCache))] });
 * await cacheManager.set('user:1', { name: 'Ada', at: new Date() }, 5_000); // 5 s in L1 and in Redis
 */
export class KeyvLayeredCache extends EventEmitter {
  /**
   * Options for `new Keyv(...)` that run it on `cache` with the cache's serializer doing the work: Keyv's
   * own serialization off, the namespace given to the adapter (not prefixed by Keyv as well), and the cache's
   * default TTL for writes that name none. Throws `LayeredCacheError` for a `ttl` that is not a number of
   * milliseconds from 0 to 100 years.
   *
   * @example
   * const keyv = new Keyv(KeyvLayeredCache.keyvOptions(cache, { namespace: 'sessions', ttl: 30_000 }));
   */
  static keyvOptions(cache: LayeredCache, options: KeyvLayeredCacheOptions = {}): KeyvOptionsOnLayers {
    return {
      store: new KeyvLayeredCache(cache),
      namespace: options.namespace ?? 'keyv',
      ttl: options.ttl === undefined ? cache.defaultTtl : validTtl(options.ttl),
      useKeyPrefix: false,
      serialize: undefined,
      deserialize: undefined,
    };
  }

  /** Keyv requires the property (and writes to it); this adapter reads nothing from it. */
  readonly opts: Record<string, unknown> = { dialect: 'layered-cache' };
  private currentNamespace: string | undefined;
  /** Where the keys of the current namespace live in the cache (see `keyvNamespacePrefix`). */
  private prefix = keyvNamespacePrefix(undefined);

  constructor(private readonly cache: LayeredCache) {
    super();
    if (!isLayeredCache(cache)) throw new LayeredCacheError(KEYV_NEEDS_LAYERED_CACHE(describeGiven(cache)));
  }

  /** The Keyv namespace, which Keyv sets; `undefined` or `''`: none. */
  get namespace(): string | undefined {
    return this.currentNamespace;
  }

  set namespace(namespace: string | undefined) {
    this.currentNamespace = namespace;
    this.prefix = keyvNamespacePrefix(namespace);
  }

  /** What was stored under `key`, or `undefined`. Rejects as the cache's read policy does (L2 failing after an L1 miss). */
  get<Value>(key: string): Promise<Value | undefined> {
    return this.cache.get<Value>(this.prefix + key);
  }

  /** The values of `keys`, in order; a read that failed is `undefined` (the cache reported it, and so does this adapter's `error` event). */
  getMany<Value>(keys: string[]): Promise<(Value | undefined)[]> {
    return Promise.all(keys.map((key) => this.get<Value>(key).catch((error: unknown) => this.failed(error, undefined))));
  }

  /**
   * Writes through the cache's write policy, for `ttl` milliseconds (absent or 0: no expiry; negative: the
   * value is already expired, and the key is deleted). Rejects as the write policy does, and when the cache's
   * serializer refuses the value, which is then cached in no layer.
   */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const cacheKey = this.prefix + key;
    if (ttl !== undefined && ttl < 0) await this.cache.delete(cacheKey);
    else await this.cache.set(cacheKey, value, { ttl: ttl ?? 0 });
    return true;
  }

  /**
   * Deletes `key` from both layers; `true` when it held a value. Rejects only when both layers failed. The
   * value is looked up by a read issued just before the delete, so the answer costs no extra wait.
   */
  async delete(key: string): Promise<boolean> {
    const cacheKey = this.prefix + key;
    const held = this.cache.get(cacheKey).then(
      (value) => value !== undefined,
      () => false,
    );
    await this.cache.delete(cacheKey);
    return held;
  }

  /** Deletes `keys`; `true` when at least one held a value. */
  async deleteMany(keys: string[]): Promise<boolean> {
    const deleted = await Promise.all(keys.map((key) => this.delete(key)));
    return deleted.includes(true);
  }

  /** Deletes every key of the current Keyv namespace from both layers, and nothing else. */
  async clear(): Promise<void> {
    await this.cache.store.clear(this.cache.fullKey(this.prefix));
  }

  /** True when `key` holds a value; a read that failed is `false` (reported on the `error` event), as in Keyv. */
  has(key: string): Promise<boolean> {
    return this.get(key).then(
      (value) => value !== undefined,
      (error: unknown) => this.failed(error, false),
    );
  }

  /** {@link KeyvLayeredCache.has} of each key, in order. */
  hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((key) => this.has(key)));
  }

  /** Resolves at once: the cache belongs to whoever built it (LayeredCacheModule closes it with the application). */
  async disconnect(): Promise<void> {}

  /** Reports an error Keyv would not see (Keyv relays the adapter's `error` events) and answers `fallback`. */
  private failed<T>(error: unknown, fallback: T): T {
    // An EventEmitter throws an `error` nobody listens to; the cache has reported the failure already.
    if (this.listenerCount('error') > 0) this.emit('error', error);
    return fallback;
  }
}

function isLayeredCache(value: unknown): value is LayeredCache {
  const cache = value as Partial<LayeredCache> | null | undefined;
  return typeof cache?.get === 'function' && typeof cache.set === 'function' && typeof cache.fullKey === 'function' && typeof cache.store?.clear === 'function';
}

function describeGiven(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value);
  const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object';
}
