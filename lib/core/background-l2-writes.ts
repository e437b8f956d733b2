import type { Offload } from '../offload/offload.interface';
import type { StoreWrite } from '../stores/cache-store.interface';
import type { CacheEntry } from './cache-entry';

/** Most writes one batch carries; a longer burst goes out as several batches. */
export const MAX_WRITES_PER_BATCH = 512;

/** The offload task kind of a batch of background L2 writes. */
export const L2_WRITES_TASK = 'l2-writes';

/**
 * The L2 writes no caller waits for (race losers, background puts), gathered into batches that go out as one
 * background task each: one offload task, one breaker permit, one deadline and one write to the socket,
 * instead of one of each per write. A batch takes every write added until the offload service starts it
 * (on the next turn of the event loop at the earliest), so the writes of a burst travel together, and the
 * offload service's `drain()` waits for them.
 *
 * When the offload service refuses the batch (its queue is full, or it is shutting down), the batch is still
 * sent, on the next turn and unobserved: a write the caller was told would happen is not dropped.
 * @internal
 */
export class BackgroundL2Writes {
  private open: StoreWrite[] | undefined;

  /**
   * @param send Sends one batch and reports each write's outcome; never rejects.
   */
  constructor(
    private readonly offload: Offload,
    private readonly send: (writes: readonly StoreWrite[]) => Promise<void>,
  ) {}

  /** Adds a write to the batch being gathered, starting a new batch when there is none (or it is full). */
  add(key: string, entry: CacheEntry, ttlMs: number | undefined): void {
    const open = this.open;
    if (open !== undefined && open.length < MAX_WRITES_PER_BATCH) {
      open.push({ key, entry, ttlMs });
      return;
    }
    const batch: StoreWrite[] = [{ key, entry, ttlMs }];
    this.open = batch;
    if (!this.handOff(batch)) setImmediate(() => this.sendUnobserved(batch));
  }

  private handOff(batch: StoreWrite[]): boolean {
    try {
      return this.offload.run(L2_WRITES_TASK, () => this.start(batch));
    } catch {
      // `run` must not throw; if a custom Offload does, the batch goes out unobserved like a refused one.
      return false;
    }
  }

  private sendUnobserved(batch: StoreWrite[]): void {
    try {
      this.start(batch).then(undefined, ignore);
    } catch {
      // `send` reports each write's outcome itself; nothing is left to report here.
    }
  }

  /** Closes the batch to new writes and sends it. */
  private start(batch: StoreWrite[]): Promise<void> {
    if (this.open === batch) this.open = undefined;
    return this.send(batch);
  }
}

function ignore(): void {}
