import type { CacheCircuitState } from '../core/cache-events.js';
import { LayeredCacheError } from '../core/errors.js';
import { INVALID_RESILIENCE_OPTION } from '../core/messages.js';

/**
 * `closed`: calls pass. `open`: calls are refused until the cool-down ends. `half-open`: the cool-down
 * has ended and a single call (the probe) passes; its success closes the breaker, its failure opens it again.
 */
export type CircuitState = CacheCircuitState;

/** Options of a {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. Positive integer, default 5. */
  failureThreshold?: number;
  /** How long an open breaker refuses calls before letting one probe through, in milliseconds. Default 5 000. */
  cooldownMs?: number;
}

/** One transition of a {@link CircuitBreaker}. */
export interface CircuitStateChange {
  readonly state: CircuitState;
  readonly previous: CircuitState;
  /** Consecutive failures counted when the change happened. */
  readonly failures: number;
  /** The failure that opened the breaker, when it opened. */
  readonly error?: unknown;
}

/** A snapshot of a {@link CircuitBreaker}. */
export interface CircuitBreakerStats {
  readonly state: CircuitState;
  /** Failures in a row since the last success. */
  readonly consecutiveFailures: number;
  /** Times the breaker has opened. */
  readonly opened: number;
  /** Calls refused because the breaker was open (or a probe was already in flight). */
  readonly refused: number;
  /** Epoch milliseconds when an open breaker lets a probe through; `undefined` unless open. */
  readonly retryAt: number | undefined;
}

/** Everything a {@link CircuitBreaker} reports to and reads from its owner. */
export interface CircuitBreakerHooks {
  /** Called on every transition; must not throw. */
  onStateChange?(change: CircuitStateChange): void;
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?(): number;
}

/**
 * A permission to call the protected layer, returned by {@link CircuitBreaker.acquire}: report its
 * outcome with `success`, `failure` or `release`. Outcomes of permits from an earlier period (a call
 * that started before the breaker opened) are ignored, so a late answer cannot flip the state.
 */
export type CircuitPermit = number;

const DEFAULT_FAILURE_THRESHOLD = 5;
const DEFAULT_COOLDOWN_MS = 5_000;
const MAX_TIMER_MS = 2_147_483_647;

/**
 * A consecutive-failure circuit breaker: closed, open for a cool-down, then half-open with a single
 * probe. Plain state, no timers: an open breaker turns half-open when a call asks after the cool-down.
 * Failures count in the order calls end, and calls that were in flight together count once: a failure of
 * a call that started before the last counted failure ended adds nothing, so a burst of concurrent calls
 * that a slow moment made time out together is one failure, not a threshold's worth.
 *
 * @example
 * const breaker = new CircuitBreaker({ failureThreshold: 5, cooldownMs: 5_000 });
 * const permit = breaker.acquire();
 * if (permit === undefined) return fallback();
 * try { const value = await redis.get(key); breaker.success(permit); return value; }
 * catch (error) { breaker.failure(permit, error); throw error; }
 */
