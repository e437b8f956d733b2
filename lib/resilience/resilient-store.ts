import { type CacheEntry, remainingTtl } from '../core/cache-entry.js';
import type { CacheEventBus } from '../core/cache-events.js';
import { CacheSerializationError, CacheTimeoutError, CircuitOpenError, describeCause, isRefusal, LayeredCacheError } from '../core/errors.js';
import {
  CIRCUIT_CLOSED,
  CIRCUIT_OPEN_SKIPPED,
  CIRCUIT_OPENED,
  INVALID_RESILIENCE_OPTION,
  INVALID_TIMEOUT,
  L2_BUDGET_EXHAUSTED,
  L2_CALL_TIMED_OUT,
  REPLAY_ABANDONED,
  REPLAY_QUEUE_FULL,
  REPLAY_RUN_FAILED,
} from '../core/messages.js';
import type { PromiseOrValue } from '../core/promise-or-value.js';
import type { CacheStore, DeleteMark } from '../stores/cache-store.interface.js';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitBreakerStats, type CircuitPermit, type CircuitStateChange } from './circuit-breaker.js';
import {
  L2WriteReplayQueue,
  type ReplayDecision,
  type ReplayOperation,
  type ReplayOutcome,
  type ReplayQueueOptions,
  type ReplayQueueStats,
} from './l2-write-replay-queue.js';
import { NewestWrites } from './newest-writes.js';
import { Backoff } from '../core/backoff.js';
import { NextTurnRejections } from '../core/next-turn-rejections.js';
import { MAX_TIMER_MS, withTimeout } from '../core/with-timeout.js';

/** Options of the replay of failed L2 writes. */
export interface L2ReplayOptions extends ReplayQueueOptions {
  /**
   * While writes are kept and L2 is not known to be broken (no breaker, or a closed one), how long to wait
   * before trying to replay them again when no other L2 call succeeds meanwhile, in milliseconds. Default
   * 1 000; each try that fails again doubles it (with jitter), up to 30 s.
   */
  retryDelayMs?: number;
  /**
   * How long one replayed write is waited for, in milliseconds. Default 5 000: nobody waits on a replay,
   * so it waits for the store's own answer rather than a caller's time limit, and is not sent again while
   * it may still land. Shutdown bounds it by what is left of `shutdownTimeoutMs`.
   */
  timeoutMs?: number;
}

/** How the shared layer is protected. Every field is optional. */
export interface ResilienceOptions {
  /**
   * Longest wait for L2 in one cache call, in milliseconds: a read, a write or a delete gives up on L2
   * after it; `getOrSet` (and so `@Cacheable`) shares it between its read and its write. Default 200.
   * The L2 call itself goes on in the background until the store answers or gives up by itself (a
   * `RedisStore` after its `commandTimeoutMs`): a write that outlived its caller is kept for replay only if
   * it then fails, so a slow Redis gets each write once, and its late answers count as successes.
   */
  timeoutMs?: number;
  /** Skips L2 after repeated failures, for a cool-down, then probes it. `false` always calls L2. */
  breaker?: CircuitBreakerOptions | false;
  /** Keeps failed L2 writes that the write policy tolerated and replays them when L2 recovers. `false` drops them. */
  replay?: L2ReplayOptions | false;
}

