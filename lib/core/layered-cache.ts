import type { Observable } from 'rxjs';
import { UNDEFINED_NOT_CACHEABLE, INVALID_TTL } from '../layered-cache.messages';
import type { OffloadCounts } from '../offload';
import type { Offload } from '../offload/offload.interface';
import type { ReadHit, ReadPolicy } from '../policies/read/read-policy.interface';
import type { RefillPolicy } from '../policies/refill/refill-policy';
import type { WritePolicy } from '../policies/write/write-policy.interface';
import { type L2ResilienceStats, type ResilienceLogger, type ResilienceOptions, validTimeout } from '../resilience/resilient-store';
import type { CacheStore } from '../stores/cache-store.interface';
import { type CacheEntry, createCacheEntry } from './cache-entry';
import { type CacheCounters, type CacheEvent, CacheEventBus } from './cache-events';
import { NamespacedKeys } from './cache-key';
import { LayeredCacheError } from './errors';
import { LayeredStore } from './layered-store';

const RESOLVED: Promise<void> = Promise.resolve();
const ignore = (): void => undefined;

/** What `l1HitNow` answers when it looked in L1 synchronously and found nothing. */
const L1_MISSED: unique symbol = Symbol('l1-missed');

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
  /** Default time to live in milliseconds; 0 means entries never expire. Default 60 000. */
  ttl?: number;
  /** How L2 is protected (time limit, circuit breaker, replay of failed writes). Default: all on; `false`: off. */
  resilience?: ResilienceOptions | false;
  /** Receives breaker warnings and shutdown errors. Default: none. */
  logger?: ResilienceLogger;
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
}

/** Per-call options of writes. */
export interface CacheWriteOptions extends CacheTimeoutOptions {
  /** Time to live in milliseconds for this entry; 0 means it never expires. */
  ttl?: number;
  /** Use this write policy for this call instead of the module's. */
  writePolicy?: WritePolicy;
}

/** Per-call options of deletes. */
export type CacheDeleteOptions = CacheTimeoutOptions;

/**
 * Options of {@link LayeredCache.getOrSet}. Its `timeoutMs` bounds the call's L2 waits together: the
 * write after a miss gets what the read left of it (nothing after an L2 read that timed out).
 */
