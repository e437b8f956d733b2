import type { Offload } from '../offload/offload.interface';
import type { LayerRead, ReadHit, ReadPolicy } from '../policies/read/read-policy.interface';
import { SequentialReadPolicy } from '../policies/read/sequential-read.policy';
import { RefillPolicy } from '../policies/refill/refill-policy';
import type { WritePolicy } from '../policies/write/write-policy.interface';
import { OptimisticParallelWritePolicy } from '../policies/write/optimistic-parallel-write.policy';
import type { ReplayDecision } from '../resilience/l2-write-replay-queue';
import { type ReplayShutdownResult, type ResilienceLogger, type ResilienceOptions, ResilientStore } from '../resilience/resilient-store';
import type { CacheStore, StoreWrite } from '../stores/cache-store.interface';
import { setEach } from '../stores/set-each';
import { BackgroundL2Writes } from './background-l2-writes';
import { type CacheEntry, isExpired, remainingTtl } from './cache-entry';
import { CacheEventBus } from './cache-events';
import { BothLayersFailedError, type CacheLayer, CacheLayerError, type CacheOperation, CacheSerializationError, CircuitOpenError } from './errors';

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
  /** Receives breaker warnings and shutdown errors. Default: none. */
  logger?: ResilienceLogger;
}

const RESOLVED_MISS: Promise<undefined> = Promise.resolve(undefined);
const RESOLVED_WRITE: Promise<void> = Promise.resolve();
const ignore = (): void => undefined;

/** Per-call options of {@link LayeredStore} reads, writes and deletes. */
export interface LayerCallOptions {
  /**
   * Longest wait for L2 in this call, in milliseconds (default: `resilience.timeoutMs`); 0 or less skips L2.
   * Ignored when resilience is off.
   */
  timeoutMs?: number;
}

