import type { Observable } from 'rxjs';
import {
  CLEAR_NEEDS_NAMESPACE,
  DISTRIBUTED_SINGLE_FLIGHT_NEEDS_LEASES,
  FACTORY_NOT_SETTLED,
  INVALID_SINGLE_FLIGHT,
  MAX_VALUE_BYTES_ABOVE_L2,
  UNDEFINED_NOT_CACHEABLE,
} from '../core/messages.js';
import type { OffloadCounts } from '../offload/offload.service.js';
import type { Offload } from '../core/offload.interface.js';
import type { ReadHit, ReadPolicy } from '../policies/read/read-policy.interface.js';
import type { RefillPolicy } from '../policies/refill/refill-policy.js';
import type { WritePolicy } from '../policies/write/write-policy.interface.js';
import { type L2ResilienceStats, type ResilienceLogger, type ResilienceOptions, validTimeout } from '../resilience/resilient-store.js';
import type { CacheStore } from '../stores/cache-store.interface.js';
import { type CacheEntry, createCacheEntry } from '../core/cache-entry.js';
import { type CacheCounters, type CacheEvent, CacheEventBus } from '../core/cache-events.js';
import { NamespacedKeys, validNamespace } from '../core/cache-key.js';
import { CacheSerializationError, CacheTimeoutError, LayeredCacheError } from '../core/errors.js';
import { rememberPayload } from '../core/envelope.js';
import { JsonSerializer, type Serializer } from '../core/serializer.js';
import { type CachedType, type PreparedValue, ValueCodec, reviveFromCache } from '../core/value-codec.js';
import { LayeredStore } from './layered-store.js';
import { type InvalidationOption, invalidationBusFor } from './invalidation-option.js';
import { DEFAULT_LEASE_MS, DEFAULT_LEASE_WAIT_MS, SharedLoads, type SingleFlightOptions } from './shared-loads.js';
import { isLeaseSource } from '../core/lease.js';
import { TagVersions, validTags } from './tag-versions.js';
import { type PromiseOrValue, isPromiseLike } from '../core/promise-or-value.js';
import { type Duration, validTtl } from '../core/ttl.js';
import { DEFAULT_MAX_VALUE_BYTES, assertEntryFits, validMaxValueBytes } from '../core/value-size.js';

const RESOLVED: Promise<void> = Promise.resolve();
const ignore = (): void => undefined;

/** See {@link LayeredCache.beginLoad}. @internal */
export interface PendingLoad {
  /** True once a write, delete or clear of the key was issued after the load began. */
  readonly stale: boolean;
  /** Writes the loaded value unless the load is stale; ends the load. */
  put<T>(value: T, options?: GetOrSetOptions): Promise<void>;
  /** Ends the load without writing. */
  end(): void;
}

/** A `getOrSet` load in flight: callers of its key join it until a write of the key makes it stale. */
interface Load {
  /** The epoch it began at (see `InFlightReads`). */
  readonly start: number;
  promise: Promise<unknown>;
}

/** Default time to live of an entry, in milliseconds. */
export const DEFAULT_TTL_MS = 60_000;