export interface GetOrSetOptions extends CacheReadOptions, CacheWriteOptions {
  /**
   * Return the factory's value without waiting for L2: the write policy runs at once (so an in-process L1 is
   * written before the call returns) and the L2 write goes out with the other background writes, in one
   * batch on the offload service. With `timeoutMs`, the whole write runs on its own on the offload service.
   */
  background?: boolean;
}

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
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** L1, when it reads synchronously and the module's read policy lets its hits be served that way (see `l1HitNow`). */
  private readonly synchronousL1: SynchronousReads | undefined;

  constructor(dependencies: LayeredCacheDependencies) {
    this.bus = dependencies.events ?? new CacheEventBus();
    this.offload = dependencies.offload;
    this.namespace = dependencies.namespace ?? '';
    this.keys = new NamespacedKeys(this.namespace);
    this.defaultTtl = validTtl(dependencies.ttl ?? DEFAULT_TTL_MS);
    this.store = new LayeredStore({ ...dependencies, events: this.bus });
    const { l1, l2, readPolicy } = this.store;
    this.synchronousL1 = readsSynchronously(l1) && (l2 === null || readPolicy.servesL1HitsAlone === true) ? l1 : undefined;
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
    const found = this.l1HitNow<T>(key, fullKey, options);
    if (found !== undefined && found !== L1_MISSED) return Promise.resolve(found.value);
    return this.readThrough<T>(fullKey, options, found === L1_MISSED);
  }

  /**
   * Writes through the write policy; rejects as the policy does (an L2 skipped by its open breaker counts
   * as failed). `undefined` cannot be cached. A tolerated L2 failure is replayed when L2 recovers.
   */
  set<T>(key: string, value: T, options?: CacheWriteOptions): Promise<void> {
    try {
      if (value === undefined) throw new LayeredCacheError(UNDEFINED_NOT_CACHEABLE(key));
      const ttl = options?.ttl === undefined ? this.defaultTtl : validTtl(options.ttl);
      return this.store.write(this.fullKey(key), createCacheEntry(value, ttl), ttl === 0 ? undefined : ttl, options?.writePolicy, callOptions(options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Deletes from both layers; rejects only when both fail. A failed L2 delete is replayed when L2 recovers. */
  delete(key: string, options?: CacheDeleteOptions): Promise<void> {
    try {
      return this.store.delete(this.fullKey(key), callOptions(options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The cached value, or the factory's, which is then cached. Concurrent calls for one key share one
   * factory call (single-flight): a call that misses while the factory runs waits for its value, and one
   * that misses just after it finished finds the value in an in-process L1. With an L1 that cannot be read
   * synchronously, concurrent calls also share one read. Cache failures are reported as events and never make this
   * call fail: only the factory's own error rejects. `undefined` results are returned but not cached.
   * The call waits for L2 at most `timeoutMs` (default `resilience.timeoutMs`) in all: an L2 read that
   * fails or times out counts as a miss, and the write after it gets only what the read left of the budget.
   */
  getOrSet<T>(key: string, factory: () => T | Promise<T>, options?: GetOrSetOptions): Promise<T> {
    if (options?.timeoutMs !== undefined) {
      try {
        validTimeout(options.timeoutMs);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const fullKey = this.fullKey(key);
    if (this.inflight.size !== 0) {
      const pending = this.inflight.get(fullKey);
      if (pending !== undefined) return pending as Promise<T>;
    }
    const found = this.l1HitNow<T>(key, fullKey, options);
    if (found === undefined) {
      // L1 cannot be read synchronously: the read itself is shared, so that a late caller cannot miss L2
      // after the factory's value was written and before its own read was answered.
      const load = this.load(key, fullKey, factory, options, true);
      this.inflight.set(fullKey, load);
      return load;
    }
    if (found !== L1_MISSED) return Promise.resolve(found.value);
    // Only the factory is shared: hits need no map entry, and after a miss L1 is looked at again.
    return this.load(key, fullKey, factory, options, false);
  }

  /** Alias of {@link LayeredCache.getOrSet}. */
  wrap<T>(key: string, factory: () => T | Promise<T>, options?: GetOrSetOptions): Promise<T> {
    return this.getOrSet(key, factory, options);
  }

  /**
   * Writes `value` under `key` for a method result: failures are reported, never thrown. With
   * `background`, this resolves at once and L2 is written in the background (see `GetOrSetOptions.background`).
   */
  put<T>(key: string, value: T, options?: GetOrSetOptions): Promise<void> {
    if (value === undefined) return RESOLVED;
    try {
      return this.writeQuietly(this.fullKey(key), value, options, callOptions(options)?.timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Deletes every key of `namespace` (default: this cache's namespace) from both layers. */
  clear(namespace: string = this.namespace): Promise<void> {
    return this.store.clear(namespace === '' ? undefined : `${namespace}:`);
  }

  /**
   * The L1 entry of `fullKey` read without promise hops, counted and reported as the read policy's own L1
   * hit would be; {@link L1_MISSED} when L1 has no entry (the read policy then gets that miss without a
   * second look); `undefined` when L1, the read policy in force or a per-call option keeps L1 from being
   * read synchronously (the caller then takes the regular path, which also reports errors).
   */
  private l1HitNow<T>(key: string, fullKey: string, options: CacheReadOptions | undefined): CacheEntry<T> | typeof L1_MISSED | undefined {
    const l1 = this.synchronousL1;
    if (l1 === undefined) return undefined;
    if (options !== undefined) {
      // An invalid time limit must reject as it does on the regular path, even when L1 could answer.
      if (options.timeoutMs !== undefined && !isValidTimeout(options.timeoutMs)) return undefined;
      if (options.readPolicy !== undefined && this.store.l2 !== null && options.readPolicy.servesL1HitsAlone !== true) return undefined;
    }
    let entry: CacheEntry<T> | undefined;
    try {
      entry = l1.getSync<T>(fullKey);
    } catch {
      return undefined;
    }
    if (entry === undefined) return L1_MISSED;
    this.bus.hit('l1', fullKey);
    this.keys.remember(key, fullKey);
    return entry;
  }

  private readThrough<T>(fullKey: string, options: CacheReadOptions | undefined, l1Missed: boolean): Promise<T | undefined> {
    let call: { timeoutMs: number } | undefined;
    try {
      call = callOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.store.read<T>(fullKey, options?.readPolicy, call, l1Missed).then(valueOfHit);
  }

  /**
   * Reads the layers, then on a miss (a failed read counts as one: the layer that failed reported it) gets
   * the factory's value with what the read left of the call's L2 budget. A `shared` load is the caller's
   * entry in `inflight` (its L1 was not read synchronously): it runs the factory itself and leaves `inflight`
   * on a hit. Otherwise L1 has missed, and the miss goes through `loadOnce`.
   */
  private load<T>(key: string, fullKey: string, factory: () => T | Promise<T>, options: GetOrSetOptions | undefined, shared: boolean): Promise<T> {
    // One L2 budget for the call: the write after a miss gets what the read left of it.
    const budget = options?.timeoutMs ?? this.store.l2Resilience?.timeoutMs;
    const readStarted = budget === undefined ? 0 : Date.now();
    const miss = (): Promise<T> => {
      const left = budget === undefined ? undefined : budget - (Date.now() - readStarted);
      return shared ? this.runFactory(fullKey, factory, options, left) : this.loadOnce(key, fullKey, factory, options, left);
    };
    let read: Promise<ReadHit<T> | undefined>;
    try {
      read = this.store.read<T>(fullKey, options?.readPolicy, callOptions(options), !shared);
    } catch {
      // Still a step later: the caller registers a shared load as in flight before a miss can end it.
      read = Promise.resolve(undefined);
    }
    return read.then((hit) => {
      if (hit === undefined) return miss();
      if (shared) this.inflight.delete(fullKey);
      return hit.entry.value;
    }, miss);
  }

  /**
   * After a miss of a call that did not register itself: joins the factory call in flight for the key, or
   * takes the value from L1 when such a call has just written it, or else calls the factory, registered.
   */
  private loadOnce<T>(key: string, fullKey: string, factory: () => T | Promise<T>, options: GetOrSetOptions | undefined, left: number | undefined): Promise<T> {
    const pending = this.inflight.get(fullKey);
    if (pending !== undefined) return pending as Promise<T>;
    const found = this.l1HitNow<T>(key, fullKey, options);
    if (found !== undefined && found !== L1_MISSED) return Promise.resolve(found.value);
    const load = this.runFactory(fullKey, factory, options, left);
    this.inflight.set(fullKey, load);
    return load;
  }

  /** The factory's value, written to the cache with what is left of the L2 budget; the key leaves `inflight` after. */
  private async runFactory<T>(fullKey: string, factory: () => T | Promise<T>, options: GetOrSetOptions | undefined, left: number | undefined): Promise<T> {
    // A step first, so that a caller registers this call in `inflight` before it can end, even when the
    // factory throws at once.
    await undefined;
    try {
      const value = await factory();
      if (value !== undefined) await this.writeQuietly(fullKey, value, options, options?.background ? options.timeoutMs : left);
      return value;
    } finally {
      this.inflight.delete(fullKey);
    }
  }

  /** Writes without ever rejecting (each failed layer reports itself); throws only for an invalid `ttl` option. */
  private writeQuietly<T>(fullKey: string, value: T, options: GetOrSetOptions | undefined, timeoutMs: number | undefined): Promise<void> {
    const ttl = options?.ttl === undefined ? this.defaultTtl : validTtl(options.ttl);
    const entry = createCacheEntry(value, ttl);
    const layerTtl = ttl === 0 ? undefined : ttl;
    const call = timeoutMs === undefined ? undefined : { timeoutMs };
    if (options?.background) {
      // L1 now, L2 with the other background writes of this turn; a per-call time limit applies to this write
      // alone, so it runs on its own. No dedup key: a newer value for the same key must not be dropped.
      if (call === undefined) this.store.writeInBackground(fullKey, entry, layerTtl, options.writePolicy);
      else this.offload.run('write', () => this.store.write(fullKey, entry, layerTtl, options.writePolicy, call));
      return RESOLVED;
    }
    let written: Promise<void>;
    try {
      written = this.store.write(fullKey, entry, layerTtl, options?.writePolicy, call);
    } catch {
      return RESOLVED;
    }
    // Each failed layer was reported where it failed; the caller keeps its value.
    return written.then(ignore, ignore);
  }
}

function valueOfHit<T>(hit: ReadHit<T> | undefined): T | undefined {
  return hit?.entry.value;
}

function isValidTimeout(timeoutMs: number): boolean {
  try {
    validTimeout(timeoutMs);
    return true;
  } catch {
    return false;
  }
}

type SynchronousReads = Required<Pick<CacheStore, 'getSync'>>;

/** True for a store that declares synchronous reads (an in-process store such as `MemoryStore`). */
function readsSynchronously(store: CacheStore): store is CacheStore & SynchronousReads {
  return typeof store.getSync === 'function';
}

/** The per-call options the store takes, with `timeoutMs` checked; `undefined` when there are none. */
function callOptions(options: CacheTimeoutOptions | undefined): { timeoutMs: number } | undefined {
  return options?.timeoutMs === undefined ? undefined : { timeoutMs: validTimeout(options.timeoutMs) };
}

function validTtl(ttl: number): number {
  if (!Number.isFinite(ttl) || ttl < 0) throw new LayeredCacheError(INVALID_TTL(ttl));
  return ttl;
}
