import type { CacheEntry } from '../core/cache-entry.js';
import { LayeredCacheError } from '../core/errors.js';
import { CHAOS_INJECTED_FAILURE, CHAOS_INVALID_OPTION, CHAOS_STORE_CLOSED } from '../core/messages.js';
import type { CacheStore } from '../stores/cache-store.interface.js';

/** A `CacheStore` operation a {@link ChaosStore} can disturb. */
export type ChaosOperation = 'get' | 'set' | 'delete' | 'clear';

/** Faults a {@link ChaosStore} injects. Every field is optional; none means the store behaves. */
export interface ChaosStoreOptions {
  /** Probability, from 0 to 1, that an operation fails (after its latency). Default 0. */
  failureRate?: number;
  /** Latency added before each operation, in milliseconds: a fixed number or a `[min, max]` range. Default 0. */
  latencyMs?: number | readonly [number, number];
  /** Operations hang (never settle) until `recover()`, which lets them run on; `close()` rejects them. Default false. */
  hang?: boolean;
  /** Builds the error of an injected failure. Default: a {@link ChaosError}. */
  errorFactory?: (operation: ChaosOperation, key: string) => Error;
  /** Source of randomness in [0, 1) for failures and latency ranges; pass a seeded one to replay a run. Default `Math.random`. */
  random?: () => number;
  /** Operations the faults apply to. Default: all of them. */
  operations?: readonly ChaosOperation[];
}

/** Counters of a {@link ChaosStore}. */
export interface ChaosStoreStats {
  /** Operations received. */
  readonly calls: number;
  /** Operations failed on purpose. */
  readonly failures: number;
  /** Operations delayed on purpose. */
  readonly delayed: number;
  /** Operations hanging now. */
  readonly hanging: number;
}

/** The failure a {@link ChaosStore} injects (unless `errorFactory` says otherwise). */
export class ChaosError extends LayeredCacheError {
  constructor(
    readonly operation: ChaosOperation,
    readonly key: string,
  ) {
    super(CHAOS_INJECTED_FAILURE(operation, key));
  }
}

const ALL_OPERATIONS: readonly ChaosOperation[] = ['get', 'set', 'delete', 'clear'];

interface Hanging {
  readonly operation: ChaosOperation;
  readonly key: string;
  readonly resume: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * A fault-injection kit: wraps any `CacheStore` and makes it fail at a given rate, answer late, or hang,
 * so that you can check how your application behaves when its cache (Redis, typically) misbehaves. The
 * faults can be changed while it runs.
 *
 * @example
 * // In a test: the cache's L2 is Redis behind a ChaosStore.
 * const chaos = new ChaosStore(new RedisStore({ url }), { failureRate: 0.2, latencyMs: [5, 50] });
 * const app = await Test.createTestingModule({ imports: [LayeredCacheModule.forRoot({ l2: chaos }), AppModule] }).compile();
 * chaos.hang();      // Redis stops answering: calls wait for the cache's timeout, then the breaker opens
 * chaos.recover();   // back to normal; the hanging calls reach Redis
 * chaos.fail(1);     // every call fails at once
 */
export class ChaosStore implements CacheStore {
  private failureRate = 0;
  private latency: readonly [number, number] = [0, 0];
  private hanging = false;
  private errorFactory: (operation: ChaosOperation, key: string) => Error = (operation, key) => new ChaosError(operation, key);
  private random: () => number = Math.random;
  private affected = new Set<ChaosOperation>(ALL_OPERATIONS);
  private readonly hung = new Set<Hanging>();
  private calls = 0;
  private failures = 0;
  private delayed = 0;

  /** @throws LayeredCacheError when an option is out of range. */
  constructor(
    readonly inner: CacheStore,
    options: ChaosStoreOptions = {},
  ) {
    this.configure(options);
  }

