import type { Offload } from '../core/offload.interface.js';
import type { LayerRead, ReadHit, ReadPolicy } from '../policies/read/read-policy.interface.js';
import { SequentialReadPolicy } from '../policies/read/sequential-read.policy.js';
import { RefillPolicy } from '../policies/refill/refill-policy.js';
import type { LayerWrite, WritePolicy } from '../policies/write/write-policy.interface.js';
import { OptimisticParallelWritePolicy } from '../policies/write/optimistic-parallel-write.policy.js';
import type { ReplayDecision } from '../resilience/l2-write-replay-queue.js';
import { type ReplayShutdownResult, type ResilienceLogger, type ResilienceOptions, ResilientStore } from '../resilience/resilient-store.js';
import type { CacheStore, DeleteMark } from '../stores/cache-store.interface.js';
import { type CacheEntry, isExpired, remainingTtl } from '../core/cache-entry.js';
import { CacheEventBus } from '../core/cache-events.js';
import { BothLayersFailedError, type CacheLayer, CacheLayerError, type CacheOperation, CacheSerializationError, CircuitOpenError, LayeredCacheError } from '../core/errors.js';
import type { InvalidationBus, InvalidationListener } from '../core/invalidation.js';
import { INVALID_L1_MAX_TTL } from '../core/messages.js';
import { type Duration, durationMs } from '../core/ttl.js';
import { InFlightReads } from './in-flight-reads.js';
import { KeyOrder, type KeySlot } from './key-order.js';
import { type PromiseOrValue, isPromiseLike } from '../core/promise-or-value.js';
import { VersionClock } from '../core/version-clock.js';

/** What a {@link LayeredStore} is made of. */
export interface LayeredStoreOptions {
  /** The fast, local layer. */
  l1: CacheStore;
  /** The shared layer; absent or `null` runs L1 only. */
  l2?: CacheStore | null;
  /** Default: {@link SequentialReadPolicy}. */
  readPolicy?: ReadPolicy;
  /** Default: {@link OptimisticParallelWritePolicy}. */
  writePolicy?: WritePolicy;
  /** Default: `always`. */
  refillPolicy?: RefillPolicy;
  /** Runs the losers of race policies. */
  offload: Offload;
  /** Receives hits, misses, writes and errors. Default: a private bus. */
  events?: CacheEventBus;
  /**
   * How L2 is protected: time limit, circuit breaker, replay of failed writes (see `ResilienceOptions`).
   * Default: all on with their defaults. `false` calls L2 bare (its own timeouts still apply).
   */
  resilience?: ResilienceOptions | false;
  /** Receives breaker warnings, shutdown errors and invalidation notices. Default: none. */
  logger?: ResilienceLogger;
  /**
   * Carries invalidations between the instances that share L2: every change this composition makes in L2
   * is announced once L2 acknowledged it, and changes made elsewhere drop the L1 copies here. Listening
   * begins with {@link LayeredStore.startInvalidation}. Default: none.
   */
  invalidation?: InvalidationBus | null;
  /**
   * Longest time L1 keeps any entry, in milliseconds, whatever TTL it was written with or the writer's
   * clock gave it: the bound on how long an L1 copy can outlive a change whose invalidation was lost.
   * Default: no bound beyond each entry's TTL. A number of milliseconds or a {@link Duration} string.
   */
  l1MaxTtl?: Duration;
  /**
   * The TTL this instance gives the entries it writes, in milliseconds (the cache's default TTL): an L1
   * copy of an L2 hit is kept no longer than that, even when the writer gave the entry longer. Default: none.
   */
  readerTtl?: number;
}

/** Per-call options of {@link LayeredStore} reads, writes and deletes. */
export interface LayerCallOptions {
  /**
   * Longest wait for L2 in this call, in milliseconds (default: `resilience.timeoutMs`); 0 or less skips L2.
   * Ignored when resilience is off.
   */
  timeoutMs?: number;
}