/**
 * The composition of two layers, itself a {@link CacheStore}: reads and writes flow through the read and
 * write policies, L2 hits refill L1 with their remaining TTL in the background, deletes go to both layers.
 * Because it is a store, it can be the L2 (or L1) of another composition: L1 + (L2 + L3).
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
  private readonly offload: Offload;
  private readonly events: CacheEventBus;
  private readonly backgroundWrites: BackgroundL2Writes;

  constructor(options: LayeredStoreOptions) {
    this.l1 = options.l1;
    this.l2 = options.l2 ?? null;
    this.readPolicy = options.readPolicy ?? new SequentialReadPolicy();
    this.writePolicy = options.writePolicy ?? new OptimisticParallelWritePolicy();
    this.refillPolicy = options.refillPolicy ?? RefillPolicy.Always;
    this.offload = options.offload;
    this.events = options.events ?? new CacheEventBus();
    this.backgroundWrites = new BackgroundL2Writes(this.offload, this.sendBackgroundWrites);
    this.l2Resilience =
      this.l2 === null || options.resilience === false
        ? null
        : new ResilientStore(this.l2, { ...options.resilience, events: this.events, logger: options.logger });
  }

  private readonly readL1: LayerRead = async (key) => {
    let entry: CacheEntry | undefined;
    try {
      entry = await this.l1.get(key);
    } catch (error) {
      throw this.failure('l1', 'get', key, error);
    }
    if (entry === undefined) this.events.miss('l1', key);
    else this.events.hit('l1', key);
    return entry;
  };

  private readonly readL2: LayerRead = (key) => this.readLayer2(key, undefined);

  /** L1 for a read whose caller has just found L1 empty synchronously: the miss, without asking again. */
  private readonly knownL1Miss: LayerRead = (key) => {
    this.events.miss('l1', key);
    return RESOLVED_MISS;
  };

  /** L2's entry for `key`, reported as a hit or a miss; an expired or undecodable entry is a miss. */
  private readLayer2(key: string, timeoutMs: number | undefined): Promise<CacheEntry | undefined> {
    return this.askL2(key, timeoutMs).then(
      (entry) => this.l2Answered(key, entry),
      (error: unknown) => this.l2ReadFailed(key, error),
    );
  }

  /** L2's reply, unreported; a store that throws instead of rejecting rejects here. */
  private askL2(key: string, timeoutMs: number | undefined): Promise<CacheEntry | undefined> {
    const guard = this.l2Resilience;
    try {
      return guard === null ? (this.l2 as CacheStore).get(key) : guard.get(key, timeoutMs === undefined ? undefined : { timeoutMs });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private l2Answered(key: string, entry: CacheEntry | undefined, now: number = Date.now()): CacheEntry | undefined {
    if (entry !== undefined && isExpired(entry, now)) entry = undefined;
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

  get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    return this.read<T>(key, this.readPolicy).then((hit) => hit?.entry);
  }

  /**
   * Reads through the layers with `policy`, refilling L1 after an L2 hit as the refill policy says.
   * While the L2 circuit breaker is open, L2 answers every read with a miss without being asked.
   */
  read<T>(key: string, policy: ReadPolicy = this.readPolicy, options?: LayerCallOptions, l1Missed = false): Promise<ReadHit<T> | undefined> {
    if (this.l2 === null) return this.readL1Alone(key, l1Missed);
    const timeoutMs = options?.timeoutMs;
    if (l1Missed && policy.answersL1MissesWithL2 === true) {
      // The policy's answer is L2's: read it without the policy's own promise, in one step from L2's reply.
      // The L1 miss is still reported.
      this.events.miss('l1', key);
      return this.askL2(key, timeoutMs).then(
        (reply) => {
          const now = Date.now();
          const entry = this.l2Answered(key, reply, now) as CacheEntry<T> | undefined;
          return entry === undefined ? undefined : this.refilledAfter(key, { entry, source: 'l2' }, now);
        },
        (error: unknown) => this.l2ReadFailed(key, error),
      );
    }
    return this.readWithPolicy(key, policy, timeoutMs, l1Missed);
  }

  private async readL1Alone<T>(key: string, l1Missed: boolean): Promise<ReadHit<T> | undefined> {
    if (l1Missed) return this.knownL1Miss(key) as Promise<undefined>;
    try {
      const entry = (await this.readL1(key)) as CacheEntry<T> | undefined;
      return entry === undefined ? undefined : { entry, source: 'l1' };
    } catch {
      return undefined; // reported by readL1; with no L2 to fall back to, an L1 failure is a miss
    }
  }

  private async readWithPolicy<T>(key: string, policy: ReadPolicy, timeoutMs: number | undefined, l1Missed: boolean): Promise<ReadHit<T> | undefined> {
    const readL2 = timeoutMs === undefined ? this.readL2 : (k: string) => this.readLayer2(k, timeoutMs);
    const readL1 = l1Missed ? this.knownL1Miss : this.readL1;
    const hit = await policy.execute(key, readL1 as LayerRead<T>, readL2 as LayerRead<T>, this.offload);
    return hit === undefined || hit.source !== 'l2' ? hit : this.refilledAfter(key, hit);
  }

  /** An L2 hit, after refilling L1 with it as the refill policy says. */
  private refilledAfter<T>(key: string, hit: ReadHit<T>, now: number = Date.now()): ReadHit<T> {
    if (this.refillPolicy === RefillPolicy.Always) this.refill(key, hit.entry, now);
    return hit;
  }

  set<T>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined): Promise<void> {
    return this.write(key, entry, ttlMs, this.writePolicy);
  }

  /**
   * Writes the entry to the layers with `policy`. When L2 fails (or is skipped by its open breaker) and the
   * policy still resolves, the L2 write is kept and replayed once L2 answers again.
   */
  write<T>(
    key: string,
    entry: CacheEntry<T>,
    ttlMs: number | undefined,
    policy: WritePolicy = this.writePolicy,
    options?: LayerCallOptions,
  ): Promise<void> {
    const l2 = this.l2;
    // A per-call time limit applies to this write alone, so it is not batched with others.
    if (l2 !== null && policy.settlesOnL1Success === true && options?.timeoutMs === undefined && this.wroteL1AndQueuedL2(key, entry, ttlMs)) {
      return RESOLVED_WRITE;
    }
    const writeL1 = (k: string) => this.writeL1(k, entry, ttlMs);
    if (l2 === null) return writeL1(key);
    const guard = this.l2Resilience;
    const writeL2InBackground = (k: string) => this.backgroundWrites.add(k, entry, ttlMs);
    if (guard === null) return policy.execute(key, writeL1, (k) => this.writeL2With(k, () => l2.set(k, entry, ttlMs)), this.offload, writeL2InBackground);
    const timeoutMs = options?.timeoutMs;
    // The replay decision of this write's L2 call follows the policy's outcome. It is registered before the
    // caller's own reaction, so it is made before the caller resumes, with no extra promise in between. (A race
    // loser sent with the background writes never makes this call; its decision then applies to nothing.)
    const call = { timeoutMs, decision: { state: 'pending' } as ReplayDecision };
    const writeL2 = (k: string) => this.writeL2With(k, () => guard.set(k, entry, ttlMs, call));
    const written = policy.execute(key, writeL1, writeL2, this.offload, timeoutMs === undefined ? writeL2InBackground : undefined);
    written.then(
      () => guard.decide(key, call.decision, true),
      () => guard.decide(key, call.decision, false),
    );
    return written;
  }

  /**
   * A write no caller waits for: an in-process L1 is written before this returns (by the write policy, or
   * by the engine for a policy that declares `writesL2AfterL1Success`) and the L2 write goes out with the
   * other background writes, in one batch (see `BackgroundL2Writes`); a failed L2 write is kept and
   * replayed. Failures are reported, never thrown.
   */
  writeInBackground<T>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined, policy: WritePolicy = this.writePolicy): void {
    if (this.l2 !== null && policy.writesL2AfterL1Success === true && this.wroteL1AndQueuedL2(key, entry, ttlMs)) return;
    const writeL1 = (k: string) => this.writeL1(k, entry, ttlMs);
    const writeL2InBackground = (k: string) => this.backgroundWrites.add(k, entry, ttlMs);
    const writeL2 = (k: string): Promise<void> => {
      writeL2InBackground(k);
      return RESOLVED_WRITE;
    };
    let written: Promise<void>;
    try {
      written = this.l2 === null ? writeL1(key) : policy.execute(key, writeL1, writeL2, this.offload, writeL2InBackground);
    } catch {
      return; // a policy that throws instead of rejecting; each layer reported its own failure
    }
    written.then(undefined, ignore);
  }

  /**
   * What a policy that declares it would do (see `WritePolicy.settlesOnL1Success`), without its promises:
   * a synchronous L1 written at once, then the L2 write queued with the background writes. False when L1
   * has no synchronous writes or its write threw; the policy then runs, and its own L1 write reports the failure.
   */
  private wroteL1AndQueuedL2(key: string, entry: CacheEntry, ttlMs: number | undefined): boolean {
    const l1 = this.l1;
    if (l1.setSync === undefined) return false;
    try {
      l1.setSync(key, entry, ttlMs);
    } catch {
      return false;
    }
    this.l1Written(key, 'set');
    this.backgroundWrites.add(key, entry, ttlMs);
    return true;
  }

  /** Sends a batch of background L2 writes and reports each one. */
  private readonly sendBackgroundWrites = (writes: readonly StoreWrite[]): Promise<void> => {
    const guard = this.l2Resilience;
    const sent = guard === null ? setEach(this.l2 as CacheStore, writes) : guard.setMany(writes);
    return sent.then((outcomes) => {
      for (let index = 0; index < writes.length; index++) {
        const outcome = outcomes[index];
        if (outcome === undefined) this.events.write('l2', writes[index].key);
        else this.failure('l2', 'set', writes[index].key, outcome);
      }
    });
  };

  /**
   * Deletes from both layers at once; one failure is reported, both reject with `BothLayersFailedError`.
   * An L2 delete that failed while L1's succeeded is kept and replayed, like a tolerated write.
   */
  async delete(key: string, options?: LayerCallOptions): Promise<void> {
    const guard = this.l2Resilience;
    if (guard === null) {
      await this.onBothLayers('delete', key, (store) => store.delete(key));
      return;
    }
    const call = { timeoutMs: options?.timeoutMs, decision: { state: 'pending' } as ReplayDecision };
    try {
      await this.onBothLayers('delete', key, (store, layer) => (layer === 'l1' ? store.delete(key) : guard.delete(key, call)));
    } catch (error) {
      guard.decide(key, call.decision, false);
      throw error;
    }
    guard.decide(key, call.decision, true);
  }

  async clear(prefix?: string): Promise<void> {
    const guard = this.l2Resilience;
    await this.onBothLayers('clear', prefix ?? '*', (store, layer) => {
      if (layer === 'l2' && guard !== null) return guard.clear(prefix);
      return store.clear ? store.clear(prefix) : Promise.resolve();
    });
  }

  /**
   * Replays the L2 writes kept while L2 was failing, for up to `timeoutMs`, then stops keeping them; what
   * could not be written is counted (`stats().resilience.replay.abandoned`) and logged. The module calls
   * it on application shutdown, after draining the offload service.
   */
  shutdown(timeoutMs: number): Promise<ReplayShutdownResult> {
    return this.l2Resilience === null ? Promise.resolve({ replayed: 0, abandoned: 0 }) : this.l2Resilience.shutdown(timeoutMs);
  }

  /** Gives up on kept L2 writes (counted and logged; call `shutdown` first to replay them), then closes both layers. */
  async close(): Promise<void> {
    await this.l2Resilience?.shutdown(0);
    await Promise.allSettled([this.l1.close?.(), this.l2?.close?.()]);
  }

  /**
   * Writes L1 for a write (`set`) or a refill, reporting it as such; an L1 with synchronous writes (`setSync`)
   * is written at once, without a promise of its own.
   */
  private writeL1(key: string, entry: CacheEntry, ttlMs: number | undefined, operation: 'set' | 'refill' = 'set'): Promise<void> {
    const l1 = this.l1;
    let written: Promise<void> | undefined;
    try {
      if (l1.setSync === undefined) written = l1.set(key, entry, ttlMs);
      else l1.setSync(key, entry, ttlMs);
    } catch (error) {
      return Promise.reject(this.failure('l1', operation, key, error));
    }
    if (written === undefined) {
      this.l1Written(key, operation);
      return RESOLVED_WRITE;
    }
    return written.then(
      () => this.l1Written(key, operation),
      (error: unknown) => {
        throw this.failure('l1', operation, key, error);
      },
    );
  }

  private l1Written(key: string, operation: 'set' | 'refill'): void {
    if (operation === 'refill') this.events.refill(key);
    else this.events.write('l1', key);
  }

  /** Runs an L2 write and reports it: one step after L2's own promise. */
  private writeL2With(key: string, write: () => Promise<void>): Promise<void> {
    let written: Promise<void>;
    try {
      written = write();
    } catch (error) {
      return Promise.reject(this.failure('l2', 'set', key, error));
    }
    return written.then(
      () => this.events.write('l2', key),
      (error: unknown) => {
        throw this.failure('l2', 'set', key, error);
      },
    );
  }

  /** Runs an operation on both layers at once: one failure is reported, both reject with both causes. */
  private async onBothLayers(operation: CacheOperation, key: string, run: (store: CacheStore, layer: CacheLayer) => Promise<void>): Promise<void> {
    const attempt = async (layer: CacheLayer, store: CacheStore): Promise<unknown> => {
      try {
        await run(store, layer);
        if (operation === 'delete') this.events.deleted(layer, key);
        return undefined;
      } catch (error) {
        return this.failure(layer, operation, key, error);
      }
    };
    const [l1Error, l2Error] = await Promise.all([attempt('l1', this.l1), this.l2 ? attempt('l2', this.l2) : undefined]);
    if (l1Error && (l2Error || this.l2 === null)) throw this.l2 === null ? l1Error : new BothLayersFailedError(l1Error, l2Error);
  }

  /**
   * Copies an L2 hit into L1 with its remaining TTL, without making the caller wait. The write is started
   * here rather than handed to the offload service: an in-process L1 write is cheaper than a task, and a
   * refill lost at shutdown costs nothing but a later L2 read.
   */
  private refill(key: string, entry: CacheEntry, now: number): void {
    const ttl = remainingTtl(entry, now);
    if (ttl !== undefined && ttl <= 0) return;
    const written = this.writeL1(key, entry, ttl, 'refill');
    // The failure was reported where it happened; an in-process L1 has already settled.
    if (written !== RESOLVED_WRITE) written.then(undefined, ignore);
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