/** What a {@link LayeredCache} is built from. Only `l1` and `offload` are required. */
export interface LayeredCacheDependencies {
  l1: CacheStore;
  l2?: CacheStore | null;
  readPolicy?: ReadPolicy;
  writePolicy?: WritePolicy;
  refillPolicy?: RefillPolicy;
  /** Runs background work; its counts appear in `stats()` when it can report them. */
  offload: Offload & { counts?(): OffloadCounts };
  events?: CacheEventBus;
  /** Prefix of every key this cache touches (`namespace:key`). */
  namespace?: string;
  /** Default time to live: milliseconds, or a string with its unit (`'10m'`); 0 means entries never expire. Default 60 000 (one minute). */
  ttl?: Duration;
  /** How L2 is protected (time limit, circuit breaker, replay of failed writes). Default: all on; `false`: off. */
  resilience?: ResilienceOptions | false;
  /** Receives breaker warnings, shutdown errors, and a warning per class cached without a declared type. Default: none. */
  logger?: ResilienceLogger;
  /**
   * Checks each value before any layer is written, so that a value L2 cannot store faithfully is cached
   * nowhere. Default: the L2 store's own `serializer` when it has one (`RedisStore`, `CacheManagerStore`),
   * else `JsonSerializer`. Unused without an L2.
   */
  serializer?: Serializer;
  /**
   * Largest text of an entry in L2, in bytes (UTF-8: the value's serialized text plus a header of at most
   * 71 bytes and its tags). A value whose text is larger is cached in no layer: `set` rejects with
   * `CacheValueTooLargeError`, `getOrSet` and `put` return or drop it uncached and report the error. A
   * `RedisStore` also refuses to decode a longer reply (a miss, reported). Default: the L2 store's own
   * `maxValueBytes` when it has one (`RedisStore`), else {@link DEFAULT_MAX_VALUE_BYTES} (8 MiB); it may not
   * be larger than the store's. Unused without an L2: values are then not serialized.
   */
  maxValueBytes?: number;
  /**
   * How instances that share L2 invalidate each other's L1 copies (see `InvalidationOption`). Default:
   * `'auto'` with a `RedisStore` L2 (Redis tracking where the server allows it, else pub/sub), else none.
   */
  invalidation?: InvalidationOption;
  /**
   * Longest time L1 keeps any entry, in milliseconds, whatever its TTL: the bound on how long an L1 copy can
   * outlive a change whose invalidation was lost. Default: none (each entry's own TTL, and this cache's TTL
   * for copies of entries other instances wrote). Milliseconds, or a string with its unit (`'30s'`).
   */
  l1MaxTtl?: Duration;
}

/** The per-call time limit every cache call accepts. */
export interface CacheTimeoutOptions {
  /**
   * Longest wait for L2 in this call, in milliseconds, instead of the module's `resilience.timeoutMs`.
   * After it the call goes on without L2 (a read falls back as its policy says, a write is kept for replay
   * when its policy tolerates the failure).
   */
  timeoutMs?: number;
}

/** Per-call options of reads. */
export interface CacheReadOptions extends CacheTimeoutOptions {
  /** Use this read policy for this call instead of the module's. */
  readPolicy?: ReadPolicy;
  /**
   * The class of the cached value (or `[Class]` for an array of them): a hit from any layer is then an
   * instance of it. Without it, class instances come back from every layer in the same plain form.
   */
  type?: CachedType;
}

/** Per-call options of writes. */
export interface CacheWriteOptions extends CacheTimeoutOptions {
  /** Time to live of this entry: milliseconds, or a string with its unit (`'30s'`); 0 means it never expires. */
  ttl?: Duration;
  /** Use this write policy for this call instead of the module's. */
  writePolicy?: WritePolicy;
  /** The class of the value written (see {@link CacheReadOptions.type}): L1 may then keep the instance itself. */
  type?: CachedType;
  /** Tags of the entry: `invalidateTags` with any of them makes it a miss on every instance. */
  tags?: readonly string[];
}

/** Per-call options of deletes. */
export type CacheDeleteOptions = CacheTimeoutOptions;

/**
 * Options of {@link LayeredCache.getOrSet}. Its `timeoutMs` bounds the call's L2 waits together: the
 * write after a miss gets what the read left of it (nothing after an L2 read that timed out).
 */
export interface GetOrSetOptions extends CacheReadOptions, CacheWriteOptions, SingleFlightOptions {
  /**
   * Return the factory's value without waiting for the write: the write policy runs at once (so an in-process
   * L1 is written before the call returns, and the L2 write is issued in order with every other operation of
   * the key) and what is left of the write finishes in the background, tracked by the offload service.
   */
  background?: boolean;
  /**
   * The longest a load waits for the factory before it lets go of the key, in milliseconds; default
   * {@link DEFAULT_HARD_TIMEOUT_MS} (30 000). A factory that has not settled by then still answers the calls
   * already waiting for it, but its value is not cached, the next call for the key runs a factory of its own
   * instead of joining it, and an error event says so: a factory that never settles cannot block its key.
   */
  hardTimeoutMs?: number;
}