/** Where a {@link ResilientStore} writes warnings. Nest's `Logger` fits. */
export interface ResilienceLogger {
  log?(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Options of a {@link ResilientStore}. */
export interface ResilientStoreOptions extends ResilienceOptions {
  /** Receives breaker transitions (`circuit` events) and replay outcomes (`replay` events). */
  events?: CacheEventBus;
  /** Receives a warning when the breaker opens, a line when it closes, and an error for writes abandoned at shutdown. */
  logger?: ResilienceLogger;
  /** Called when a kept write or delete of `key` has been replayed into the store. */
  onReplayed?: (key: string) => void;
}

/** Per-call options of {@link ResilientStore}. */
export interface L2CallOptions {
  /** Longest wait for this call, in milliseconds; 0 or less does not call the store at all. Default: the store's. */
  timeoutMs?: number;
  /**
   * For writes and deletes: the decision of the write policy this call belongs to. When given and the call
   * fails, the write is kept, and replayed once the decision is `tolerated` (see {@link ResilientStore.decide}).
   */
  decision?: ReplayDecision;
}

/** Counters of a {@link ResilientStore}. */
export interface L2ResilienceStats {
  /** The default time limit of one L2 call, in milliseconds. */
  readonly timeoutMs: number;
  /** Calls that gave up on L2 at a time limit (the cache's, or the store's own, such as `commandTimeoutMs`). */
  readonly timeouts: number;
  /**
   * Writes whose caller stopped waiting before L2 answered, and that L2 has not answered yet: each lands,
   * or fails and is kept for replay, when it does.
   */
  readonly unanswered: number;
  /** The breaker's state and counters; `undefined` when the breaker is off. */
  readonly breaker: CircuitBreakerStats | undefined;
  /** The replay queue's counters; `undefined` when replay is off. */
  readonly replay: ReplayQueueStats | undefined;
}

/** Result of {@link ResilientStore.shutdown}. */
export interface ReplayShutdownResult {
  /** Kept writes replayed during the shutdown. */
  readonly replayed: number;
  /** Kept writes that could not be written before the deadline (counted and logged). */
  readonly abandoned: number;
  /** Writes sent before that L2 had not answered by the deadline (logged; they may still land). */
  readonly unanswered: number;
}

type L2Operation = 'get' | 'set' | 'delete';

const DEFAULT_TIMEOUT_MS = 200;
const DEFAULT_RETRY_DELAY_MS = 1_000;
const MAX_RETRY_DELAY_MS = 30_000;
const DEFAULT_REPLAY_TIMEOUT_MS = 5_000;
const SHUTDOWN_RETRY_PAUSE_MS = 50;
/**
 * Kept writes replayed at once during shutdown, at least: enough for a slow but answering L2 to take them
 * all within the shutdown bound (a Redis store sends concurrent writes together anyway).
 */
const SHUTDOWN_REPLAY_CONCURRENCY = 256;

/**
 * Guards a shared layer: every call is bounded by a timeout, a circuit breaker skips the layer after
 * repeated failures (a skipped call rejects at once with `CircuitOpenError`) and probes it after a
 * cool-down, and writes that failed while their policy succeeded are kept in a bounded per-key queue and
 * replayed when the layer answers again. `LayeredStore` puts one around its L2; it is a `CacheStore`
 * itself, so it can guard any store.
 *
 * @example
 * const l2 = new ResilientStore(new RedisStore({ url }), { timeoutMs: 150, breaker: { failureThreshold: 3, cooldownMs: 2_000 } });
 * await l2.get('user:1');                    // rejects after 150 ms at most, or at once while the breaker is open
 * l2.stats().breaker?.state;                 // 'closed' | 'open' | 'half-open'
 */
export class ResilientStore implements CacheStore {
  readonly timeoutMs: number;
  readonly breaker: CircuitBreaker | null;
  readonly replayQueue: L2WriteReplayQueue | null;
  private readonly retryDelayMs: number;
  private readonly replayTimeoutMs: number;
  /** Delays between replay tries while they keep failing. */
  private readonly retries: Backoff;
  /** Writes whose caller stopped waiting before the store answered: shutdown waits for their outcome. */
  private readonly inDoubt = new Set<Promise<unknown>>();
  /** The errors of this store's own time limits, apart from the timeouts a store reports itself. */
  private readonly callerTimeouts = new WeakSet<Error>();
  private readonly events: CacheEventBus | undefined;
  private readonly logger: ResilienceLogger | undefined;
  private readonly onReplayed: ((key: string) => void) | undefined;
  private openError: CircuitOpenError;
  private timeouts = 0;
  /** Order of writes and deletes, and which write of a key is its newest. */
  private readonly writes = new NewestWrites();
  private replayRun: Promise<void> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Replays stop being permitted at this time; finite once shutdown has begun. */
  private replayDeadline = Number.POSITIVE_INFINITY;
  private warnedFull = false;
  private shuttingDown: Promise<ReplayShutdownResult> | undefined;
  private closed = false;
  private readonly stopWatchingReconnects: (() => void) | undefined;
  /**
   * After L2 refused a write (it answered: out of memory, read-only), successes of other calls do not start
   * replays before this time: they would be refused alike, as often as reads succeed.
   */
  private replayPausedUntil = 0;
  /** What L2 answered when it last refused a replayed write. */
  private lastReplayRefusal: unknown;
  /** Calls the open breaker refused, settled on the next turn of the event loop. */
  private readonly refusals = new NextTurnRejections();

  /** @throws LayeredCacheError when an option is out of range. */
  constructor(
    readonly inner: CacheStore,
    options: ResilientStoreOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : validTimeout(options.timeoutMs);
    this.events = options.events;
    this.logger = options.logger;
    this.onReplayed = options.onReplayed;
    this.breaker = options.breaker === false ? null : new CircuitBreaker(options.breaker, { onStateChange: (change) => this.onStateChange(change) });
    this.openError = new CircuitOpenError(CIRCUIT_OPEN_SKIPPED(this.breaker?.failureThreshold ?? 0, this.breaker?.cooldownMs ?? 0));
    const replay = options.replay === false ? undefined : (options.replay ?? {});
    this.replayQueue = replay === undefined ? null : new L2WriteReplayQueue(replay, (outcome, key, operation) => this.onReplayOutcome(outcome, key, operation));
    this.retryDelayMs = replay?.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    if (!(this.retryDelayMs > 0) || this.retryDelayMs > MAX_TIMER_MS) {
      throw new LayeredCacheError(INVALID_RESILIENCE_OPTION('replay.retryDelayMs', replay?.retryDelayMs, `a number of milliseconds greater than 0 and at most ${MAX_TIMER_MS}`));
    }
    this.retries = new Backoff(this.retryDelayMs, Math.max(this.retryDelayMs, MAX_RETRY_DELAY_MS));
    this.replayTimeoutMs = replay?.timeoutMs ?? DEFAULT_REPLAY_TIMEOUT_MS;
    if (!(this.replayTimeoutMs > 0) || this.replayTimeoutMs > MAX_TIMER_MS) {
      throw new LayeredCacheError(INVALID_RESILIENCE_OPTION('replay.timeoutMs', replay?.timeoutMs, `a number of milliseconds greater than 0 and at most ${MAX_TIMER_MS}`));
    }
    this.stopWatchingReconnects = inner.onReconnected?.(() => this.reconnected());
  }

  /**
   * The store is connected again: the breaker's cool-down, meant for a layer that cannot answer, ends now,
   * so the next call probes it, and kept writes are replayed (the first of them as the probe).
   */
  private reconnected(): void {
    if (this.closed || this.breaker === null || this.breaker.state === 'closed') return;
    this.breaker.endCooldown();
    if (this.replayQueue?.hasReplayable()) void this.startReplay();
  }

  /**
   * The entry, or `undefined`. Rejects with `CacheTimeoutError` after the time limit, with
   * `CircuitOpenError` at once while the breaker is open, or with the store's own error.
   */
  get<T = unknown>(key: string, options?: L2CallOptions): Promise<CacheEntry<T> | undefined> {
    return this.call('get', () => this.inner.get<T>(key), options?.timeoutMs);
  }

  /** Stores the entry; on failure, keeps it for replay when `options.decision` says the policy may tolerate it. */
  set<T = unknown>(key: string, entry: CacheEntry<T>, ttlMs: number | undefined, options?: L2CallOptions): Promise<void> {
    return this.write(key, { kind: 'set', entry }, () => this.inner.set(key, entry, ttlMs), options);
  }

  /** Deletes the key; cancels a kept write of it; on failure, keeps the delete as `set` keeps writes. */
  delete(key: string, mark?: DeleteMark, options?: L2CallOptions): Promise<void> {
    return this.write(key, { kind: 'delete', mark }, () => this.inner.delete(key, mark), options);
  }

  /**
   * Clears the store (or the keys under `prefix`) and cancels the kept writes it covers. Neither bounded
   * by the time limit (clearing may take many commands; each Redis command has its own) nor skipped by an
   * open breaker: a clear that did not happen must be reported, not assumed.
   */
  clear(prefix?: string): PromiseOrValue<void> {
    this.replayQueue?.supersedePrefix(prefix);
    // A write still in flight may fail after the clear; it is then older than the clear, and not kept.
    this.writes.supersedePrefix(prefix);
    return this.inner.clear?.(prefix);
  }

  /** Gives up on kept writes (counted and logged), then closes the wrapped store. */
  async close(): Promise<void> {
    await this.shutdown(0);
    this.stopWatchingReconnects?.();
    await this.inner.close?.();
  }

  /**
   * The write policy of a kept write has settled: a tolerated failure is replayed later; a refused one
   * (the caller got the error) is withdrawn.
   */
  decide(key: string, decision: ReplayDecision, tolerated: boolean): void {
    decision.state = tolerated ? 'tolerated' : 'refused';
    if (this.replayQueue === null || this.replayQueue.size === 0) return;
    if (tolerated) this.scheduleReplay();
    else this.replayQueue.withdraw(key, decision);
  }

  /**
   * Replays kept writes for up to `timeoutMs` (ignoring the breaker's cool-down: it is the last chance),
   * then stops keeping writes and gives up on what is left, counting and logging it. Idempotent.
   */
  shutdown(timeoutMs: number): Promise<ReplayShutdownResult> {
    this.shuttingDown ??= this.replayBeforeShutdown(timeoutMs);
    return this.shuttingDown;
  }

  /** Counters of the timeouts, the breaker and the replay queue. */
  stats(): L2ResilienceStats {
    return { timeoutMs: this.timeoutMs, timeouts: this.timeouts, unanswered: this.inDoubt.size, breaker: this.breaker?.stats(), replay: this.replayQueue?.stats() };
  }

  private write(key: string, operation: ReplayOperation, run: () => PromiseOrValue<void>, options: L2CallOptions | undefined): Promise<void> {
    const queue = this.replayQueue;
    if (queue === null) return this.call(operation.kind, run, options?.timeoutMs);
    const seq = this.begin(key, queue);
    let timeoutMs: number;
    let permit: CircuitPermit;
    try {
      timeoutMs = this.limitOf(operation.kind, options?.timeoutMs);
      permit = this.permit();
    } catch (error) {
      this.writeFailed(key, operation, seq, options?.decision, error);
      return this.rejected(error);
    }
    const answer = attempt(run);
    // Whether the write is kept for replay goes by the store's own answer, however long after the caller's
    // time limit it comes: a write that may still land is not sent again. Accounted for before the caller hears.
    let answered = false;
    const settled = answer.then(
      () => {
        answered = true;
        this.end(key, seq);
      },
      (error: unknown) => {
        answered = true;
        this.writeFailed(key, operation, seq, options?.decision, error);
      },
    );
    return this.limited(operation.kind, answer, timeoutMs, permit, () => {
      if (answered) return;
      this.inDoubt.add(settled);
      void settled.finally(() => this.inDoubt.delete(settled));
    });
  }

  /** A write failed: it is kept for replay when its policy may tolerate it. */
  private writeFailed(key: string, operation: ReplayOperation, seq: number, decision: ReplayDecision | undefined, error: unknown): void {
    const queue = this.replayQueue as L2WriteReplayQueue;
    const newest = this.end(key, seq);
    if (newest && decision !== undefined && decision.state !== 'refused' && !(error instanceof CacheSerializationError)) {
      if (this.keepForReplay(queue, key, operation, seq, decision) && decision.state === 'tolerated') this.scheduleReplay();
    }
  }

  /** Keeps a failed write for replay, or gives it up when the store is closed; true when it was kept. */
  private keepForReplay(queue: L2WriteReplayQueue, key: string, operation: ReplayOperation, seq: number, decision: ReplayDecision): boolean {
    if (!this.closed) return queue.keep(key, operation, seq, decision);
    queue.abandonOne(key, operation);
    return false;
  }

  /** A write of `key` starts: it supersedes a kept one and becomes the newest of its key. */
  private begin(key: string, queue: L2WriteReplayQueue): number {
    queue.supersede(key);
    return this.writes.start(key);
  }

  /** A write of `key` ended; returns whether no newer write of the key started meanwhile. */
  private end(key: string, seq: number): boolean {
    return this.writes.finish(key, seq);
  }

  /** Runs one call through the breaker and the time limit. */
  private call<R>(operation: L2Operation, run: () => PromiseOrValue<R>, timeoutMs: number | undefined): Promise<R> {
    let limit: number;
    let permit: CircuitPermit;
    try {
      limit = this.limitOf(operation, timeoutMs);
      permit = this.permit();
    } catch (error) {
      return this.rejected(error);
    }
    return this.limited(operation, attempt(run), limit, permit);
  }

  /** The time limit of one call; throws `CacheTimeoutError` when the call's budget is already spent. */
  private limitOf(operation: L2Operation, timeoutMs: number | undefined): number {
    const limit = timeoutMs ?? this.timeoutMs;
    if (!(limit > 0)) throw new CacheTimeoutError(L2_BUDGET_EXHAUSTED(operation));
    return Math.min(limit, MAX_TIMER_MS);
  }

  /**
   * A call refused before it reached the store. The open breaker's refusal settles on the next turn of the
   * event loop: settled at once, a loop of cache calls would run without I/O and starve every timer
   * (the library's own retries and time limits included).
   */
  private rejected<R>(error: unknown): Promise<R> {
    return error instanceof CircuitOpenError ? this.refusals.reject(error) : Promise.reject(error);
  }

  /** The breaker's permit for one call; throws `CircuitOpenError` while the breaker is open. */
  private permit(): CircuitPermit {
    const permit = this.breaker === null ? 0 : this.breaker.acquire();
    if (permit === undefined) throw this.openError;
    return permit;
  }

  /**
   * The store's answer to a permitted call, or `CacheTimeoutError` after `timeoutMs`, whichever comes first;
   * the breaker hears of it as it settles, and of an answer that comes after the time limit too.
   * @param onTimedOut Called when the caller stops waiting before the store answered.
   */
  private limited<R>(operation: L2Operation, answer: Promise<R>, timeoutMs: number, permit: CircuitPermit, onTimedOut?: () => void): Promise<R> {
    const startedAt = this.breaker?.clock();
    return withTimeout(() => answer, timeoutMs, () => this.timedOut(operation, timeoutMs), (failed, error) => {
      if (!failed) {
        this.succeeded(permit);
        return;
      }
      this.callFailed(operation, permit, error, startedAt);
      if (!(error instanceof Error) || !this.callerTimeouts.has(error)) return;
      onTimedOut?.();
      // A late answer still says that L2 is up.
      answer.then(
        () => this.succeeded(permit),
        () => undefined,
      );
    });
  }

  /** Tells the breaker how a call failed. */
  private callFailed(operation: L2Operation, permit: CircuitPermit, error: unknown, startedAt: number | undefined): void {
    if (error instanceof CacheSerializationError) {
      // The layer answered (a read) or was never asked (a write it could not encode): its health is not in question.
      if (operation === 'get') this.succeeded(permit);
      else this.breaker?.release(permit);
    } else if (isRefusal(error)) {
      // It answered: up, so the breaker does not count the refusal (reads go on); only replays wait a while.
      this.breaker?.success(permit);
      if (operation !== 'get') this.replayPausedUntil = Date.now() + this.retryDelayMs;
    } else {
      // The store's own time limits count here; the caller's are counted where they are made.
      if (error instanceof CacheTimeoutError && !this.callerTimeouts.has(error)) this.timeouts++;
      this.breaker?.failure(permit, error, startedAt);
    }
  }

  private succeeded(permit: CircuitPermit): void {
    this.breaker?.success(permit);
    const queue = this.replayQueue;
    if (queue !== null && queue.size > 0 && this.replayRun === undefined && !this.closed && Date.now() >= this.replayPausedUntil) this.startReplay();
  }

  private timedOut(operation: L2Operation, timeoutMs: number): CacheTimeoutError {
    this.timeouts++;
    const error = new CacheTimeoutError(L2_CALL_TIMED_OUT(operation, timeoutMs));
    this.callerTimeouts.add(error);
    return error;
  }

  /** Starts replaying kept writes unless a replay is running; a failed replay schedules the next try. */
  private startReplay(includePending = false): Promise<void> {
    if (this.replayRun !== undefined) return this.replayRun;
    this.clearRetryTimer();
    const run = this.replayKept(includePending)
      .catch((error: unknown) => this.logger?.error(REPLAY_RUN_FAILED(describeCause(error))))
      .finally(() => {
        this.replayRun = undefined;
        const left = this.replayQueue?.hasReplayable() === true;
        if (!left) this.retries.reset();
        if (!this.closed && this.shuttingDown === undefined && left) this.scheduleReplay();
      });
    this.replayRun = run;
    return run;
  }

  private async replayKept(includePending: boolean): Promise<void> {
    const queue = this.replayQueue as L2WriteReplayQueue;
    const write = (key: string, operation: ReplayOperation, permit: CircuitPermit): Promise<void> => {
      const timeoutMs = Math.min(this.replayTimeoutMs, Math.max(1, this.replayDeadline - Date.now()));
      const run = () => (operation.kind === 'set' ? this.inner.set(key, operation.entry, remainingTtl(operation.entry)) : this.inner.delete(key, operation.mark));
      return this.limited(operation.kind, attempt(run), timeoutMs, permit).then(
        () => (this.lastReplayRefusal = undefined),
        (error: unknown) => {
          this.lastReplayRefusal = isRefusal(error) ? error : undefined;
          throw error;
        },
      );
    };
    const permit = (): CircuitPermit | undefined => {
      if (Date.now() >= this.replayDeadline) return undefined;
      return this.breaker === null ? 0 : this.breaker.acquire();
    };
    // While the breaker is not closed, one write goes first as its probe; the rest follow once it closed.
    if (!this.breakerClosed()) {
      const outcome = await queue.replay(write, permit, { includePending, limit: 1, concurrency: 1 });
      if (outcome === 'failed' || !this.breakerClosed()) return;
    }
    const concurrency = this.replayDeadline === Number.POSITIVE_INFINITY ? undefined : Math.max(queue.concurrency, SHUTDOWN_REPLAY_CONCURRENCY);
    await queue.replay(write, permit, { includePending, concurrency });
  }

  private breakerClosed(): boolean {
    return this.breaker === null || this.breaker.state === 'closed';
  }

  private scheduleReplay(): void {
    if (this.retryTimer !== undefined || this.replayRun !== undefined || this.closed || this.shuttingDown !== undefined) return;
    const delay = this.breaker !== null && this.breaker.state === 'open' ? Math.max(1, this.breaker.msUntilProbe()) : this.retries.next();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.replayQueue?.hasReplayable()) void this.startReplay();
    }, delay);
    this.retryTimer.unref();
  }

  private clearRetryTimer(): void {
    if (this.retryTimer === undefined) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private async replayBeforeShutdown(timeoutMs: number): Promise<ReplayShutdownResult> {
    const queue = this.replayQueue;
    this.clearRetryTimer();
    if (queue === null) {
      this.closed = true;
      return { replayed: 0, abandoned: 0, unanswered: 0 };
    }
    const replayedBefore = queue.stats().replayed;
    this.replayDeadline = Date.now() + timeoutMs;
    // Writes still on their way may land, or fail and be kept: their outcome comes first.
    await settledWithin([...this.inDoubt], timeoutMs);
    if (this.replayRun !== undefined) await this.replayRun;
    while (queue.size > 0 && Date.now() < this.replayDeadline) {
      this.breaker?.endCooldown();
      await this.startReplay(true);
      const left = this.replayDeadline - Date.now();
      // A refusal would be the answer to every try: shutdown takes only as long as work it can do.
      if (queue.size === 0 || left <= 0 || this.lastReplayRefusal !== undefined) break;
      await new Promise((resolve) => setTimeout(resolve, Math.min(SHUTDOWN_RETRY_PAUSE_MS, left)));
    }
    this.closed = true;
    const abandoned = queue.abandonAll();
    const refusal = this.lastReplayRefusal === undefined ? undefined : describeCause(this.lastReplayRefusal);
    const unanswered = this.inDoubt.size;
    if (abandoned + unanswered > 0) this.logger?.error(REPLAY_ABANDONED(abandoned, timeoutMs, refusal, unanswered));
    return { replayed: queue.stats().replayed - replayedBefore, abandoned, unanswered };
  }

  private onStateChange(change: CircuitStateChange): void {
    const breaker = this.breaker as CircuitBreaker;
    this.events?.circuit({ layer: 'l2', ...change, cooldownMs: breaker.cooldownMs });
    if (change.state === 'open') {
      this.openError = new CircuitOpenError(CIRCUIT_OPEN_SKIPPED(change.failures, breaker.cooldownMs), { cause: change.error });
      if (change.previous === 'closed') this.logger?.warn(CIRCUIT_OPENED(change.failures, breaker.cooldownMs, change.error === undefined ? undefined : describeCause(change.error)));
      if (this.replayQueue !== null && this.replayQueue.size > 0) this.scheduleReplay();
    } else if (change.state === 'closed') {
      this.warnedFull = false;
      this.logger?.log?.(CIRCUIT_CLOSED(this.replayQueue?.size ?? 0));
    }
  }

  private onReplayOutcome(outcome: ReplayOutcome, key: string, operation: ReplayOperation['kind']): void {
    this.events?.replay({ key, operation, outcome });
    if (outcome === 'replayed') this.onReplayed?.(key);
    if (outcome === 'dropped' && !this.warnedFull) {
      this.warnedFull = true;
      this.logger?.warn(REPLAY_QUEUE_FULL((this.replayQueue as L2WriteReplayQueue).maxEntries));
    }
  }
}

/** Checks a timeout option: a number of milliseconds greater than 0 and at most the largest timer delay. */
export function validTimeout(timeoutMs: unknown): number {
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > MAX_TIMER_MS) throw new LayeredCacheError(INVALID_TIMEOUT(timeoutMs));
  return timeoutMs;
}

/** The store's answer as a promise, a synchronous throw included. */
function attempt<R>(run: () => PromiseOrValue<R>): Promise<R> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Resolves once every promise has settled, or after `timeoutMs`, whichever comes first. */
async function settledWithin(promises: readonly Promise<unknown>[], timeoutMs: number): Promise<void> {
  if (promises.length === 0 || timeoutMs <= 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([Promise.allSettled(promises), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}
