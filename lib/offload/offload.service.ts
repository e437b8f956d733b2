import { type Deadline, DeadlineQueue } from '../core/deadline-queue.js';
import { NextTurn } from '../core/next-turn.js';
import { CacheTimeoutError, describeCause, LayeredCacheError } from '../core/errors.js';
import {
  OFFLOAD_ABORTED_BY_SHUTDOWN,
  OFFLOAD_HOOK_FAILED,
  OFFLOAD_INVALID_OPTION,
  OFFLOAD_SHUTDOWN_ABANDONED,
  OFFLOAD_TASK_FAILED,
  OFFLOAD_TASK_TIMED_OUT,
} from '../core/messages.js';
import { MAX_TIMER_MS } from '../core/with-timeout.js';
import type { Offload, OffloadRunOptions, OffloadTask, OffloadTaskKind } from '../core/offload.interface.js';

/** The signal of tasks that take none: never aborted, shared by all of them. */
const NEVER_ABORTED: AbortSignal = new AbortController().signal;

/** Limits of an {@link OffloadService}. Every field is optional. */
export interface OffloadOptions {
  /**
   * Most tasks running at once. Positive integer, default 256: a burst of background tasks (batches of L2
   * writes, race losers that had already started, your own) starts at once rather than in waves.
   */
  concurrency?: number;
  /** Most tasks waiting for a slot; beyond that `run` rejects. Positive integer, default 10 000. */
  maxQueued?: number;
  /** Default per-task timeout in milliseconds, also the default drain/shutdown deadline. Default 5 000. */
  timeoutMs?: number;
}

/** Where an {@link OffloadService} reports. Both are optional; without a logger the service is silent. */
export interface OffloadHooks {
  /** Called once per outcome; must be cheap. Whatever it throws is swallowed. */
  onEvent?(event: OffloadEvent): void;
  /** Receives a warning per failed or timed-out task and an error when shutdown abandons work. */
  logger?: { warn(message: string): void; error(message: string): void };
}

/**
 * One outcome of a task handed to {@link OffloadService.run}. `key` is the task's dedup key, if any.
 * Tasks abandoned by shutdown have no event: they are counted in `abandoned` and logged in one error.
 */
export type OffloadEvent =
  | {
      /** Settled normally, or (`deduplicated`) joined a task with the same key already in flight. */
      readonly outcome: 'completed' | 'deduplicated';
      readonly kind: OffloadTaskKind;
      readonly key: string | undefined;
    }
  | {
      /** Threw synchronously or rejected. */
      readonly outcome: 'failed';
      readonly kind: OffloadTaskKind;
      readonly key: string | undefined;
      readonly error: unknown;
    }
  | {
      /** Did not settle within `timeoutMs`; its signal was aborted. */
      readonly outcome: 'timed-out';
      readonly kind: OffloadTaskKind;
      readonly key: string | undefined;
      readonly timeoutMs: number;
    }
  | {
      /** Not accepted: the queue was full or the service was shut down. */
      readonly outcome: 'rejected';
      readonly kind: OffloadTaskKind;
      readonly key: string | undefined;
      readonly reason: 'queue-full' | 'closed';
    };

/** Snapshot of an {@link OffloadService}: current load and cumulative outcome totals. */
export interface OffloadCounts {
  /** Tasks holding a slot now. */
  readonly running: number;
  /** Accepted tasks waiting for a slot. */
  readonly queued: number;
  readonly completed: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly rejected: number;
  readonly deduplicated: number;
  /** Accepted tasks that shutdown gave up on (aborted while running, or never started). */
  readonly abandoned: number;
}

/**
 * Result of {@link OffloadService.drain} and {@link OffloadService.shutdown}.
 * `pending` is how many of the awaited tasks had not settled when the deadline passed.
 */
export interface OffloadDrainResult {
  readonly drained: boolean;
  readonly pending: number;
}

const DEFAULT_CONCURRENCY = 256;
const DEFAULT_MAX_QUEUED = 10_000;
const DEFAULT_TIMEOUT_MS = 5_000;

const QUEUED = 0;
const RUNNING = 1;
const DONE = 2;
type TaskState = typeof QUEUED | typeof RUNNING | typeof DONE;

