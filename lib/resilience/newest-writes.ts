/** Most keys remembered while writes are in flight before each finishing write forgets its own key. */
export const MAX_REMEMBERED_KEYS = 4_096;

/** The number of no write (they start at 1): a key's newest write once a clear covered it. */
const SUPERSEDED = 0;

/**
 * Numbers the L2 writes of each key and tells, when one finishes, whether it is still the newest write of
 * its key: only the newest may be kept for replay, or an older value would come back after a newer one.
 *
 * A finished write leaves its key's number behind rather than deleting it (deleting and re-adding keys of a
 * busy map costs more than the write around it); a later write of the key overwrites the number, and the
 * whole map is dropped whenever no write is in flight. Past {@link MAX_REMEMBERED_KEYS} keys, each newest
 * write that finishes removes its key, so the map stays bounded under writes that never pause.
 * @internal
 */
export class NewestWrites {
  private readonly newest = new Map<string, number>();
  private seq = 0;
  private inFlight = 0;

  /** A write of `key` starts: returns its number, which makes it the newest write of `key`. */
  start(key: string): number {
    const seq = ++this.seq;
    this.newest.set(key, seq);
    this.inFlight++;
    return seq;
  }

  /** The write numbered `seq` finished: returns whether no newer write of `key` started meanwhile. */
  finish(key: string, seq: number): boolean {
    const newest = this.newest.get(key) === seq;
    if (--this.inFlight <= 0) {
      this.inFlight = 0;
      this.newest.clear();
    } else if (newest && this.newest.size > MAX_REMEMBERED_KEYS) this.newest.delete(key);
    return newest;
  }

  /**
   * A clear of the keys under `prefix` (every key without one) was issued: no write in flight under it is
   * the newest of its key any more, so none of them is kept for replay when it fails.
   */
  supersedePrefix(prefix: string | undefined): void {
    for (const key of this.newest.keys()) if (prefix === undefined || key.startsWith(prefix)) this.newest.set(key, SUPERSEDED);
  }

  /** Writes started and not yet finished. */
  get writesInFlight(): number {
    return this.inFlight;
  }

  /** Keys remembered now (at most one per key with a write in flight, plus up to the cap of finished ones). */
  get rememberedKeys(): number {
    return this.newest.size;
  }
}