  /** Changes the given faults; the others stay as they are. Returns the store, for chaining. */
  configure(options: ChaosStoreOptions): this {
    if (options.failureRate !== undefined) {
      if (typeof options.failureRate !== 'number' || !(options.failureRate >= 0 && options.failureRate <= 1)) {
        throw new LayeredCacheError(CHAOS_INVALID_OPTION('failureRate', options.failureRate, 'a number from 0 to 1'));
      }
      this.failureRate = options.failureRate;
    }
    if (options.latencyMs !== undefined) this.latency = latencyRange(options.latencyMs);
    if (options.hang !== undefined) {
      this.hanging = options.hang;
      if (!options.hang) this.releaseHung();
    }
    if (options.errorFactory !== undefined) this.errorFactory = options.errorFactory;
    if (options.random !== undefined) this.random = options.random;
    if (options.operations !== undefined) this.affected = new Set(options.operations);
    return this;
  }

  /** Every affected operation hangs from now on, until `recover()` or `configure({ hang: false })`. */
  hang(): this {
    return this.configure({ hang: true });
  }

  /** Affected operations fail with probability `rate` (default 1: all of them). */
  fail(rate = 1): this {
    return this.configure({ failureRate: rate });
  }

  /** Affected operations answer `latencyMs` later (a number, or a `[min, max]` range). */
  slow(latencyMs: number | readonly [number, number]): this {
    return this.configure({ latencyMs });
  }

  /** Removes every fault; operations hanging now go on to the wrapped store. */
  recover(): this {
    return this.configure({ hang: false, failureRate: 0, latencyMs: 0 });
  }

  /** Counters of what the store did. */
  stats(): ChaosStoreStats {
    return { calls: this.calls, failures: this.failures, delayed: this.delayed, hanging: this.hung.size };
  }

  /** The wrapped store's `get`, after the faults that apply. */
  get<T = unknown>(key: string): Promise<CacheEntry<T> | undefined> {
    return this.disturb('get', key, () => this.inner.get<T>(key));
  }

  /** The wrapped store's `set`, after the faults that apply. */
  set<T = unknown>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined): Promise<void> {
    return this.disturb('set', key, () => this.inner.set(key, entry, ttlMs));
  }

  /** The wrapped store's `delete`, after the faults that apply. */
  delete(key: string): Promise<void> {
    return this.disturb('delete', key, () => this.inner.delete(key));
  }

  /** The wrapped store's `clear` (a no-op when it has none), after the faults that apply. */
  clear(prefix?: string): Promise<void> {
    return this.disturb('clear', prefix ?? '*', () => this.inner.clear?.(prefix));
  }

  /** Rejects the operations hanging now, then closes the wrapped store. */
  async close(): Promise<void> {
    for (const hanging of [...this.hung]) {
      this.hung.delete(hanging);
      hanging.reject(new LayeredCacheError(CHAOS_STORE_CLOSED(hanging.operation, hanging.key)));
    }
    await this.inner.close?.();
  }

  private async disturb<R>(operation: ChaosOperation, key: string, run: () => R | Promise<R>): Promise<R> {
    this.calls++;
    if (!this.affected.has(operation)) return run();
    if (this.hanging) await this.hangUntilReleased(operation, key);
    const [min, max] = this.latency;
    if (max > 0) {
      this.delayed++;
      await new Promise((resolve) => setTimeout(resolve, min + (max - min) * this.random()));
    }
    if (this.failureRate > 0 && this.random() < this.failureRate) {
      this.failures++;
      throw this.errorFactory(operation, key);
    }
    return run();
  }

  private hangUntilReleased(operation: ChaosOperation, key: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const hanging: Hanging = { operation, key, resume: resolve, reject };
      this.hung.add(hanging);
    });
  }

  private releaseHung(): void {
    for (const hanging of [...this.hung]) {
      this.hung.delete(hanging);
      hanging.resume();
    }
  }
}

function latencyRange(latency: number | readonly [number, number]): readonly [number, number] {
  const [min, max] = typeof latency === 'number' ? [latency, latency] : latency;
  if (typeof min !== 'number' || typeof max !== 'number' || !(min >= 0) || !(max >= min) || !Number.isFinite(max)) {
    throw new LayeredCacheError(CHAOS_INVALID_OPTION('latencyMs', latency, 'a finite number of milliseconds >= 0, or a [min, max] range of them'));
  }
  return [min, max];
}