/** How long a load waits for its factory before it lets go of the key, unless `hardTimeoutMs` says otherwise. */
export const DEFAULT_HARD_TIMEOUT_MS = 30_000;

/** Counters of the cache, of its offload service and of the protection of L2. */
export interface LayeredCacheStats extends CacheCounters {
  readonly offload: OffloadCounts | undefined;
  /** L2 time limit, circuit breaker state and replay queue; `undefined` without L2 or with resilience off. */
  readonly resilience: L2ResilienceStats | undefined;
}

/**
 * The two-layer cache engine. Decorators use it; you can call it directly.
 * Keys are prefixed with the namespace; values are kept by reference in L1 and serialized in L2.
 *
 * @example
 * const user = await cache.getOrSet(`user:${id}`, () => this.users.findOne(id), { ttl: 30_000 });
 */
export class LayeredCache {
  /** The composition of the layers (a `CacheStore` itself, usable as a layer of another cache). */
  readonly store: LayeredStore;
  readonly namespace: string;
  readonly defaultTtl: number;
  private readonly keys: NamespacedKeys;
  private readonly bus: CacheEventBus;
  private readonly offload: LayeredCacheDependencies['offload'];
  private readonly loads = new Map<string, Load>();
  /** Checks and shapes values for the layers; `undefined` without an L2. */
  private readonly codec: ValueCodec | undefined;
  /** Largest entry text L2 is given, in bytes; checked with the codec, before any layer is written. */
  private readonly maxValueBytes: number;
  /** Settles once the invalidation bus listens, or has said why it cannot yet. */
  readonly invalidationStarted: Promise<void>;
  /** Loads shared between instances through leases in L2; `undefined` when L2 hands out none. */
  private readonly sharedLoads: SharedLoads | undefined;
  private readonly tags: TagVersions;

  constructor(dependencies: LayeredCacheDependencies) {
    this.maxValueBytes = maxValueBytesFor(dependencies);
    this.bus = dependencies.events ?? new CacheEventBus();
    this.offload = dependencies.offload;
    this.namespace = dependencies.namespace ?? '';
    this.keys = new NamespacedKeys(this.namespace);
    this.defaultTtl = validTtl(dependencies.ttl ?? DEFAULT_TTL_MS);
    this.store = new LayeredStore({
      ...dependencies,
      events: this.bus,
      invalidation: invalidationBusFor(dependencies.invalidation, dependencies.l2),
      readerTtl: this.defaultTtl === 0 ? undefined : this.defaultTtl,
    });
    this.invalidationStarted = this.store.startInvalidation(this.keys.prefix);
    const l2 = dependencies.l2;
    // Tag versions read from L2 stay trusted while invalidation can tell of their changes.
    this.tags = new TagVersions(this.store, this.keys.prefix, this.store.invalidation !== null);
    this.sharedLoads = isLeaseSource(l2) ? new SharedLoads(l2, this.store, (entry) => entry.tags === undefined || this.tags.isFresh(entry.tags)) : undefined;
    this.store.watchChangesElsewhere((changed) => this.tags.changedElsewhere(changed));
    // With L1 alone no layer can disagree with another, so values are kept by reference and never checked.
    this.codec =
      l2 === undefined || l2 === null
        ? undefined
        : new ValueCodec({
            serializer: dependencies.serializer ?? (l2 as { serializer?: Serializer }).serializer ?? new JsonSerializer(),
            onReshapedClass: (notice) => dependencies.logger?.warn(notice.message),
          });
  }

  /** Every cache event (hits and misses per layer, writes, refills, errors, offloaded work). */
  get events$(): Observable<CacheEvent> {
    return this.bus.events$;
  }

  /** A snapshot of the counters. */
  stats(): LayeredCacheStats {
    return { ...this.bus.counters(), offload: this.offload.counts?.(), resilience: this.store.l2Resilience?.stats() };
  }

  /** The full key stored in the layers for `key`: namespaced, and shortened with a digest when very long. */
  fullKey(key: string): string {
    return this.keys.fullKey(key);
  }

