import { type CacheEntry, isExpired } from '../core/cache-entry.js';
import { LayeredCacheError } from '../core/errors.js';
import { INVALID_RESILIENCE_OPTION } from '../core/messages.js';
import type { DeleteMark } from '../stores/cache-store.interface.js';

/** The L2 operation a kept write replays: store an entry, or delete the key. */
export type ReplayOperation = { readonly kind: 'set'; readonly entry: CacheEntry } | { readonly kind: 'delete'; readonly mark?: DeleteMark };

/**
 * Whether the write policy tolerated the failure of the L2 write it belongs to. A kept write is replayed
 * only once its policy has resolved (`tolerated`); `refused` (the caller was given the error) withdraws it.
 */
export interface ReplayDecision {
  state: 'pending' | 'tolerated' | 'refused';
}

/** Options of an {@link L2WriteReplayQueue}. */
export interface ReplayQueueOptions {
  /** Most keys kept; beyond it the oldest kept write is dropped (and counted). Positive integer, default 10 000. */
  maxEntries?: number;
  /** Most replayed writes in flight at once. Positive integer, default 8. */
  concurrency?: number;
}

/** A kept write, as the queue hands it out for replay. */
export interface QueuedWrite {
  readonly key: string;
  readonly operation: ReplayOperation;
  /** Order of the original write among all L2 writes; a newer write of the key supersedes it. */
  readonly seq: number;
  readonly decision: ReplayDecision;
}

/** Counters of an {@link L2WriteReplayQueue}. */
export interface ReplayQueueStats {
  /** Keys waiting to be replayed now. */
  readonly pending: number;
  /** Writes accepted into the queue so far. */
  readonly kept: number;
  /** Writes replayed into L2. */
  readonly replayed: number;
  /** Kept writes replaced or cancelled by a newer write or delete of the same key before replay. */
  readonly superseded: number;
  /** Kept writes withdrawn because their policy gave the caller the error instead. */
  readonly withdrawn: number;
  /** Kept writes dropped because the queue was full (the oldest go first). */
  readonly dropped: number;
  /** Kept entries that expired before they could be replayed. */
  readonly expired: number;
  /** Replay attempts that failed (the write stays kept for the next attempt). */
  readonly failedAttempts: number;
  /** Kept writes given up on at shutdown. */
  readonly abandoned: number;
}

/** What happened to a write the queue was offered or held; see {@link L2WriteReplayQueue}. */
export type ReplayOutcome = 'kept' | 'replayed' | 'superseded' | 'withdrawn' | 'dropped' | 'expired' | 'abandoned';

/** Receives each outcome with the key it concerns. Must not throw. */
export type ReplayListener = (outcome: ReplayOutcome, key: string, operation: ReplayOperation['kind']) => void;

const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_CONCURRENCY = 8;

/**
 * The L2 writes that failed while their policy still succeeded (the value reached L1), kept to be written
 * again once L2 is healthy, so that L2 converges without a restart. Bounded, one slot per key: a newer
 * write of a key replaces the kept one (newest wins), a delete of the key replaces it with a delete, and
 * when full the oldest kept write is dropped. Expired entries are skipped. Holds no timers.
 *
 * @example
 * const queue = new L2WriteReplayQueue({ maxEntries: 1_000 });
 * queue.keep('user:1', { kind: 'set', entry }, seq, { state: 'tolerated' });
 * await queue.replay((key, op) => (op.kind === 'set' ? l2.set(key, op.entry, remainingTtl(op.entry)) : l2.delete(key)));
 */
export class L2WriteReplayQueue {
  readonly maxEntries: number;
  readonly concurrency: number;
  private readonly entries = new Map<string, QueuedWrite>();
  /** Keys being replayed now, and whether a newer write of the key started since. */
  private readonly replaying = new Map<string, { superseded: boolean }>();
  private listener: ReplayListener | undefined;
  private kept = 0;
  private replayed = 0;
  private superseded = 0;
  private withdrawn = 0;
  private dropped = 0;
  private expired = 0;
  private failedAttempts = 0;
  private abandoned = 0;

  /** @throws LayeredCacheError when an option is out of range. */
  constructor(options: ReplayQueueOptions = {}, listener?: ReplayListener) {
    this.maxEntries = positiveInteger('replay.maxEntries', options.maxEntries, DEFAULT_MAX_ENTRIES);
    this.concurrency = positiveInteger('replay.concurrency', options.concurrency, DEFAULT_CONCURRENCY);
    this.listener = listener;
  }

  /** Keys kept now. */
  get size(): number {
    return this.entries.size;
  }

  /** True when a kept write could be replayed now (its policy has tolerated the failure). */
  hasReplayable(includePending = false): boolean {
    for (const item of this.entries.values()) if (includePending || item.decision.state === 'tolerated') return true;
    return false;
  }