const ignore = (): void => undefined;
/** The key a clear of every key is reported under. */
const CLEAR_ALL = '*';
const noL2Read: LayerRead = () => undefined;
const noL2Write: LayerWrite = () => undefined;

/**
 * The composition of two layers, itself a {@link CacheStore}: every read and write goes through the read
 * or write policy, which calls the layers through closures; L2 hits refill L1 with their remaining TTL
 * without making the caller wait; deletes and clears go to both layers at once. Operations on one key
 * reach each layer in the order they were issued, and an L2 reply that comes after a newer write or delete
 * of its key is not copied into L1. Because it is a store, it can be the L2 (or L1) of another
 * composition: L1 + (L2 + L3).
 *
 * @example
 * const l2AndL3 = new LayeredStore({ l1: new RedisStore({ url }), l2: new CacheManagerStore(cache), offload });
 * const store = new LayeredStore({ l1: new MemoryStore(), l2: l2AndL3, offload });
 */
export class LayeredStore implements CacheStore {
  readonly l1: CacheStore;
  readonly l2: CacheStore | null;
  readonly readPolicy: ReadPolicy;
  readonly writePolicy: WritePolicy;
  readonly refillPolicy: RefillPolicy;
  /** The guard around L2 (time limit, circuit breaker, replay queue); `null` without L2 or with resilience off. */
  readonly l2Resilience: ResilientStore | null;
  /** Versions of the writes and deletes issued through this composition; moved past the versions L2 answers with. */
  readonly clock = new VersionClock();
  /** Reads and loads waiting for a layer, which writes of their key make stale. */
  readonly inFlight = new InFlightReads();
  private readonly offload: Offload;
  private readonly events: CacheEventBus;
  /** L2 as the engine calls it: behind its guard when resilience is on. */
  private readonly guardedL2: CacheStore | null;
  /** The order in which each layer receives the operations of each key: the order they were issued in. */
  private readonly l1Order = new KeyOrder();
  private readonly l2Order = new KeyOrder();
  /** Carries invalidations to and from the other instances; `null` without. */
  readonly invalidation: InvalidationBus | null;
  private invalidationPrefix = '';
  /** True once anything was written to L1: before, no L1 entry can have missed an invalidation. */
  private l1Written = false;
  private readonly l1MaxTtl: number | undefined;
  /** The longest an L2 hit is copied into L1 for, by default. */
  private readonly refillTtlLimit: number | undefined;
  private readonly logger: ResilienceLogger | undefined;
  /** Callers waiting to hear that a key changed elsewhere (see `waitForChange`), by key. */
  private readonly changeWaiters = new Map<string, Set<() => void>>();
  private readonly changeWatchers: ((key: string | undefined) => void)[] = [];

  constructor(options: LayeredStoreOptions) {
    this.l1 = options.l1;
    this.l2 = options.l2 ?? null;
    this.readPolicy = options.readPolicy ?? new SequentialReadPolicy();
    this.writePolicy = options.writePolicy ?? new OptimisticParallelWritePolicy();
    this.refillPolicy = options.refillPolicy ?? RefillPolicy.Always;
    this.offload = options.offload;
    this.events = options.events ?? new CacheEventBus();
    this.logger = options.logger;
    this.invalidation = options.invalidation ?? null;
    this.l1MaxTtl = options.l1MaxTtl === undefined ? undefined : validL1MaxTtl(options.l1MaxTtl);
    this.refillTtlLimit = shorterTtl(options.readerTtl, this.l1MaxTtl);
    const announce = this.invalidation?.announceChanged === undefined ? undefined : (key: string) => this.announce(key, undefined);
    this.l2Resilience =
      this.l2 === null || options.resilience === false
        ? null
        : new ResilientStore(this.l2, { ...options.resilience, events: this.events, logger: options.logger, onReplayed: announce });
    this.guardedL2 = this.l2Resilience ?? this.l2;
  }

