import { callEach } from './call-each.js';

/** A deadline in a {@link DeadlineQueue}: pass it to `cancel` once the work it bounds has settled. */
export interface Deadline<T> {
  readonly item: T;
  /** `performance.now()` time at which the deadline passes. */
  readonly at: number;
  /** True once cancelled or expired. */
  done: boolean;
  next: Deadline<T> | undefined;
  readonly lane: Lane<T>;
}

/** Deadlines added with the same delay, which therefore pass in the order they were added. */
interface Lane<T> {
  head: Deadline<T> | undefined;
  tail: Deadline<T> | undefined;
}

/**
 * Many deadlines on one timer. Work bounded by a time limit (a Redis command, a background task) adds a
 * deadline when it starts and cancels it when it settles; when a deadline passes first, `onExpired`
 * receives its item. Adding and cancelling cost a few field writes instead of a `setTimeout` and a
 * `clearTimeout` each: deadlines with the same delay are kept in arrival order, so only the oldest of each
 * delay is looked at, and cancelled ones are let go of when they reach the front. The timer does not keep
 * the process alive; once every deadline has settled it is left to fire once and stop, not cleared.
 *
 * @example
 * const deadlines = new DeadlineQueue<Command>((command) => command.fail(new Error('timed out')));
 * const deadline = deadlines.add(command, 200);
 * command.sent.finally(() => deadlines.cancel(deadline));
 */
export class DeadlineQueue<T> {
  private readonly lanes = new Map<number, Lane<T>>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The `setTimeout` the armed timer was set with (see `add`), and the `clearTimeout` that goes with it. */
  private armedWith: typeof setTimeout | undefined;
  private clearWith: typeof clearTimeout = clearTimeout;
  /** When the armed timer fires (`performance.now()` time); `Infinity` when none is armed. */
  private armedFor = Number.POSITIVE_INFINITY;
  /** Deadlines neither cancelled nor expired. */
  private pending = 0;

  /** @param onExpired Called once for each deadline that passes before it is cancelled. */
  constructor(private readonly onExpired: (item: T) => void) {}

  /** Adds a deadline `delayMs` milliseconds from now for `item`. */
  add(item: T, delayMs: number): Deadline<T> {
    let lane = this.lanes.get(delayMs);
    if (lane === undefined) {
      lane = { head: undefined, tail: undefined };
      this.lanes.set(delayMs, lane);
    }
    const deadline: Deadline<T> = { item, at: performance.now() + delayMs, done: false, next: undefined, lane };
    if (lane.tail === undefined) lane.head = deadline;
    else lane.tail.next = deadline;
    lane.tail = deadline;
    this.pending++;
    // Fake timers installed or removed in a test discard the armed timer with them: arm again with the current ones.
    if (deadline.at < this.armedFor) this.arm(deadline.at);
    else if (this.armedWith !== globalThis.setTimeout) this.arm(Math.min(deadline.at, this.armedFor));
    return deadline;
  }

  /** The work settled in time: the deadline will not expire. Returns false when it had already expired or been cancelled. */
  cancel(deadline: Deadline<T>): boolean {
    if (deadline.done) return false;
    deadline.done = true;
    if (--this.pending === 0) {
      // The timer is left to run out rather than cleared: one call at a time would otherwise arm and clear a
      // timer per call, which adds microseconds to each round trip. When it fires with nothing pending, it stops.
      for (const lane of this.lanes.values()) {
        lane.head = undefined;
        lane.tail = undefined;
      }
      return true;
    }
    // Work mostly settles in the order it started, so the front is released here rather than by the timer.
    const lane = deadline.lane;
    if (lane.head === deadline) {
      let head = deadline.next;
      while (head !== undefined && head.done) head = head.next;
      lane.head = head;
      if (head === undefined) lane.tail = undefined;
    }
    return true;
  }

  private arm(at: number): void {
    this.disarm();
    this.armedFor = at;
    this.armedWith = globalThis.setTimeout;
    this.clearWith = globalThis.clearTimeout;
    this.timer = this.armedWith(this.expire, Math.max(1, Math.ceil(at - performance.now())));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer === undefined) return;
    this.clearWith(this.timer);
    this.timer = undefined;
    this.armedWith = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private readonly expire = (): void => {
    this.timer = undefined;
    this.armedWith = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let nextAt = Number.POSITIVE_INFINITY;
    const expired: T[] = [];
    for (const [delay, lane] of this.lanes) {
      let head = lane.head;
      while (head !== undefined && (head.done || head.at <= now)) {
        if (!head.done) {
          head.done = true;
          this.pending--;
          expired.push(head.item);
        }
        head = head.next;
      }
      lane.head = head;
      if (head === undefined) {
        lane.tail = undefined;
        this.lanes.delete(delay);
      } else if (head.at < nextAt) nextAt = head.at;
    }
    if (nextAt !== Number.POSITIVE_INFINITY) this.arm(nextAt);
    callEach(expired, this.onExpired);
  };
}