  /**
   * The cached value, or `undefined` on a miss. Rejects when the read policy does (for the default
   * sequential policy: when L2 fails or times out after an L1 miss). While the L2 circuit breaker is open,
   * L2 is not asked and counts as a miss.
   */
  get<T>(key: string, options?: CacheReadOptions): Promise<T | undefined> {
    const fullKey = this.fullKey(key);
    let hit: PromiseOrValue<ReadHit<T> | undefined>;
    try {
      hit = this.store.read<T>(fullKey, options?.readPolicy, callOptions(options));
    } catch (error) {
      return Promise.reject(error);
    }
    // A key read from L1 is likely read again: remembering its full key spares building and hashing it.
    if (!isPromiseLike(hit) && hit?.source === 'l1') this.keys.remember(key, fullKey);
    const type = options?.type;
    if (isPromiseLike(hit)) return type === undefined ? hit.then(this.valueOfHit) : hit.then((found) => this.valueOf(found, type));
    // An entry with tags is a hit only while none of them was invalidated since it was made.
    if (hit?.entry.tags !== undefined) return Promise.resolve(this.valueOf(hit, type));
    return Promise.resolve(type === undefined ? hit?.entry.value : revived(hit, type));
  }

  /**
   * Gives every entry tagged with one of `tags` a miss from now on, on every instance: each tag gets a new
   * version, written to L2 (where the other instances read it, and hear of it through invalidation).
   * Rejects when L2 failed the write; the invalidation is then kept and replayed when L2 answers again,
   * and this instance already treats the entries as invalidated.
   *
   * @example
   * await cache.set('product:1', product, { tags: ['products', 'category:7'] });
   * await cache.invalidateTags(['category:7']); // product:1 is a miss everywhere
   */
  invalidateTags(tags: readonly string[]): Promise<void> {
    try {
      return this.tags.invalidate(validTags(tags));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The value of a hit of `get`; a tagged entry checked first. */
  private readonly valueOfHit = <T>(hit: ReadHit<T> | undefined): T | undefined | Promise<T | undefined> =>
    hit?.entry.tags === undefined ? hit?.entry.value : this.valueOf(hit, undefined);

  /** The value of a hit as `type`, or `undefined` when one of its tags was invalidated since it was made. */
  private valueOf<T>(hit: ReadHit<T> | undefined, type: CachedType | undefined): T | undefined | Promise<T | undefined> {
    if (hit === undefined) return undefined;
    const value = (): T | undefined => (type === undefined ? hit.entry.value : revived(hit, type));
    const tags = hit.entry.tags;
    if (tags === undefined) return value();
    const fresh = this.tags.isFresh(tags);
    if (!isPromiseLike(fresh)) return fresh ? value() : undefined;
    return fresh.then((isFresh) => (isFresh ? value() : undefined));
  }

  /**
   * Writes through the write policy; rejects as the policy does (an L2 skipped by its open breaker counts
   * as failed). `undefined` cannot be cached. A tolerated L2 failure is replayed when L2 recovers.
   */
  set<T>(key: string, value: T, options?: CacheWriteOptions): Promise<void> {
    try {
      if (value === undefined) throw new LayeredCacheError(UNDEFINED_NOT_CACHEABLE(key));
      const ttl = this.ttlOf(options);
      const fullKey = this.fullKey(key);
      const tags = options?.tags === undefined ? undefined : this.tags.versionsNow(validTags(options.tags));
      const entry = this.entryFor(fullKey, value, ttl, options?.type, this.store.clock.next(), tags);
      const written = this.store.write(fullKey, entry, layerTtl(ttl), options?.writePolicy, callOptions(options));
      return isPromiseLike(written) ? written : RESOLVED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Deletes from both layers; rejects only when both fail. A failed L2 delete is replayed when L2 recovers. */
  delete(key: string, options?: CacheDeleteOptions): Promise<void> {
    try {
      return this.deleteFullKey(this.fullKey(key), callOptions(options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The cached value, or the factory's, which is then cached. Concurrent calls for one key share one read
   * and one factory call (single-flight). A `set`, `put`, `delete` or `clear` of the key issued while the
   * load runs wins over it: the loaded value is still returned to the callers that were waiting, but it is
   * not written back, and callers that come after the write start a load of their own. Cache failures are
   * reported as events and never make this call fail: only the factory's own error rejects. `undefined`
   * results are returned but not cached. The call waits for L2 at most `timeoutMs` (default
   * `resilience.timeoutMs`) in all: an L2 read that fails or times out counts as a miss, and the write after
   * it gets only what the read left of the budget. Invalid options reject before the factory runs.
   */
  getOrSet<T>(key: string, factory: () => T | Promise<T>, options?: GetOrSetOptions): Promise<T> {
    let ttl: number;
    let call: { timeoutMs: number } | undefined;
    try {
      ttl = this.ttlOf(options);
      call = callOptions(options);
      if (options?.hardTimeoutMs !== undefined) validTimeout(options.hardTimeoutMs);
      if (options?.singleFlight !== undefined) this.checkSingleFlight(options);
      if (options?.tags !== undefined) validTags(options.tags);
    } catch (error) {
      return Promise.reject(error);
    }
    const fullKey = this.fullKey(key);
    const joined = this.loads.size === 0 ? undefined : this.loads.get(fullKey);
    if (joined !== undefined && !this.store.inFlight.isStale(fullKey, joined.start)) return joined.promise as Promise<T>;
    let read: PromiseOrValue<ReadHit<T> | undefined>;
    try {
      read = this.store.read<T>(fullKey, options?.readPolicy, call, options?.ttl === undefined ? undefined : ttl);
    } catch {
      read = undefined; // the layer that failed reported it; a failed read is a miss
    }
    if (!isPromiseLike(read)) {
      if (read === undefined) return this.load(fullKey, undefined, factory, ttl, options, call?.timeoutMs);
      if (read.source === 'l1') this.keys.remember(key, fullKey);
      // A tagged entry is checked first: one whose tag was invalidated is a miss.
      if (read.entry.tags !== undefined) return this.load(fullKey, Promise.resolve(read), factory, ttl, options, call?.timeoutMs);
      return Promise.resolve(options?.type === undefined ? read.entry.value : (revived(read, options.type) as T));
    }
    return this.load(fullKey, read, factory, ttl, options, call?.timeoutMs);
  }

  /** Alias of {@link LayeredCache.getOrSet}. */
  wrap<T>(key: string, factory: () => T | Promise<T>, options?: GetOrSetOptions): Promise<T> {
    return this.getOrSet(key, factory, options);
  }

  /**
   * Writes `value` under `key` for a method result: failures are reported, never thrown. With
   * `background`, this resolves at once; the write has been issued (an in-process L1 holds the value) and
   * the rest of it finishes in the background, where the offload service's `drain` waits for it.
   */
  put<T>(key: string, value: T, options?: GetOrSetOptions): Promise<void> {
    if (value === undefined) return RESOLVED;
    let ttl: number;
    let call: { timeoutMs: number } | undefined;
    try {
      ttl = this.ttlOf(options);
      call = callOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    let tags: Record<string, string> | undefined;
    try {
      tags = options?.tags === undefined ? undefined : this.tags.versionsNow(validTags(options.tags));
    } catch (error) {
      return Promise.reject(error);
    }
    const written = this.writeQuietly(this.fullKey(key), value, ttl, options, call?.timeoutMs, this.store.clock.next(), true, tags);
    return options?.background ? RESOLVED : written;
  }

  /**
   * Deletes every key of `namespace` (default: this cache's namespace) from both layers. A cache without a
   * namespace and with an L2 rejects: its keys cannot be told apart from other applications' in a shared L2.
   */
  clear(namespace: string = this.namespace): Promise<void> {
    if (namespace === '' && this.store.l2 !== null) {
      const refused = new LayeredCacheError(CLEAR_NEEDS_NAMESPACE);
      this.bus.error({ operation: 'clear', error: refused });
      return Promise.reject(refused);
    }
    try {
      // A namespace with ':' in it is refused, so that clear('a') cannot reach into another namespace 'a:b'.
      const cleared = this.store.clear(namespace === '' ? undefined : `${validNamespace(namespace)}:`);
      return isPromiseLike(cleared) ? cleared : RESOLVED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A load whose value is produced outside `getOrSet` (the Observable result of a `@Cacheable` method): its
   * `put` writes the value only when no write, delete or clear of the key was issued since this call, as
   * `getOrSet` does for its own loads; `stale` says whether one was. Call `end` when the load gives up.
   * @internal
   */
  beginLoad(key: string, tags?: readonly string[]): PendingLoad {
    const fullKey = this.fullKey(key);
    const inFlight = this.store.inFlight;
    const start = inFlight.begin();
    const version = this.store.clock.next();
    // The tags' versions as the load begins: an invalidation while it runs makes its value stale.
    const startTags = tags === undefined ? undefined : this.tags.versionsNow(validTags(tags));
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      inFlight.end();
    };
    return {
      get stale() {
        return inFlight.isStale(fullKey, start);
      },
      put: <T>(value: T, options?: GetOrSetOptions): Promise<void> => {
        const stale = inFlight.isStale(fullKey, start);
        end();
        if (stale || value === undefined) return RESOLVED;
        try {
          const tags = options?.tags === undefined ? undefined : startTags ?? this.tags.versionsNow(validTags(options.tags));
          return this.writeQuietly(fullKey, value, this.ttlOf(options), options, callOptions(options)?.timeoutMs, version, false, tags);
        } catch (error) {
          return Promise.reject(error);
        }
      },
      end,
    };
  }

  /**
   * Runs the factory after a miss (or after `read`, the shared read of this load, missed), then writes its
   * value unless a write of the key was issued meanwhile. Registered in `loads` until it ends.
   */
  private load<T>(
    fullKey: string,
    read: Promise<ReadHit<T> | undefined> | undefined,
    factory: () => T | Promise<T>,
    ttl: number,
    options: GetOrSetOptions | undefined,
    timeoutMs: number | undefined,
  ): Promise<T> {
    // One L2 budget for the call: the write after a miss gets what the read left of it. The read has just
    // been started, so the budget is counted from now.
    const budget = timeoutMs ?? this.store.l2Resilience?.timeoutMs;
    const readStarted = budget === undefined ? 0 : Date.now();
    const left = (): number | undefined => (budget === undefined ? undefined : budget - (Date.now() - readStarted));
    const inFlight = this.store.inFlight;
    const start = inFlight.begin();
    // The value is as old as the load: a shared layer that checks versions refuses it over any write or
    // delete of the key issued after this point, by any instance; and so are its tags' versions.
    const version = this.store.clock.next();
    const tags = options?.tags === undefined ? undefined : this.tags.versionsNow(options.tags);
    const load: Load = { start, promise: RESOLVED };
    const release = (): void => {
      if (this.loads.get(fullKey) === load) this.loads.delete(fullKey);
    };
    const finish = (): void => {
      inFlight.end();
      release();
    };
    const produce = async (readFailed?: unknown): Promise<T> => {
      let letGo = false;
      let giveLeaseBack: (() => void) | undefined;
      const hardTimeoutMs = options?.hardTimeoutMs ?? DEFAULT_HARD_TIMEOUT_MS;
      const abandoned = setTimeout(() => {
        letGo = true;
        release();
        this.bus.error({ operation: 'set', key: fullKey, error: new CacheTimeoutError(FACTORY_NOT_SETTLED(fullKey, hardTimeoutMs)) });
      }, hardTimeoutMs);
      // A slow factory must not keep the process alive for the cache's sake.
      abandoned.unref();
      try {
        // Another instance may be loading the key: wait for its value rather than load it again. Not when L2
        // just failed the read, or is skipped by its breaker: its lease could not be asked either.
        if (options?.singleFlight === 'distributed' && readFailed === undefined && this.sharedLoads !== undefined && !this.l2Skipped()) {
          const turn = await this.sharedLoads.turn<T>(fullKey, options.leaseMs ?? DEFAULT_LEASE_MS, options.leaseWaitMs ?? DEFAULT_LEASE_WAIT_MS);
          if (!turn.load) return options.type === undefined ? turn.entry.value : (reviveFromCache(turn.entry.value, options.type) as T);
          giveLeaseBack = turn.release;
        }
        const value = await factory();
        // A write of the key issued while the factory ran is newer than this value: it must not be written back.
        if (value !== undefined && !letGo && !inFlight.isStale(fullKey, start)) {
          clearTimeout(abandoned);
          await this.writeQuietly(fullKey, value, ttl, options, options?.background ? options.timeoutMs : left(), version, false, tags);
        }
        return value;
      } finally {
        // After the value is in L2, so that the instances waiting for the lease find it there.
        giveLeaseBack?.();
        clearTimeout(abandoned);
        finish();
      }
    };
    const hitValue = (hit: ReadHit<T>): T => {
      finish();
      return options?.type === undefined ? hit.entry.value : (revived(hit, options.type) as T);
    };
    const answer = (hit: ReadHit<T> | undefined): T | Promise<T> => {
      if (hit === undefined) return produce();
      if (hit.entry.tags === undefined) return hitValue(hit);
      // A tagged entry whose tag was invalidated since it was made is a miss.
      const fresh = this.tags.isFresh(hit.entry.tags);
      if (!isPromiseLike(fresh)) return fresh ? hitValue(hit) : produce();
      return fresh.then((isFresh) => (isFresh ? hitValue(hit) : produce()));
    };
    // Never at once: the caller registers this load before it can end, even when the factory throws at once.
    // A read that failed counts as a miss (the layer that failed reported it).
    const promise = read === undefined ? RESOLVED.then(() => produce()) : read.then(answer, (error: unknown) => produce(error ?? true));
    load.promise = promise;
    this.loads.set(fullKey, load);
    return promise;
  }

  /**
   * Writes without ever rejecting (each failed layer reports itself). With `background`, the write is
   * issued now and handed to the offload service, whose `drain` waits for it; the returned promise is then
   * already resolved.
   */
  private writeQuietly<T>(
    fullKey: string,
    value: T,
    ttl: number,
    options: GetOrSetOptions | undefined,
    timeoutMs: number | undefined,
    version: string,
    replaces: boolean,
    tags?: Record<string, string>,
  ): Promise<void> {
    let entry: CacheEntry<unknown>;
    try {
      entry = this.entryFor(fullKey, value, ttl, options?.type, version, tags);
    } catch {
      // Reported by entryFor. The value cannot be cached anywhere. A put replaces what the layers held for
      // the key, which is older than the result the caller has: that must go too, on every instance.
      return replaces ? this.deleteFullKey(fullKey, undefined).then(ignore, ignore) : RESOLVED;
    }
    let written: PromiseOrValue<void>;
    try {
      const call = timeoutMs === undefined ? undefined : { timeoutMs };
      written = this.store.write(fullKey, entry, layerTtl(ttl), options?.writePolicy, call);
    } catch {
      return RESOLVED;
    }
    if (!isPromiseLike(written)) return RESOLVED;
    const quiet = written.then(ignore, ignore);
    if (!options?.background) return quiet;
    try {
      // Already running: the service only tracks it. Refused (full or closing), it still finishes, observed.
      this.offload.run('write', () => quiet);
    } catch {
      // `run` must not throw; a custom Offload that does cannot stop a write that is already running.
    }
    return RESOLVED;
  }

  /**
   * The entry to write for `value`: checked by the codec before any layer is written (a value L2 cannot
   * store faithfully throws `CacheSerializationError`, one whose text exceeds `maxValueBytes`
   * `CacheValueTooLargeError`, reported), and in the form every layer gives back.
   */
  private entryFor(fullKey: string, value: unknown, ttl: number, type: CachedType | undefined, version: string, tags?: Record<string, string>): CacheEntry<unknown> {
    const codec = this.codec;
    if (codec === undefined) return withTags(createCacheEntry(value, ttl, Date.now(), version), tags);
    let prepared: PreparedValue;
    let entry: CacheEntry<unknown>;
    try {
      prepared = codec.prepare(value, type);
      entry = withTags(createCacheEntry(prepared.l1Value, ttl, Date.now(), version), tags);
      assertEntryFits(fullKey, entry, prepared.payload, this.maxValueBytes);
    } catch (error) {
      // Checked on behalf of L2, whose serializer or size limit refused it.
      this.bus.error({ layer: 'l2', operation: 'serialize', key: fullKey, error: error instanceof Error ? error : new CacheSerializationError(String(error)) });
      throw error;
    }
    // The text is kept for the shared layer's encoder, so the value is not serialized a second time, and
    // its length for an L1 bounded by bytes, so the value is not measured either.
    return rememberPayload(entry, codec.serializer, prepared.payload);
  }

  private deleteFullKey(fullKey: string, call: { timeoutMs: number } | undefined): Promise<void> {
    // The delete's mark outlives every write of the key a shared layer may still receive from before it.
    const mark = { version: this.store.clock.next(), ttlMs: this.defaultTtl === 0 ? DEFAULT_TTL_MS : this.defaultTtl };
    let deleted: PromiseOrValue<void>;
    try {
      deleted = this.store.delete(fullKey, mark, call);
    } catch (error) {
      return Promise.reject(error);
    }
    return isPromiseLike(deleted) ? deleted : RESOLVED;
  }

  /** Checks the single-flight options of a call; a distributed one needs an L2 that hands out leases. */
  private checkSingleFlight(options: SingleFlightOptions): void {
    if (options.singleFlight !== 'local' && options.singleFlight !== 'distributed') throw new LayeredCacheError(INVALID_SINGLE_FLIGHT(options.singleFlight));
    if (options.leaseMs !== undefined) validTimeout(options.leaseMs);
    if (options.leaseWaitMs !== undefined) validTimeout(options.leaseWaitMs);
    // Without L2 there is no other instance to share a load with: a distributed load is a local one.
    if (options.singleFlight === 'distributed' && this.sharedLoads === undefined && this.store.l2 !== null) throw new LayeredCacheError(DISTRIBUTED_SINGLE_FLIGHT_NEEDS_LEASES);
  }

  /** True while the L2 breaker is open: L2, and so its leases, is not asked. */
  private l2Skipped(): boolean {
    return this.store.l2Resilience?.breaker?.stats().state === 'open';
  }

  private ttlOf(options: CacheWriteOptions | undefined): number {
    return options?.ttl === undefined ? this.defaultTtl : validTtl(options.ttl);
  }
}

/**
 * The `maxValueBytes` a cache checks its values against: its own option, else its L2 store's, else the
 * default. Throws `LayeredCacheError` for an invalid one, or for one above the store's, which would let L1
 * keep values L2 refuses.
 */
function maxValueBytesFor(dependencies: LayeredCacheDependencies): number {
  const own = dependencies.maxValueBytes === undefined ? undefined : validMaxValueBytes(dependencies.maxValueBytes, 'LayeredCache');
  const fromStore = (dependencies.l2 as { maxValueBytes?: unknown } | null | undefined)?.maxValueBytes;
  const store = typeof fromStore === 'number' ? fromStore : undefined;
  if (own !== undefined && store !== undefined && own > store) throw new LayeredCacheError(MAX_VALUE_BYTES_ABOVE_L2(own, store));
  return own ?? store ?? DEFAULT_MAX_VALUE_BYTES;
}

/** The entry with the versions of its tags, or as it is without tags. */
function withTags<T>(entry: CacheEntry<T>, tags: Record<string, string> | undefined): CacheEntry<T> {
  return tags === undefined ? entry : { ...entry, tags };
}

/** The value of a hit as an instance of the declared type. */
function revived<T>(hit: ReadHit<T> | undefined, type: CachedType): T | undefined {
  return hit === undefined ? undefined : (reviveFromCache(hit.entry.value, type) as T);
}

/** What the layers are told to keep an entry of `ttl` for: `undefined` (until evicted) for 0. */
function layerTtl(ttl: number): number | undefined {
  return ttl === 0 ? undefined : ttl;
}

/** The per-call options the store takes, with `timeoutMs` checked; `undefined` when there are none. */
function callOptions(options: CacheTimeoutOptions | undefined): { timeoutMs: number } | undefined {
  return options?.timeoutMs === undefined ? undefined : { timeoutMs: validTimeout(options.timeoutMs) };
}