  /**
   * Starts listening for the changes other instances make to keys under `prefix` (see `invalidation`).
   * Resolves once listening, or once the bus has said why it cannot yet; never rejects.
   */
  startInvalidation(prefix: string): Promise<void> {
    const bus = this.invalidation;
    if (bus === null) return Promise.resolve();
    this.invalidationPrefix = prefix;
    return bus.start(prefix, this.invalidationListener).catch((error: unknown) => this.invalidationListener.failed(asError(error)));
  }

  /**
   * Resolves once the invalidation bus says that one of `keys` changed elsewhere (or that every key may
   * have), or after `timeoutMs`, whichever comes first.
   */
  waitForChange(keys: readonly string[], timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        for (const key of keys) {
          const waiters = this.changeWaiters.get(key);
          waiters?.delete(wake);
          if (waiters?.size === 0) this.changeWaiters.delete(key);
        }
        resolve();
      };
      const timer = setTimeout(wake, Math.max(1, timeoutMs));
      timer.unref();
      for (const key of keys) {
        let waiters = this.changeWaiters.get(key);
        if (waiters === undefined) this.changeWaiters.set(key, (waiters = new Set()));
        waiters.add(wake);
      }
    });
  }

  /**
   * `key` from L2 alone, without refilling L1 or counting a hit or a miss: the cache's own records, such
   * as tag versions. `undefined` without L2.
   */
  readShared<T>(key: string): PromiseOrValue<CacheEntry<T> | undefined> {
    const l2 = this.guardedL2;
    if (l2 === null) return undefined;
    const ask = (): PromiseOrValue<CacheEntry<T> | undefined> => l2.get<T>(key);
    return this.l2Order.idle(key) ? ask() : this.l2Order.read(key, ask);
  }

  /**
   * Writes `entry` (kept without expiry) to L2 alone, in its key's order, and announces it once L2
   * acknowledged it. A failed write rejects, and is kept and replayed when L2 answers again.
   */
  writeShared(key: string, entry: CacheEntry): PromiseOrValue<void> {
    const l2 = this.guardedL2;
    if (l2 === null) return;
    const guard = this.l2Resilience;
    const send = (): PromiseOrValue<void> =>
      guard === null ? (this.l2 as CacheStore).set(key, entry, undefined) : guard.set(key, entry, undefined, { decision: { state: 'tolerated' } });
    return this.writeL2(key, send, undefined, entry.version);
  }

  /** Calls `listener` with each key another instance changed, and `undefined` when any may have changed. */
  watchChangesElsewhere(listener: (key: string | undefined) => void): void {
    this.changeWatchers.push(listener);
  }

  /** Tells the other instances that this one changed `key` in L2 by other means than a write (a lease given back). */
  announceChange(key: string): void {
    if (this.invalidation !== null) this.announce(key, undefined);
  }

  private wakeWaiters(key: string | undefined): void {
    if (this.changeWaiters.size === 0) return;
    const woken = key === undefined ? [...this.changeWaiters.values()] : [this.changeWaiters.get(key)];
    for (const waiters of woken) if (waiters !== undefined) for (const wake of [...waiters]) wake();
  }

  /** Stops listening for invalidations and releases the bus's connections; idempotent. */
  async closeInvalidation(): Promise<void> {
    try {
      await this.invalidation?.close();
    } catch (error) {
      this.invalidationListener.failed(asError(error));
    }
  }

  /** What the invalidation bus tells this composition of changes made elsewhere. */
  private readonly invalidationListener: InvalidationListener = {
    keysChanged: (keys) => {
      for (const key of keys) this.dropL1Copy(key);
    },
    cleared: (prefix) => this.dropL1Copies(prefix ?? this.invalidationPrefix, 'cleared'),
    lost: () => {
      if (this.l1Written) this.dropL1Copies(this.invalidationPrefix, 'lost');
      else for (const watch of this.changeWatchers) watch(undefined);
    },
    failed: (error) => this.events.error({ layer: 'l2', operation: 'invalidate', error }),
    notice: (message) => (this.logger?.log ?? this.logger?.warn)?.call(this.logger, message),
  };

  /** Another instance changed `key`: the L1 copy goes, and a read of it still waiting for L2 must not bring the old value back. */
  private dropL1Copy(key: string): void {
    this.inFlight.invalidate(key);
    this.events.invalidation({ reason: 'changed', key });
    this.wakeWaiters(key);
    for (const watch of this.changeWatchers) watch(key);
    let dropped: PromiseOrValue<void>;
    try {
      dropped = this.l1Order.write(key, () => this.l1.delete(key));
    } catch (error) {
      this.failure('l1', 'delete', key, error);
      return;
    }
    if (isPromiseLike(dropped)) dropped.then(undefined, (error: unknown) => this.failure('l1', 'delete', key, error));
  }

  private dropL1Copies(prefix: string, reason: 'cleared' | 'lost'): void {
    this.inFlight.invalidatePrefix();
    this.events.invalidation({ reason, prefix });
    this.wakeWaiters(undefined);
    for (const watch of this.changeWatchers) watch(undefined);
    const under = prefix === '' ? undefined : prefix;
    let dropped: PromiseOrValue<void>;
    try {
      dropped = this.l1Order.clear(under, () => this.l1.clear?.(under));
    } catch (error) {
      this.failure('l1', 'clear', prefix, error);
      return;
    }
    if (isPromiseLike(dropped)) dropped.then(undefined, (error: unknown) => this.failure('l1', 'clear', prefix, error));
  }

  /** A delete or clear that L2 acknowledged, announced to the other instances. */
  private announceDone(operation: CacheOperation, key: string): void {
    if (operation === 'delete') this.announce(key, undefined);
    else if (operation === 'clear') {
      try {
        this.invalidation?.announceCleared?.(key === CLEAR_ALL ? undefined : key);
      } catch (error) {
        this.invalidationListener.failed(asError(error));
      }
    }
  }

  /** Tells the other instances that this one changed `key` in L2 (pub/sub; Redis tracking needs nothing). */
  private announce(key: string, version: string | undefined): void {
    try {
      this.invalidation?.announceChanged?.(key, version);
    } catch (error) {
      this.invalidationListener.failed(asError(error));
    }
  }

  get<T>(key: string): PromiseOrValue<CacheEntry<T> | undefined> {
    const hit = this.read<T>(key);
    return isPromiseLike(hit) ? hit.then(entryOf) : hit?.entry;
  }

  /**
   * Reads through the layers with `policy`, refilling L1 after an L2 hit as the refill policy says. While
   * the L2 circuit breaker is open, L2 answers every read with a miss without being asked. Answers at once
   * when the policy does (an in-process L1 hit with the built-in policies). `readerTtl` is the TTL this call
   * writes with, when it has its own (0: none): an L2 hit is kept in L1 no longer (default `readerTtl` option).
   */
  read<T>(key: string, policy: ReadPolicy = this.readPolicy, options?: LayerCallOptions, readerTtl?: number): PromiseOrValue<ReadHit<T> | undefined> {
    const timeoutMs = options?.timeoutMs;
    const readL2 = this.guardedL2 === null ? noL2Read : timeoutMs === undefined ? this.readL2 : (k: string) => this.readLayer2(k, timeoutMs);
    const hit = policy.execute(key, this.readL1 as LayerRead<T>, readL2 as LayerRead<T>, this.offload);
    if (!isPromiseLike(hit)) {
      if (hit !== undefined && hit.source === 'l2') this.refill(key, hit.entry, readerTtl);
      return hit;
    }
    // Only a read that waits can be overtaken by a write of its key: then it must not refill L1.
    const start = this.inFlight.begin();
    return hit.then(
      (found) => {
        if (found !== undefined && found.source === 'l2' && !this.inFlight.isStale(key, start)) this.refill(key, found.entry, readerTtl);
        this.inFlight.end();
        return found;
      },
      (error: unknown) => {
        this.inFlight.end();
        throw error;
      },
    );
  }

  set<T>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined): PromiseOrValue<void> {
    return this.write(key, entry, ttlMs, this.writePolicy);
  }

  /**
   * Writes the entry to the layers with `policy`. When L2 fails (or is skipped by its open breaker) and the
   * policy still resolves, the L2 write is kept and replayed once L2 answers again. Reads of the key still
   * waiting for a layer are made stale first, so none of them can copy an older value over this one.
   */
  write<T>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined, policy: WritePolicy = this.writePolicy, options?: LayerCallOptions): PromiseOrValue<void> {
    this.inFlight.invalidate(key);
    const l2 = this.guardedL2;
    const guard = this.l2Resilience;
    // The replay decision of this write's L2 call follows the policy's outcome: a failure the policy tolerated
    // is replayed later, one it gave to the caller is not.
    const call = guard === null ? undefined : { timeoutMs: options?.timeoutMs, decision: { state: 'pending' } as ReplayDecision };
    // A layer the policy calls only later (after the other answered) still gets this write in its issue order.
    let l1Slot: KeySlot | undefined;
    let l2Slot: KeySlot | undefined;
    let l2SlotAt = 0;
    let l1Called = false;
    let l2Called = l2 === null;
    const writeL1: LayerWrite = (k) => {
      l1Called = true;
      return this.writeL1(k, entry, this.l1MaxTtl === undefined ? ttlMs : shorterTtl(ttlMs, this.l1MaxTtl), 'set', l1Slot);
    };
    const writeL2: LayerWrite =
      l2 === null
        ? noL2Write
        : (k) => {
            l2Called = true;
            if (guard === null || call === undefined) return this.writeL2(k, () => l2.set(k, entry, ttlMs), l2Slot, entry.version);
            // A call that waits in its key's order gets only what is left of its time limit when its turn comes.
            const waitsFrom = l2Slot !== undefined ? (l2Slot.after === undefined ? undefined : l2SlotAt) : this.l2Order.idle(k) ? undefined : Date.now();
            const send = waitsFrom === undefined ? () => guard.set(k, entry, ttlMs, call) : () => guard.set(k, entry, ttlMs, this.leftAfterWait(call, waitsFrom));
            return this.writeL2(k, send, l2Slot, entry.version);
          };
    let written: PromiseOrValue<void>;
    try {
      written = policy.execute(key, writeL1, writeL2, this.offload);
    } catch (error) {
      if (call !== undefined) guard?.decide(key, call.decision, false);
      throw error;
    }
    if (!isPromiseLike(written)) {
      if (call !== undefined) guard?.decide(key, call.decision, true);
      return written;
    }
    if (!l1Called) l1Slot = this.l1Order.reserve(key);
    if (!l2Called) {
      l2Slot = this.l2Order.reserve(key);
      l2SlotAt = Date.now();
    }
    const settled = (tolerated: boolean): void => {
      l1Slot?.release();
      l2Slot?.release();
      if (call !== undefined) guard?.decide(key, call.decision, tolerated);
    };
    written.then(
      () => settled(true),
      () => settled(false),
    );
    return written;
  }

  /**
   * Deletes from both layers at once; one failure is reported, both reject with `BothLayersFailedError`.
   * An L2 delete that failed while L1's succeeded is kept and replayed, like a tolerated write.
   */
  delete(key: string, mark?: DeleteMark, options?: LayerCallOptions): PromiseOrValue<void> {
    this.inFlight.invalidate(key);
    const guard = this.l2Resilience;
    const call = guard === null ? undefined : { timeoutMs: options?.timeoutMs, decision: { state: 'pending' } as ReplayDecision };
    const deleted = this.onBothLayers('delete', key, (store, layer) => {
      if (layer === 'l1') return this.l1Order.write(key, () => store.delete(key, mark));
      if (guard === null || call === undefined) return this.l2Order.write(key, () => store.delete(key, mark));
      const waitsFrom = this.l2Order.idle(key) ? undefined : Date.now();
      return this.l2Order.write(key, () => guard.delete(key, mark, waitsFrom === undefined ? call : this.leftAfterWait(call, waitsFrom)));
    });
    if (guard === null || call === undefined) return deleted;
    return Promise.resolve(deleted).then(
      () => guard.decide(key, call.decision, true),
      (error: unknown) => {
        guard.decide(key, call.decision, false);
        throw error;
      },
    );
  }

  /**
   * Deletes every key under `prefix` (every key without one) from both layers at once. L2 is cleared through
   * its guard, which cancels the writes it kept for replay under `prefix`: a replay must not bring back what
   * the clear deleted.
   */
  clear(prefix?: string): PromiseOrValue<void> {
    this.inFlight.invalidatePrefix();
    return this.onBothLayers('clear', prefix ?? CLEAR_ALL, (store, layer) => {
      if (layer === 'l1') return this.l1Order.clear(prefix, () => store.clear?.(prefix));
      const guarded = this.l2Resilience ?? store;
      return this.l2Order.clear(prefix, () => guarded.clear?.(prefix));
    });
  }

  /**
   * Replays the L2 writes kept while L2 was failing, for up to `timeoutMs`, then stops keeping them; what
   * could not be written is counted (`stats().resilience.replay.abandoned`) and logged. The module calls
   * it on application shutdown, after draining the offload service.
   */
  shutdown(timeoutMs: number): Promise<ReplayShutdownResult> {
    return this.l2Resilience === null ? Promise.resolve({ replayed: 0, abandoned: 0, unanswered: 0 }) : this.l2Resilience.shutdown(timeoutMs);
  }

  /** Gives up on kept L2 writes (counted and logged; call `shutdown` first to replay them), then closes both layers. */
  async close(): Promise<void> {
    await this.closeInvalidation();
    await this.l2Resilience?.shutdown(0);
    await Promise.allSettled([this.l1.close?.(), this.l2?.close?.()]);
  }

  /** L1's entry for `key`, reported as a hit or a miss; a failure is reported and thrown. */
  private readonly readL1: LayerRead = (key) => {
    let found: PromiseOrValue<CacheEntry | undefined>;
    try {
      found = this.l1Order.idle(key) ? this.l1.get(key) : this.l1Order.read(key, () => this.l1.get(key));
    } catch (error) {
      throw this.failure('l1', 'get', key, error);
    }
    if (!isPromiseLike(found)) return this.l1Answered(key, found);
    return found.then(
      (entry) => this.l1Answered(key, entry),
      (error: unknown) => {
        throw this.failure('l1', 'get', key, error);
      },
    );
  };

  private l1Answered(key: string, entry: CacheEntry | undefined): CacheEntry | undefined {
    if (entry === undefined) this.events.miss('l1', key);
    else this.events.hit('l1', key);
    return entry;
  }

  private readonly readL2: LayerRead = (key) => this.readLayer2(key, undefined);

  /** L2's entry for `key`, reported as a hit or a miss; an expired or undecodable entry is a miss. */
  private readLayer2(key: string, timeoutMs: number | undefined): PromiseOrValue<CacheEntry | undefined> {
    let found: PromiseOrValue<CacheEntry | undefined>;
    try {
      const guard = this.l2Resilience;
      const ask = (): PromiseOrValue<CacheEntry | undefined> =>
        guard === null ? (this.l2 as CacheStore).get(key) : guard.get(key, timeoutMs === undefined ? undefined : { timeoutMs });
      if (this.l2Order.idle(key)) found = ask();
      else if (guard === null) found = this.l2Order.read(key, ask);
      else {
        // A read that waits for earlier writes of its key gets only what is left of its time limit when its turn comes.
        const waitsFrom = Date.now();
        found = this.l2Order.read(key, () => guard.get(key, this.leftAfterWait({ timeoutMs }, waitsFrom)));
      }
    } catch (error) {
      return this.l2ReadFailed(key, error);
    }
    if (!isPromiseLike(found)) return this.l2Answered(key, found);
    return found.then(
      (entry) => this.l2Answered(key, entry),
      (error: unknown) => this.l2ReadFailed(key, error),
    );
  }

  private l2Answered(key: string, entry: CacheEntry | undefined): CacheEntry | undefined {
    // A write that follows this read must be newer than what another instance wrote, whatever the clocks say.
    if (entry !== undefined) this.clock.observe(entry.version);
    if (entry !== undefined && isExpired(entry)) entry = undefined;
    if (entry === undefined) this.events.miss('l2', key);
    else this.events.hit('l2', key);
    return entry;
  }

  /** A failed L2 read: a miss when L2 was skipped (open breaker) or its entry could not be decoded; otherwise the failure. */
  private l2ReadFailed(key: string, error: unknown): undefined {
    // L2 was skipped by its open circuit breaker: nothing was asked, so it is a miss that is not reported.
    if (error instanceof CircuitOpenError) return undefined;
    const failure = this.failure('l2', 'get', key, error);
    // An entry that cannot be decoded (corrupt, foreign, or from an unknown format version) is a miss.
    if (error instanceof CacheSerializationError) {
      this.events.miss('l2', key);
      return undefined;
    }
    throw failure;
  }

  /** Writes L1 for a write (`set`) or a refill, reporting it as such. */
  private writeL1(key: string, entry: CacheEntry, ttlMs: number | undefined, operation: 'set' | 'refill', slot?: KeySlot): PromiseOrValue<void> {
    let written: PromiseOrValue<void>;
    try {
      written = this.l1Order.write(key, () => this.l1.set(key, entry, ttlMs), slot);
    } catch (error) {
      throw this.failure('l1', operation, key, error);
    }
    if (!isPromiseLike(written)) {
      this.l1WriteDone(key, operation);
      return;
    }
    return written.then(
      () => this.l1WriteDone(key, operation),
      (error: unknown) => {
        throw this.failure('l1', operation, key, error);
      },
    );
  }

  private l1WriteDone(key: string, operation: 'set' | 'refill'): void {
    this.l1Written = true;
    if (operation === 'refill') this.events.refill(key);
    else this.events.write('l1', key);
  }

  /** Runs an L2 write in its key's order, reports it, and announces it to the other instances once L2 acknowledged it. */
  private writeL2(key: string, write: () => PromiseOrValue<void>, slot: KeySlot | undefined, version: string | undefined): PromiseOrValue<void> {
    let written: PromiseOrValue<void>;
    try {
      written = this.l2Order.write(key, write, slot);
    } catch (error) {
      throw this.failure('l2', 'set', key, error);
    }
    if (!isPromiseLike(written)) {
      this.l2Written(key, version);
      return;
    }
    return written.then(
      () => this.l2Written(key, version),
      (error: unknown) => {
        throw this.failure('l2', 'set', key, error);
      },
    );
  }

  private l2Written(key: string, version: string | undefined): void {
    this.events.write('l2', key);
    if (this.invalidation !== null) this.announce(key, version);
  }

  /**
   * The options of an L2 call that waited in its key's order since `waitsFrom`: what is left of its time
   * limit, so that the caller waits no longer than the limit in all. With nothing left the guard does not
   * send the call and keeps a write for replay, as for any L2 call that ran out of time.
   */
  private leftAfterWait<C extends { timeoutMs?: number }>(call: C, waitsFrom: number): C {
    const limit = call.timeoutMs ?? (this.l2Resilience as ResilientStore).timeoutMs;
    return { ...call, timeoutMs: limit - (Date.now() - waitsFrom) };
  }

  /** Runs an operation on both layers at once: one failure is reported, both reject with both causes. */
  private onBothLayers(operation: CacheOperation, key: string, run: (store: CacheStore, layer: CacheLayer) => PromiseOrValue<void>): PromiseOrValue<void> {
    const l1 = this.attempt(operation, key, 'l1', this.l1, run);
    const l2 = this.l2 === null ? undefined : this.attempt(operation, key, 'l2', this.l2, run);
    if (!isPromiseLike(l1) && !isPromiseLike(l2)) return this.bothSettled(l1, l2);
    return Promise.all([l1, l2]).then(([fromL1, fromL2]) => this.bothSettled(fromL1, fromL2));
  }

  /** One layer's part of `onBothLayers`: its failure, reported, or `undefined`. */
  private attempt(
    operation: CacheOperation,
    key: string,
    layer: CacheLayer,
    store: CacheStore,
    run: (store: CacheStore, layer: CacheLayer) => PromiseOrValue<void>,
  ): PromiseOrValue<CacheLayerError | undefined> {
    const done = (): undefined => {
      if (operation === 'delete') this.events.deleted(layer, key);
      if (layer === 'l2' && this.invalidation !== null) this.announceDone(operation, key);
      return undefined;
    };
    let ran: PromiseOrValue<void>;
    try {
      ran = run(store, layer);
    } catch (error) {
      return this.failure(layer, operation, key, error);
    }
    return isPromiseLike(ran) ? ran.then(done, (error: unknown) => this.failure(layer, operation, key, error)) : done();
  }

  private bothSettled(l1Error: CacheLayerError | undefined, l2Error: CacheLayerError | undefined): void {
    if (l1Error === undefined) return;
    if (this.l2 === null) throw l1Error;
    if (l2Error !== undefined) throw new BothLayersFailedError(l1Error, l2Error);
  }

  /**
   * Copies an L2 hit into L1 with its remaining TTL, without making the caller wait. The write is started
   * here rather than handed to the offload service: an in-process L1 write is cheaper than a task, and a
   * refill lost at shutdown costs nothing but a later L2 read.
   */
  private refill(key: string, entry: CacheEntry, readerTtl: number | undefined): void {
    if (this.refillPolicy !== RefillPolicy.Always) return;
    const left = remainingTtl(entry);
    if (left !== undefined && left <= 0) return;
    // Kept no longer than this reader would keep a value it wrote itself: a writer's longer TTL, or a clock
    // running ahead, must not make an L1 copy outlive what this instance expects.
    const limit = readerTtl === undefined ? this.refillTtlLimit : shorterTtl(readerTtl === 0 ? undefined : readerTtl, this.l1MaxTtl);
    const ttl = shorterTtl(left === undefined ? undefined : Math.ceil(left), limit);
    let written: PromiseOrValue<void>;
    try {
      written = this.writeL1(key, entry, ttl, 'refill');
    } catch {
      return; // reported where it failed
    }
    if (isPromiseLike(written)) written.then(undefined, ignore);
  }

  /**
   * Reports a layer failure once, at its source, and returns the error to throw. A call skipped by the open
   * circuit breaker is not reported: the breaker's `circuit` event and counters already say so.
   */
  private failure(layer: CacheLayer, operation: CacheOperation, key: string, cause: unknown): CacheLayerError {
    const error = new CacheLayerError(layer, operation, key, cause);
    if (cause instanceof CircuitOpenError) return error;
    this.events.error({
      layer,
      operation: cause instanceof CacheSerializationError ? 'serialize' : operation,
      key,
      error: cause instanceof CacheSerializationError ? cause : error,
    });
    return error;
  }
}

function entryOf<T>(hit: ReadHit<T> | undefined): CacheEntry<T> | undefined {
  return hit?.entry;
}

/** The shorter of two TTLs, where `undefined` is no expiry. */
function shorterTtl(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined || a <= b ? a : b;
}

function validL1MaxTtl(value: unknown): number {
  const ms = durationMs(value);
  if (typeof ms !== 'number' || !(ms > 0) || !Number.isFinite(ms)) throw new LayeredCacheError(INVALID_L1_MAX_TTL(value));
  return Math.ceil(ms);
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
