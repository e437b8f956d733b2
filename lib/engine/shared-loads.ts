import { randomUUID } from 'node:crypto';
import type { CacheEntry } from '../core/cache-entry.js';
import type { LeaseSource } from '../core/lease.js';
import { type PromiseOrValue, isPromiseLike } from '../core/promise-or-value.js';
import type { LayeredStore } from './layered-store.js';

/** Options of a load shared between instances (`singleFlight: 'distributed'`). */
export interface SingleFlightOptions {
  /**
   * `'local'` (default): concurrent calls for one key on this instance share one factory call.
   * `'distributed'`: instances that miss one key at once share one factory call in total. One takes a
   * lease on the key in L2 and loads; the others wait until its value is in L2 (they hear of it through
   * invalidation), then read it. Needs an L2 that hands out leases (`RedisStore`).
   */
  singleFlight?: 'local' | 'distributed';
  /**
   * For `'distributed'`: how long the lease lasts, in milliseconds (default 10 000). A holder that dies
   * (a killed process) holds the key no longer than this; a factory that takes longer lets another instance
   * load too.
   */
  leaseMs?: number;
  /**
   * For `'distributed'`: the longest an instance waits for another's value before it calls the factory
   * itself, in milliseconds (default 10 000).
   */
  leaseWaitMs?: number;
}

export const DEFAULT_LEASE_MS = 10_000;
export const DEFAULT_LEASE_WAIT_MS = 10_000;

/** What a shared load tells its caller to do: load (and then release), or use the value another instance loaded. */
export type SharedLoadTurn<T> = { readonly load: true; release(): void } | { readonly load: false; readonly entry: CacheEntry<T> };

const keepNothing = (): void => undefined;

/**
 * Loads shared between instances through leases in L2. A caller that takes the lease reads L2 once more (the
 * last holder may have written the value after this caller's miss), else loads and writes the value, then
 * gives the lease back; the others wait for a change of the key or of its lease (heard through
 * the invalidation bus) or for the lease to run out, then read L2: a value ends the wait, a lease given
 * back or run out without one is taken in turn. Waits end at timers or messages, never by polling. When L2
 * cannot be asked, the caller loads on its own: the cache never fails for want of a lease.
 * @internal
 */
export class SharedLoads {
  /**
   * @param usable Whether an entry found in the layers counts as a hit (a tagged entry whose tag was
   * invalidated does not).
   */
  constructor(
    private readonly leases: LeaseSource,
    private readonly store: LayeredStore,
    private readonly usable: (entry: CacheEntry) => PromiseOrValue<boolean>,
  ) {}

  /** Waits for this caller's turn to load `fullKey`, or for a value another instance loaded. */
  async turn<T>(fullKey: string, leaseMs: number, waitMs: number): Promise<SharedLoadTurn<T>> {
    const lease = leaseKeyOf(fullKey);
    const token = randomUUID();
    const deadline = Date.now() + waitMs;
    for (;;) {
      let left: number;
      try {
        left = await this.leases.tryLease(lease, token, leaseMs);
      } catch {
        return { load: true, release: keepNothing };
      }
      if (left === 0) {
        // The last holder may have written the value and given the lease back after this caller's miss: use it.
        const written = await this.readShared<T>(fullKey);
        if (written === undefined) return { load: true, release: () => this.release(lease, token) };
        this.release(lease, token);
        return { load: false, entry: written };
      }
      const now = Date.now();
      if (now >= deadline) return { load: true, release: keepNothing };
      await this.store.waitForChange([fullKey, lease], Math.min(left, deadline - now));
      const found = await this.readShared<T>(fullKey);
      if (found !== undefined) return { load: false, entry: found };
    }
  }

  private async readShared<T>(fullKey: string): Promise<CacheEntry<T> | undefined> {
    try {
      const hit = this.store.read<T>(fullKey);
      const entry = (isPromiseLike(hit) ? await hit : hit)?.entry;
      return entry !== undefined && (await this.usable(entry)) ? entry : undefined;
    } catch {
      return undefined; // reported by the layer that failed; the wait goes on
    }
  }

  private release(lease: string, token: string): void {
    this.leases.releaseLease(lease, token).then(
      () => this.store.announceChange(lease),
      () => undefined, // the lease runs out by itself
    );
  }
}

/** The lease of a key: next to it, under the same prefix (so a bus that watches the prefix hears of it), where no key a cache builds can be. */
export function leaseKeyOf(fullKey: string): string {
  return `${fullKey}\u0000lease`;
}
