/** Keys written while reads were waiting, remembered at most; beyond it every waiting read counts as stale. */
const MAX_REMEMBERED_WRITES = 10_000;

/**
 * Tells a read (or a `getOrSet` load) that waited for a layer whether a write, delete or clear of its key
 * was issued while it waited: an L2 reply that comes after a newer local write or delete must not refill L1
 * with the value it replaced, and a value loaded before a write must not be written back after it.
 *
 * Every write moves an epoch on; a read notes the epoch it began at. While any read waits, writes also note
 * which key they wrote at which epoch, so a read that sees the epoch moved looks up its own key. When no read
 * waits, nothing is remembered, and a read answered at once (an in-process hit) never asks. Forgetting is
 * always safe: a read that cannot tell counts as stale, and a stale read only skips a refill or a write-back.
 * @internal
 */
export class InFlightReads {
  private epoch = 0;
  private waiting = 0;
  /** The epoch of the last write of each key written while reads were waiting. */
  private readonly written = new Map<string, number>();
  /** Reads that began before this epoch cannot be told apart: they count as stale. */
  private forgottenBefore = 0;

  /** A read that has to wait begins; returns the epoch to pass to `isStale`. Call `end` when it is over. */
  begin(): number {
    this.waiting++;
    return this.epoch;
  }

  /** True when a write, delete or clear of `key` was issued since the read that began at `start`. */
  isStale(key: string, start: number): boolean {
    if (start === this.epoch) return false;
    if (start < this.forgottenBefore) return true;
    const written = this.written.get(key);
    return written !== undefined && written > start;
  }

  end(): void {
    if (--this.waiting === 0 && this.written.size > 0) this.written.clear();
  }

  /** A write or delete of `key` was issued. */
  invalidate(key: string): void {
    this.epoch++;
    if (this.waiting === 0) return;
    if (this.written.size >= MAX_REMEMBERED_WRITES) this.forget();
    else this.written.set(key, this.epoch);
  }

  /** A clear was issued: every read waiting now counts as stale, whatever its key. */
  invalidatePrefix(): void {
    this.epoch++;
    if (this.waiting > 0) this.forget();
  }

  private forget(): void {
    this.written.clear();
    this.forgottenBefore = this.epoch;
  }
}
