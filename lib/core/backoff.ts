/**
 * Delays for retries that fail again and again: each one twice the one before, from `firstMs` up to `maxMs`,
 * each drawn between half of that and all of it ("equal jitter"), so that instances that lost a server
 * together do not all come back in the same millisecond. `reset()` after a success starts again from `firstMs`.
 *
 * @example
 * const backoff = new Backoff(100, 5_000);
 * setTimeout(retry, backoff.next()); // 50 to 100 ms, then 100 to 200 ms, ...
 */
export class Backoff {
  private attempts = 0;

  constructor(
    private readonly firstMs: number,
    private readonly maxMs: number,
  ) {}

  /** The delay before the next retry, in whole milliseconds; each call counts one more failed try. */
  next(): number {
    const delay = Math.min(this.maxMs, this.firstMs * 2 ** Math.min(this.attempts, 30));
    this.attempts++;
    return Math.max(1, Math.ceil(delay / 2 + (Math.random() * delay) / 2));
  }

  /** A try succeeded: the next delay is the first one again. */
  reset(): void {
    this.attempts = 0;
  }
}
