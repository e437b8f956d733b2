import { type PromiseOrValue, isPromiseLike } from '../core/promise-or-value.js';

const ignore = (): void => undefined;

/**
 * The place of a write in its key's order, taken when the write was issued, for a layer call its policy
 * makes later (a sequential policy writes L2 only after L1 answered). The call runs in that place; a
 * policy that never makes it frees the place with `release`.
 * @internal
 */
export interface KeySlot {
  readonly key: string;
  /** What the call must wait for: the writes of the key issued before it. */
  readonly after: Promise<unknown> | undefined;
  /** Frees the place; later writes of the key stop waiting for it. Idempotent. */
  release(): void;
}

/**
 * Keeps the operations one layer receives for one key in the order the cache issued them, whatever order
 * the layer answers in: a write or delete of a key starts once the writes of it issued before have settled,
 * a read waits for those writes, a clear waits for the writes it covers and holds back those issued after
 * it. Reads do not wait for each other, and keys never wait for other keys. A layer that answers at once
 * never leaves anything pending, so an in-process layer costs one map look-up per call.
 *
 * Without it, a layer that answers its second write first (a custom store, a queue, a reconnect) could keep
 * the first, a delete could land before the write it follows, and a read answered before an earlier write
 * landed could refill L1 with the value that write replaced.
 * @internal
 */
export class KeyOrder {
  /** The last unsettled write of each key (or the place held for one), observed: it never rejects. */
  private readonly writing = new Map<string, Promise<void>>();
  /** Clears that have not settled yet, with the prefix each covers (`undefined`: every key). */
  private clearing: { readonly prefix: string | undefined; readonly done: Promise<void> }[] = [];

  /** True when nothing issued before is pending for `key`: an operation on it can run at once. */
  idle(key: string): boolean {
    return (this.writing.size === 0 || !this.writing.has(key)) && this.clearing.length === 0;
  }

  /** Runs a read of `key` once the writes of it issued before have settled. */
  read<R>(key: string, run: () => PromiseOrValue<R>): PromiseOrValue<R> {
    const after = this.pendingBefore(key);
    return after === undefined ? run() : after.then(run);
  }

  /** Runs a write or delete of `key` after the writes of it issued before it (or in `slot`, its reserved place). */
  write(key: string, run: () => PromiseOrValue<void>, slot?: KeySlot): PromiseOrValue<void> {
    if (slot !== undefined && slot.key === key) {
      const written = slot.after === undefined ? run() : slot.after.then(run);
      if (!isPromiseLike(written)) slot.release();
      else written.then(slot.release, slot.release);
      return written;
    }
    const after = this.pendingBefore(key);
    const written = after === undefined ? run() : after.then(run);
    if (isPromiseLike(written)) this.hold(key, written.then(ignore, ignore));
    return written;
  }

  /** Takes the next place in `key`'s order for a write whose layer call comes later. */
  reserve(key: string): KeySlot {
    const after = this.pendingBefore(key);
    let release: () => void = ignore;
    const freed = new Promise<void>((resolve) => (release = resolve));
    this.hold(key, freed);
    return { key, after, release };
  }

  /** Runs a clear of the keys under `prefix` (every key when `undefined`) after the writes it covers. */
  clear(prefix: string | undefined, run: () => PromiseOrValue<void>): PromiseOrValue<void> {
    const covered: Promise<void>[] = [];
    for (const [key, pending] of this.writing) if (prefix === undefined || key.startsWith(prefix)) covered.push(pending);
    for (const earlier of this.clearing) covered.push(earlier.done);
    const cleared = covered.length === 0 ? run() : Promise.all(covered).then(run);
    if (!isPromiseLike(cleared)) return cleared;
    const clear = { prefix, done: cleared.then(ignore, ignore) };
    this.clearing.push(clear);
    void clear.done.then(() => {
      this.clearing = this.clearing.filter((other) => other !== clear);
    });
    return cleared;
  }

  /** Makes later operations of `key` wait for `pending`, until it settles. */
  private hold(key: string, pending: Promise<void>): void {
    this.writing.set(key, pending);
    void pending.then(() => {
      if (this.writing.get(key) === pending) this.writing.delete(key);
    });
  }

  /** What an operation on `key` must wait for: the unsettled write of it and the clears that cover it. */
  private pendingBefore(key: string): Promise<unknown> | undefined {
    const writing = this.writing.size === 0 ? undefined : this.writing.get(key);
    if (this.clearing.length === 0) return writing;
    const waits: Promise<unknown>[] = writing === undefined ? [] : [writing];
    for (const clear of this.clearing) if (clear.prefix === undefined || key.startsWith(clear.prefix)) waits.push(clear.done);
    return waits.length === 0 ? undefined : waits.length === 1 ? waits[0] : Promise.all(waits);
  }
}