/** One accepted task. Doubles as its own queue node so that enqueue and dequeue allocate nothing more. */
interface TaskEntry {
  readonly kind: OffloadTaskKind;
  readonly task: OffloadTask;
  readonly key: string | undefined;
  readonly timeoutMs: number;
  /** Acceptance order; lets a drain tell the tasks it waits for from those accepted after it began. */
  readonly seq: number;
  state: TaskState;
  next: TaskEntry | undefined;
  controller: AbortController | undefined;
  deadline: Deadline<TaskEntry> | undefined;
}

interface DrainWaiter {
  /** Highest `seq` this drain waits for. */
  readonly mark: number;
  remaining: number;
  readonly resolve: (result: OffloadDrainResult) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Runs background work the caller must not wait for: the losing side of a layer race, offloaded writes
 * (`background: true`), and your own tasks. Bounded in concurrency and queue length, deduplicated by key, each task
 * timed out through its `AbortSignal`; failures are counted and logged, never thrown at the caller.
 *
 * @example
 * const offload = new OffloadService({ concurrency: 32, timeoutMs: 2_000 }, { logger: console });
 * offload.run('warm-up', (signal) => warmUp(key, signal), { key }); // returns at once
 * // on shutdown:
 * await offload.shutdown();
 */
export class OffloadService implements Offload {
  private readonly concurrency: number;
  private readonly maxQueued: number;
  private readonly timeoutMs: number;
  private readonly onEvent: ((event: OffloadEvent) => void) | undefined;
  private readonly logger: OffloadHooks['logger'];

  private head: TaskEntry | undefined;
  private tail: TaskEntry | undefined;
  private queued = 0;
  private readonly runningTasks = new Set<TaskEntry>();
  private readonly inFlightByKey = new Map<string, TaskEntry>();
  private readonly drainWaiters: DrainWaiter[] = [];
  /** The time limits of running tasks, on one timer. */
  private readonly deadlines = new DeadlineQueue<TaskEntry>((entry) => this.taskTimedOut(entry));
  private lastSeq = 0;
  private pumping = false;
  /** Starts queued tasks on the next turn of the event loop, once the callers' own continuations have run. */
  private readonly pumpOnNextTurn = new NextTurn(() => this.pump());
  private closing: Promise<OffloadDrainResult> | undefined;

  private completed = 0;
  private failed = 0;
  private timedOut = 0;
  private rejected = 0;
  private deduplicated = 0;
  private abandoned = 0;

  /** @throws LayeredCacheError when an option is out of range. */
  constructor(options: OffloadOptions = {}, hooks: OffloadHooks = {}) {
    this.concurrency = positiveInteger('concurrency', options.concurrency, DEFAULT_CONCURRENCY);
    this.maxQueued = positiveInteger('maxQueued', options.maxQueued, DEFAULT_MAX_QUEUED);
    this.timeoutMs = options.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : taskTimeout('timeoutMs', options.timeoutMs);
    this.onEvent = hooks.onEvent?.bind(hooks);
    this.logger = hooks.logger;
  }

  /**
   * Accepts `task` to start on the next turn of the event loop, once the caller's own continuations have run;
   * never runs it inside this call.
   * Returns `true` when accepted or joined to an in-flight task with the same `key`,
   * `false` when the queue is full or the service is shut down.
   * @throws LayeredCacheError when `options.timeoutMs` is out of range.
   */
  run(kind: OffloadTaskKind, task: OffloadTask, options?: OffloadRunOptions): boolean {
    const key = options?.key;
    const timeoutMs = options?.timeoutMs === undefined ? this.timeoutMs : taskTimeout('run() timeoutMs', options.timeoutMs);
    if (this.closing !== undefined) return this.reject(kind, key, 'closed');
    if (key !== undefined && this.inFlightByKey.has(key)) {
      this.deduplicated++;
      if (this.onEvent !== undefined) this.emit({ outcome: 'deduplicated', kind, key });
      return true;
    }
    // Queued tasks that free slots will take as soon as the pump runs do not count against maxQueued.
    const freeSlots = this.concurrency - this.runningTasks.size;
    if (this.queued - (freeSlots > 0 ? freeSlots : 0) >= this.maxQueued) return this.reject(kind, key, 'queue-full');

    const entry: TaskEntry = {
      kind,
      task,
      key,
      timeoutMs,
      seq: ++this.lastSeq,
      state: QUEUED,
      next: undefined,
      controller: undefined,
      deadline: undefined,
    };
    if (this.tail === undefined) this.head = entry;
    else this.tail.next = entry;
    this.tail = entry;
    this.queued++;
    if (key !== undefined) this.inFlightByKey.set(key, entry);
    if (freeSlots > 0) this.pumpOnNextTurn.request();
    return true;
  }