  /**
   * Keeps `operation` for `key` unless the queue already holds a newer write of the key. Replaces an older
   * one; when full, drops the oldest key to make room. Returns `true` when kept.
   */
  keep(key: string, operation: ReplayOperation, seq: number, decision: ReplayDecision): boolean {
    const existing = this.entries.get(key);
    if (existing !== undefined) {
      if (existing.seq > seq) return false;
      this.entries.delete(key);
      this.count('superseded', existing);
    } else if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.values().next().value as QueuedWrite;
      this.entries.delete(oldest.key);
      this.count('dropped', oldest);
    }
    const item: QueuedWrite = { key, operation, seq, decision };
    this.entries.set(key, item);
    this.count('kept', item);
    return true;
  }

  /**
   * A newer write or delete of `key` has started: the kept one (older by definition) is cancelled, and a
   * replay of the key in flight must not be kept again if it fails.
   */
  supersede(key: string): void {
    if (this.replaying.size !== 0) {
      const replay = this.replaying.get(key);
      if (replay !== undefined) replay.superseded = true;
    }
    if (this.entries.size === 0) return;
    const existing = this.entries.get(key);
    if (existing === undefined) return;
    this.entries.delete(key);
    this.count('superseded', existing);
  }

  /** Cancels every kept write whose key starts with `prefix` (all of them without a prefix). */
  supersedePrefix(prefix: string | undefined): void {
    for (const [key, item] of this.entries) {
      if (prefix !== undefined && !key.startsWith(prefix)) continue;
      this.entries.delete(key);
      this.count('superseded', item);
    }
    for (const [key, replay] of this.replaying) if (prefix === undefined || key.startsWith(prefix)) replay.superseded = true;
  }

  /** The policy gave the caller the error: the write it belongs to is not replayed. */
  withdraw(key: string, decision: ReplayDecision): void {
    const existing = this.entries.get(key);
    if (existing === undefined || existing.decision !== decision) return;
    this.entries.delete(key);
    this.count('withdrawn', existing);
  }

  /**
   * Replays kept writes with `write`, oldest first and `concurrency` at a time, until none is left, a write
   * fails, `permit()` refuses, or `limit` writes were made. A write that fails stays kept (unless a newer
   * write of its key started meanwhile). Writes whose policy has not decided yet wait for a later run,
   * unless `includePending`.
   *
   * @param permit Asked before each write; returns a token handed to `write`, or `undefined` to stop.
   * @returns `drained` when nothing replayable is left, `failed` when a write failed, `refused` when
   *   `permit` refused or the limit was reached first.
   */
  async replay<P>(
    write: (key: string, operation: ReplayOperation, permit: P) => Promise<void>,
    permit: () => P | undefined,
    options: { includePending?: boolean; limit?: number; concurrency?: number } = {},
  ): Promise<'drained' | 'failed' | 'refused'> {
    const includePending = options.includePending ?? false;
    let budget = options.limit ?? Number.POSITIVE_INFINITY;
    let outcome: 'drained' | 'failed' | 'refused' = 'drained';
    const worker = async (): Promise<void> => {
      while (outcome === 'drained') {
        // Finding, permitting and taking happen in one synchronous step, so no other worker can interleave.
        const next = this.next(includePending);
        if (next === undefined) return;
        const token = budget > 0 ? permit() : undefined;
        if (token === undefined) {
          outcome = 'refused';
          return;
        }
        budget--;
        this.entries.delete(next.key);
        const replay = { superseded: false };
        this.replaying.set(next.key, replay);
        try {
          await write(next.key, next.operation, token);
          this.count('replayed', next);
        } catch {
          this.failedAttempts++;
          outcome = 'failed';
          if (!replay.superseded) this.restore(next);
        } finally {
          this.replaying.delete(next.key);
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? this.concurrency }, worker));
    return outcome;
  }

  /** Gives up on every kept write (shutdown): counts them as abandoned and returns how many there were. */
  abandonAll(): number {
    const count = this.entries.size;
    for (const item of this.entries.values()) this.count('abandoned', item);
    this.entries.clear();
    return count;
  }

  /** Counts a write given up on without ever being kept (it failed after shutdown began). */
  abandonOne(key: string, operation: ReplayOperation): void {
    this.count('abandoned', { key, operation, seq: 0, decision: { state: 'tolerated' } });
  }

  /** A snapshot of the counters. */
  stats(): ReplayQueueStats {
    return {
      pending: this.entries.size,
      kept: this.kept,
      replayed: this.replayed,
      superseded: this.superseded,
      withdrawn: this.withdrawn,
      dropped: this.dropped,
      expired: this.expired,
      failedAttempts: this.failedAttempts,
      abandoned: this.abandoned,
    };
  }

  /** The oldest replayable write, left in the queue; expired entries met on the way are dropped. */
  private next(includePending: boolean): QueuedWrite | undefined {
    for (const item of this.entries.values()) {
      if (item.operation.kind === 'set' && isExpired(item.operation.entry)) {
        this.entries.delete(item.key);
        this.count('expired', item);
        continue;
      }
      if (includePending || item.decision.state === 'tolerated') return item;
    }
    return undefined;
  }

  /** Puts back a write whose replay failed, unless a newer write of its key has been kept meanwhile. */
  private restore(item: QueuedWrite): void {
    if (this.entries.has(item.key)) return;
    if (this.entries.size >= this.maxEntries) {
      this.count('dropped', item);
      return;
    }
    this.entries.set(item.key, item);
  }

  private count(outcome: ReplayOutcome, item: QueuedWrite): void {
    this[outcome]++;
    if (this.listener === undefined) return;
    try {
      this.listener(outcome, item.key, item.operation.kind);
    } catch {
      // A listener must not break the queue; it has nowhere to report its own failure.
    }
  }
}

function positiveInteger(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new LayeredCacheError(INVALID_RESILIENCE_OPTION(option, value, 'a positive integer'));
  return value;
}
