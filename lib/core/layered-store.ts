import type { Offload } from '../offload/offload.interface';
import type { LayerRead, ReadHit, ReadPolicy } from '../policies/read/read-policy.interface';
import { SequentialReadPolicy } from '../policies/read/sequential-read.policy';
import { RefillPolicy } from '../policies/refill/refill-policy';
import type { WritePolicy } from '../policies/write/write-policy.interface';
import { OptimisticParallelWritePolicy } from '../policies/write/optimistic-parallel-write.policy';
import type { CacheStore } from '../stores/cache-store.interface';
import { type CacheEntry, remainingTtl } from './cache-entry';
import { CacheEventBus } from './cache-events';
import { BothLayersFailedError, type CacheLayer, CacheLayerError, type CacheOperation, CacheSerializationError } from './errors';

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
  /** Runs race losers and refills. */
  offload: Offload;
  /** Receives hits, misses, writes and errors. Default: a private bus. */
  events?: CacheEventBus;
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
  private readonly offload: Offload;
  private readonly events: CacheEventBus;

  constructor(options: LayeredStoreOptions) {
    this.l1 = options.l1;
    this.l2 = options.l2 ?? null;
    this.readPolicy = options.readPolicy ?? new SequentialReadPolicy();
    this.writePolicy = options.writePolicy ?? new OptimisticParallelWritePolicy();
    this.refillPolicy = options.refillPolicy ?? RefillPolicy.Always;
    this.offload = options.offload;
    this.events = options.events ?? new CacheEventBus();
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

  private readonly readL2: LayerRead = async (key) => {
    let entry: CacheEntry | undefined;
    try {
      entry = await (this.l2 as CacheStore).get(key);
    } catch (error) {
      const failure = this.failure('l2', 'get', key, error);
      // An entry that cannot be decoded (corrupt, foreign, or from an unknown format version) is a miss.
      if (error instanceof CacheSerializationError) {
        this.events.miss('l2', key);
        return undefined;
      }
      throw failure;
    }
    if (entry !== undefined && entry.expiresAt !== null && entry.expiresAt <= Date.now()) entry = undefined;
    if (entry === undefined) this.events.miss('l2', key);
    else this.events.hit('l2', key);
    return entry;
  };

  get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    return this.read<T>(key, this.readPolicy).then((hit) => hit?.entry);
  }

  /** Reads through the layers with `policy`, refilling L1 after an L2 hit as the refill policy says. */
  async read<T>(key: string, policy: ReadPolicy = this.readPolicy): Promise<ReadHit<T> | undefined> {
    if (this.l2 === null) {
      try {
        const entry = (await this.readL1(key)) as CacheEntry<T> | undefined;
        return entry === undefined ? undefined : { entry, source: 'l1' };
      } catch {
        return undefined; // reported by readL1; with no L2 to fall back to, an L1 failure is a miss
      }
    }
    const hit = await policy.execute(key, this.readL1 as LayerRead<T>, this.readL2 as LayerRead<T>, this.offload);
    if (hit !== undefined && hit.source === 'l2' && this.refillPolicy === RefillPolicy.Always) this.refill(key, hit.entry);
    return hit;
  }

  set<T>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined): Promise<void> {
    return this.write(key, entry, ttlMs, this.writePolicy);
  }

  /** Writes the entry to the layers with `policy`. */
  write<T>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined, policy: WritePolicy = this.writePolicy): Promise<void> {
    const writeL1 = (k: string) => this.writeLayer('l1', this.l1, k, entry, ttlMs);
    if (this.l2 === null) return writeL1(key);
    const l2 = this.l2;
    return policy.execute(key, writeL1, (k) => this.writeLayer('l2', l2, k, entry, ttlMs), this.offload);
  }

  async delete(key: string): Promise<void> {
    await this.onBothLayers('delete', key, (store) => store.delete(key));
  }

  async clear(prefix?: string): Promise<void> {
    await this.onBothLayers('clear', prefix ?? '*', (store) => (store.clear ? store.clear(prefix) : Promise.resolve()));
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.l1.close?.(), this.l2?.close?.()]);
  }

  private async writeLayer(layer: CacheLayer, store: CacheStore, key: string, entry: CacheEntry, ttlMs: number | undefined): Promise<void> {
    try {
      await store.set(key, entry, ttlMs);
    } catch (error) {
      throw this.failure(layer, 'set', key, error);
    }
    this.events.write(layer, key);
  }

  /** Runs an operation on both layers at once: one failure is reported, both reject with both causes. */
  private async onBothLayers(operation: CacheOperation, key: string, run: (store: CacheStore) => Promise<void>): Promise<void> {
    const attempt = async (layer: CacheLayer, store: CacheStore): Promise<unknown> => {
      try {
        await run(store);
        if (operation === 'delete') this.events.deleted(layer, key);
        return undefined;
      } catch (error) {
        return this.failure(layer, operation, key, error);
      }
    };
    const [l1Error, l2Error] = await Promise.all([attempt('l1', this.l1), this.l2 ? attempt('l2', this.l2) : undefined]);
    if (l1Error && (l2Error || this.l2 === null)) throw this.l2 === null ? l1Error : new BothLayersFailedError(l1Error, l2Error);
  }

  private refill(key: string, entry: CacheEntry): void {
    const ttl = remainingTtl(entry);
    if (ttl !== undefined && ttl <= 0) return;
    this.offload.run(
      'refill',
      async () => {
        try {
          await this.l1.set(key, entry, ttl);
        } catch (error) {
          throw this.failure('l1', 'refill', key, error);
        }
        this.events.refill(key);
      },
      { key: `refill:${key}` },
    );
  }

  /** Reports a layer failure once, at its source, and returns the error to throw. */
  private failure(layer: CacheLayer, operation: CacheOperation, key: string, cause: unknown): CacheLayerError {
    const error = new CacheLayerError(layer, operation, key, cause);
    this.events.error({
      layer,
      operation: cause instanceof CacheSerializationError ? 'serialize' : operation,
      key,
      error: cause instanceof CacheSerializationError ? cause : error,
    });
    return error;
  }
}
