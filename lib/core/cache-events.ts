import { Observable, Subject } from 'rxjs';
import type { CacheLayer, CacheOperation } from './errors.js';

/** State of a circuit breaker: see `CircuitBreaker`. */
export type CacheCircuitState = 'closed' | 'open' | 'half-open';

/** A layer answered a read with a value. */
export interface CacheHitEvent { readonly type: 'hit'; readonly layer: CacheLayer; readonly key: string }
/** A layer answered a read without a value. */
export interface CacheMissEvent { readonly type: 'miss'; readonly layer: CacheLayer; readonly key: string }
/** A layer stored an entry. */
export interface CacheWriteEvent { readonly type: 'write'; readonly layer: CacheLayer; readonly key: string }
/** A layer removed a key. */
export interface CacheDeleteEvent { readonly type: 'delete'; readonly layer: CacheLayer; readonly key: string }
/** L1 received a copy of an entry that L2 served. */
export interface CacheRefillEvent { readonly type: 'refill'; readonly key: string }
/**
 * Another instance (or another Redis client) changed a key, or every key under a prefix, so this
 * instance's L1 copy was dropped; `reason: 'lost'` when the invalidation connection came back after a gap.
 */
export interface CacheInvalidationEvent {
  readonly type: 'invalidation';
  readonly reason: 'changed' | 'cleared' | 'lost';
  readonly key?: string;
  readonly prefix?: string;
}
/** An operation failed. The caller may not have seen it (a policy can tolerate one layer failing). */
export interface CacheErrorEvent {
  readonly type: 'error';
  readonly layer?: CacheLayer;
  readonly operation: CacheOperation | 'serialize' | 'key' | 'invalidate';
  readonly key?: string;
  readonly error: Error;
}
/** A background task settled or was refused. */
export interface CacheOffloadEvent {
  readonly type: 'offload';
  readonly kind: string;
  readonly key?: string;
  readonly outcome: 'completed' | 'failed' | 'timed-out' | 'rejected' | 'deduplicated';
  readonly error?: unknown;
}

/** The L2 circuit breaker changed state. */
export interface CacheCircuitEvent {
  readonly type: 'circuit';
  readonly layer: CacheLayer;
  readonly state: CacheCircuitState;
  readonly previous: CacheCircuitState;
  /** Consecutive failures counted when the state changed. */
  readonly failures: number;
  /** How long an open breaker rests before it lets one call probe the layer. */
  readonly cooldownMs: number;
  /** The failure that opened the breaker, when it opened. */
  readonly error?: unknown;
}
/**
 * An L2 write (or delete) that failed while its policy succeeded was kept for replay, or what became of
 * a kept one: replayed, superseded by a newer write of the key, withdrawn, dropped (queue full), expired,
 * or abandoned at shutdown.
 */
export interface CacheReplayEvent {
  readonly type: 'replay';
  readonly key: string;
  readonly operation: 'set' | 'delete';
  readonly outcome: 'kept' | 'replayed' | 'superseded' | 'withdrawn' | 'dropped' | 'expired' | 'abandoned';
}

/** Everything the cache reports, as one discriminated union (switch on `type`). */
export type CacheEvent =
  | CacheHitEvent
  | CacheMissEvent
  | CacheWriteEvent
  | CacheDeleteEvent
  | CacheRefillEvent
  | CacheInvalidationEvent
  | CacheErrorEvent
  | CacheOffloadEvent
  | CacheCircuitEvent
  | CacheReplayEvent;

/** Counters of one layer. */
export interface CacheLayerStats {
  hits: number;
  misses: number;
  writes: number;
  deletes: number;
  errors: number;
}

/** Counters of the cache's own operations (offload counts are added by `LayeredCache.stats()`). */
export interface CacheCounters {
  readonly l1: CacheLayerStats;
  readonly l2: CacheLayerStats;
  readonly refills: number;
  /** L1 keys dropped, and L1 prefixes cleared, because of changes made elsewhere (see `invalidation`). */
  readonly invalidations: number;
  readonly errors: number;
}

const newLayerStats = (): CacheLayerStats => ({ hits: 0, misses: 0, writes: 0, deletes: 0, errors: 0 });

/**
 * Counts cache activity and publishes it as an rxjs stream. Counting is a field increment; an event
 * object is only built when someone subscribes, which keeps the hit path free of allocations.
 */
export class CacheEventBus {
  private readonly subject = new Subject<CacheEvent>();
  private readonly layers: Record<CacheLayer, CacheLayerStats> = { l1: newLayerStats(), l2: newLayerStats() };
  private refills = 0;
  private invalidations = 0;
  private errors = 0;

  private readonly errorSubject = new Subject<CacheErrorEvent>();

  /** Every event, as it happens. Completes when the bus is closed. */
  readonly events$: Observable<CacheEvent> = this.subject.asObservable();

  /**
   * Only the error events, as they happen. Completes when the bus is closed. Prefer it to filtering
   * `events$` when errors are all you need: while `events$` has a subscriber, every hit builds an event.
   */
  readonly errors$: Observable<CacheErrorEvent> = this.errorSubject.asObservable();

  hit(layer: CacheLayer, key: string): void {
    this.layers[layer].hits++;
    if (this.subject.observed) this.subject.next({ type: 'hit', layer, key });
  }

  miss(layer: CacheLayer, key: string): void {
    this.layers[layer].misses++;
    if (this.subject.observed) this.subject.next({ type: 'miss', layer, key });
  }

  write(layer: CacheLayer, key: string): void {
    this.layers[layer].writes++;
    if (this.subject.observed) this.subject.next({ type: 'write', layer, key });
  }

  deleted(layer: CacheLayer, key: string): void {
    this.layers[layer].deletes++;
    if (this.subject.observed) this.subject.next({ type: 'delete', layer, key });
  }

  refill(key: string): void {
    this.refills++;
    if (this.subject.observed) this.subject.next({ type: 'refill', key });
  }

  invalidation(event: Omit<CacheInvalidationEvent, 'type'>): void {
    this.invalidations++;
    if (this.subject.observed) this.subject.next({ type: 'invalidation', ...event });
  }

  error(event: Omit<CacheErrorEvent, 'type'>): void {
    this.errors++;
    if (event.layer) this.layers[event.layer].errors++;
    if (!this.subject.observed && !this.errorSubject.observed) return;
    const published: CacheErrorEvent = { type: 'error', ...event };
    this.subject.next(published);
    this.errorSubject.next(published);
  }

  offload(event: Omit<CacheOffloadEvent, 'type'>): void {
    if (this.subject.observed) this.subject.next({ type: 'offload', ...event });
  }

  /** Publishes a circuit breaker transition (the breaker keeps its own counters). */
  circuit(event: Omit<CacheCircuitEvent, 'type'>): void {
    if (this.subject.observed) this.subject.next({ type: 'circuit', ...event });
  }

  /** Publishes what became of a kept L2 write (the replay queue keeps its own counters). */
  replay(event: Omit<CacheReplayEvent, 'type'>): void {
    if (this.subject.observed) this.subject.next({ type: 'replay', ...event });
  }

  /** A copy of the counters. */
  counters(): CacheCounters {
    return { l1: { ...this.layers.l1 }, l2: { ...this.layers.l2 }, refills: this.refills, invalidations: this.invalidations, errors: this.errors };
  }

  /** Completes the stream. */
  close(): void {
    this.subject.complete();
    this.errorSubject.complete();
  }
}