  /** Current load and cumulative outcome totals. */
  counts(): OffloadCounts {
    return {
      running: this.runningTasks.size,
      queued: this.queued,
      completed: this.completed,
      failed: this.failed,
      timedOut: this.timedOut,
      rejected: this.rejected,
      deduplicated: this.deduplicated,
      abandoned: this.abandoned,
    };
  }

  /**
   * Resolves once every task running or queued at the time of the call has settled (or timed out),
   * or after `timeoutMs` (default: the task timeout), whichever comes first. Keeps accepting new tasks;
   * those are not waited for, so a steady stream of work cannot hold a drain open.
   */
  drain(timeoutMs: number = this.timeoutMs): Promise<OffloadDrainResult> {
    try {
      taskTimeout('drain(timeoutMs)', timeoutMs, true);
    } catch (error) {
      return Promise.reject(error);
    }
    const outstanding = this.runningTasks.size + this.queued;
    if (outstanding === 0) return Promise.resolve({ drained: true, pending: 0 });
    const drained = new Promise<OffloadDrainResult>((resolve) => {
      const waiter: DrainWaiter = { mark: this.lastSeq, remaining: outstanding, resolve, timer: undefined };
      // Not unref()ed: a shutdown awaiting this must reach its deadline to report what it abandons.
      waiter.timer = setTimeout(this.drainTimedOut, timeoutMs, waiter);
      this.drainWaiters.push(waiter);
    });
    // Queued tasks start now rather than on the next turn: the caller waits for them anyway, and fake timers
    // in a test must not keep them from starting.
    if (this.head !== undefined) this.pump();
    return drained;
  }

  /**
   * Stops accepting tasks, drains for up to `timeoutMs` (default: the task timeout), then aborts what is
   * still running, drops what never started, counts both as `abandoned` and logs them with `logger.error`.
   * Idempotent: later calls return the first call's promise.
   */
  shutdown(timeoutMs: number = this.timeoutMs): Promise<OffloadDrainResult> {
    if (this.closing !== undefined) return this.closing;
    try {
      taskTimeout('shutdown(timeoutMs)', timeoutMs, true);
    } catch (error) {
      return Promise.reject(error);
    }
    this.closing = this.drain(timeoutMs).then((result) => (result.drained ? result : this.abandonAll(timeoutMs)));
    return this.closing;
  }