export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  private readonly now: () => number;
  private readonly onStateChange: ((change: CircuitStateChange) => void) | undefined;
  private current: CircuitState = 'closed';
  /** Bumped on every transition; a permit is valid only in the period it was given in. */
  private period = 0;
  private failures = 0;
  /** When the last counted failure was reported. */
  private lastFailureAt = Number.NEGATIVE_INFINITY;
  private probeInFlight = false;
  private openedAt = 0;
  private timesOpened = 0;
  private refusedCalls = 0;

  /** @throws LayeredCacheError when an option is out of range. */
  constructor(options: CircuitBreakerOptions = {}, hooks: CircuitBreakerHooks = {}) {
    this.failureThreshold = options.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD;
    if (!Number.isSafeInteger(this.failureThreshold) || this.failureThreshold < 1) {
      throw new LayeredCacheError(INVALID_RESILIENCE_OPTION('breaker.failureThreshold', options.failureThreshold, 'a positive integer'));
    }
    this.cooldownMs = options.cooldownMs ?? DEFAULT_COOLDOWN_MS;
    if (typeof this.cooldownMs !== 'number' || !(this.cooldownMs > 0) || this.cooldownMs > MAX_TIMER_MS) {
      throw new LayeredCacheError(
        INVALID_RESILIENCE_OPTION('breaker.cooldownMs', options.cooldownMs, `a number of milliseconds greater than 0 and at most ${MAX_TIMER_MS}`),
      );
    }
    this.now = hooks.now ?? Date.now;
    this.onStateChange = hooks.onStateChange;
  }

  /** The state now (an open breaker whose cool-down has ended reads as `half-open`). */
  get state(): CircuitState {
    if (this.current === 'open' && this.now() >= this.openedAt + this.cooldownMs) this.transition('half-open', undefined);
    return this.current;
  }

  /** Milliseconds until an open breaker lets a probe through; 0 when it is not open. */
  msUntilProbe(): number {
    return this.state === 'open' ? Math.max(0, this.openedAt + this.cooldownMs - this.now()) : 0;
  }

  /**
   * Asks to call the layer. Closed: always granted. Half-open: granted to one caller at a time (the
   * probe). Open: refused (`undefined`), and counted.
   */
  acquire(): CircuitPermit | undefined {
    const state = this.state;
    if (state === 'closed') return this.period;
    if (state === 'half-open' && !this.probeInFlight) {
      this.probeInFlight = true;
      return this.period;
    }
    this.refusedCalls++;
    return undefined;
  }

  /** The call answered: resets the failure count; a probe's success closes the breaker. */
  success(permit: CircuitPermit): void {
    if (permit !== this.period) return;
    this.failures = 0;
    if (this.current === 'half-open') {
      this.probeInFlight = false;
      this.transition('closed', undefined);
    }
  }

  /**
   * The call failed: counts it, unless it started (`startedAt`, on the breaker's clock; default now) before
   * the last counted failure ended; the threshold (or a failed probe) opens the breaker.
   */
  failure(permit: CircuitPermit, error?: unknown, startedAt?: number): void {
    if (permit !== this.period) return;
    const now = this.now();
    if (this.current !== 'half-open' && (startedAt ?? now) < this.lastFailureAt) return;
    this.lastFailureAt = now;
    this.failures++;
    if (this.current === 'half-open' || this.failures >= this.failureThreshold) {
      this.probeInFlight = false;
      this.open(error);
    }
  }

  /** The call ended without saying anything about the layer's health (it was never sent, for instance). */
  release(permit: CircuitPermit): void {
    if (permit === this.period && this.current === 'half-open') this.probeInFlight = false;
  }

  /** Ends an open breaker's cool-down now, so the next call probes (used on shutdown, to try a last time). */
  endCooldown(): void {
    if (this.current === 'open') this.openedAt = this.now() - this.cooldownMs;
  }

  /** The breaker's clock, for the `startedAt` of {@link failure}. */
  clock(): number {
    return this.now();
  }

  /** A snapshot of the state and counters. */
  stats(): CircuitBreakerStats {
    const state = this.state;
    return {
      state,
      consecutiveFailures: this.failures,
      opened: this.timesOpened,
      refused: this.refusedCalls,
      retryAt: state === 'open' ? this.openedAt + this.cooldownMs : undefined,
    };
  }

  private open(error: unknown): void {
    this.openedAt = this.now();
    this.timesOpened++;
    this.transition('open', error);
  }

  private transition(state: CircuitState, error: unknown): void {
    const previous = this.current;
    this.current = state;
    this.period++;
    if (state === 'closed') this.failures = 0;
    if (this.onStateChange === undefined) return;
    try {
      this.onStateChange(error === undefined ? { state, previous, failures: this.failures } : { state, previous, failures: this.failures, error });
    } catch {
      // A listener must not break the breaker; it has nowhere to report its own failure.
    }
  }
}