  private pump(): void {
    // A task that throws synchronously settles inside start(), which pumps again; the loop below covers it.
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.head !== undefined && this.runningTasks.size < this.concurrency) {
        const entry = this.head;
        this.head = entry.next;
        if (this.head === undefined) this.tail = undefined;
        entry.next = undefined;
        this.queued--;
        this.start(entry);
      }
    } finally {
      this.pumping = false;
    }
  }

  private start(entry: TaskEntry): void {
    entry.state = RUNNING;
    this.runningTasks.add(entry);
    // Most tasks (race losers, offloaded writes) ignore the signal; they get a shared one that never aborts, which
    // spares every L2 hit an AbortController. A task that declares the parameter gets its own.
    const signal = entry.task.length > 0 ? (entry.controller = new AbortController()).signal : NEVER_ABORTED;
    entry.deadline = this.deadlines.add(entry, entry.timeoutMs);
    let result: unknown;
    try {
      result = entry.task(signal);
    } catch (error) {
      this.fail(entry, error);
      return;
    }
    if (isThenable(result)) {
      // Both handlers stay attached after a timeout so that a late rejection is never unhandled.
      result.then(
        () => this.complete(entry),
        (error: unknown) => this.fail(entry, error),
      );
    } else {
      this.complete(entry);
    }
  }

  private complete(entry: TaskEntry): void {
    if (entry.state !== RUNNING) return;
    this.retire(entry);
    this.completed++;
    if (this.onEvent !== undefined) this.emit({ outcome: 'completed', kind: entry.kind, key: entry.key });
    this.pump();
  }

  private fail(entry: TaskEntry, error: unknown): void {
    if (entry.state !== RUNNING) return;
    this.retire(entry);
    this.failed++;
    if (this.logger !== undefined) this.warn(OFFLOAD_TASK_FAILED(entry.kind, entry.key, describeCause(error)));
    if (this.onEvent !== undefined) this.emit({ outcome: 'failed', kind: entry.kind, key: entry.key, error });
    this.pump();
  }

  private taskTimedOut(entry: TaskEntry): void {
    if (entry.state !== RUNNING) return;
    entry.deadline = undefined;
    this.retire(entry);
    this.timedOut++;
    const message = OFFLOAD_TASK_TIMED_OUT(entry.kind, entry.key, entry.timeoutMs);
    entry.controller?.abort(new CacheTimeoutError(message));
    this.warn(message);
    if (this.onEvent !== undefined) {
      this.emit({ outcome: 'timed-out', kind: entry.kind, key: entry.key, timeoutMs: entry.timeoutMs });
    }
    this.pump();
  }

  /** Takes a running or queued task out of every bookkeeping structure; the caller counts the outcome. */
  private retire(entry: TaskEntry): void {
    if (entry.deadline !== undefined) {
      this.deadlines.cancel(entry.deadline);
      entry.deadline = undefined;
    }
    if (entry.state === RUNNING) this.runningTasks.delete(entry);
    entry.state = DONE;
    if (entry.key !== undefined && this.inFlightByKey.get(entry.key) === entry) this.inFlightByKey.delete(entry.key);
    if (this.drainWaiters.length > 0) this.settleForDrains(entry.seq);
  }

  private settleForDrains(seq: number): void {
    const waiters = this.drainWaiters;
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i];
      if (seq > waiter.mark || --waiter.remaining > 0) continue;
      waiters.splice(i, 1);
      clearTimeout(waiter.timer);
      waiter.resolve({ drained: true, pending: 0 });
    }
  }

  private readonly drainTimedOut = (waiter: DrainWaiter): void => {
    const index = this.drainWaiters.indexOf(waiter);
    if (index === -1) return;
    this.drainWaiters.splice(index, 1);
    waiter.resolve({ drained: false, pending: waiter.remaining });
  };

  private abandonAll(timeoutMs: number): OffloadDrainResult {
    const running = [...this.runningTasks];
    const queued = this.queued;
    const pending = running.length + queued;
    if (pending === 0) return { drained: true, pending: 0 };
    this.abandoned += pending;
    let entry = this.head;
    this.head = undefined;
    this.tail = undefined;
    this.queued = 0;
    for (; entry !== undefined; entry = entry.next) this.retire(entry);
    // One shared reason: listeners only need to know why, and a stack trace per task would be wasted work.
    const reason = new LayeredCacheError(OFFLOAD_ABORTED_BY_SHUTDOWN);
    for (const task of running) {
      this.retire(task);
      task.controller?.abort(reason);
    }
    if (this.logger !== undefined) this.error(OFFLOAD_SHUTDOWN_ABANDONED(running.length, queued, timeoutMs));
    return { drained: false, pending };
  }

  private reject(kind: OffloadTaskKind, key: string | undefined, reason: 'queue-full' | 'closed'): false {
    this.rejected++;
    if (this.onEvent !== undefined) this.emit({ outcome: 'rejected', kind, key, reason });
    return false;
  }

  private emit(event: OffloadEvent): void {
    try {
      this.onEvent?.(event);
    } catch (error) {
      this.warn(OFFLOAD_HOOK_FAILED(describeCause(error)));
    }
  }

  private warn(message: string): void {
    try {
      this.logger?.warn(message);
    } catch {
      // A broken logger must not break the work it reports on; there is nowhere left to report it.
    }
  }

  private error(message: string): void {
    try {
      this.logger?.error(message);
    } catch {
      // Same as warn(): nowhere left to report a failing logger.
    }
  }
}

function positiveInteger(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new LayeredCacheError(OFFLOAD_INVALID_OPTION(option, value, 'a positive integer'));
  }
  return value;
}

function taskTimeout(option: string, value: number, allowZero = false): number {
  if (typeof value !== 'number' || !(allowZero ? value >= 0 : value > 0) || value > MAX_TIMER_MS) {
    const range = allowZero ? 'from 0' : 'greater than 0 and';
    throw new LayeredCacheError(OFFLOAD_INVALID_OPTION(option, value, `a number of milliseconds ${range} up to ${MAX_TIMER_MS}`));
  }
  return value;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
