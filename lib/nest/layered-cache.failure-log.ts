import type { Observable, Subscription } from 'rxjs';
import type { CacheErrorEvent } from '../core/cache-events.js';
import { CacheLayerError, describeCause } from '../core/errors.js';
import { CACHE_FAILURE_LOGGED, CACHE_FAILURES_AT_SHUTDOWN, CACHE_FAILURES_SUMMARY } from './layered-cache.messages.js';

/** Where a {@link CacheFailureLog} writes; Nest's `Logger` fits. */
export interface FailureLogger {
  warn(message: string): void;
}

/** How long failures of one kind are counted before they are summarised, in milliseconds. */
export const FAILURE_LOG_WINDOW_MS = 10_000;

/** Failures of one kind seen since its first one was logged. */
interface KindWindow {
  readonly timer: ReturnType<typeof setTimeout>;
  /** Failures counted (not logged) in the current window. */
  count: number;
  lastDetail: string;
}

/**
 * Logs the cache's failures (error events: L2 down or slow, serialization, key building, a refused clear,
 * L1 errors) so that a user sees them without subscribing to anything, without flooding the log while
 * Redis is down. The rule, per kind of failure (layer + operation + error class):
 *
 * - the first failure is logged at once, with its message and cause, and opens a window of `windowMs`;
 * - further failures in the window are counted; when the window ends with any, one line gives their count
 *   and the last one's message, and a new window opens;
 * - a window that ends with none closes the kind, so its next failure is logged at once again;
 * - `close()` logs what is counted but not yet summarised and clears the timers.
 *
 * Timers are unref'd: a failing cache never keeps the process alive.
 */
export class CacheFailureLog {
  private readonly kinds = new Map<string, KindWindow>();
  private readonly subscription: Subscription;

  constructor(
    errors$: Observable<CacheErrorEvent>,
    private readonly logger: FailureLogger,
    private readonly windowMs: number = FAILURE_LOG_WINDOW_MS,
  ) {
    this.subscription = errors$.subscribe((event) => this.record(event));
  }

  /** Logs what is counted but not yet summarised, stops the timers and stops listening. */
  close(): void {
    this.subscription.unsubscribe();
    for (const [kind, window] of this.kinds) {
      clearTimeout(window.timer);
      if (window.count > 0) this.write(CACHE_FAILURES_AT_SHUTDOWN(kind, window.count, window.lastDetail));
    }
    this.kinds.clear();
  }

  private record(event: CacheErrorEvent): void {
    const kind = kindOf(event);
    const detail = detailOf(event.error);
    const window = this.kinds.get(kind);
    if (window !== undefined) {
      window.count++;
      window.lastDetail = detail;
      return;
    }
    this.write(CACHE_FAILURE_LOGGED(kind, detail, this.windowMs));
    this.open(kind, detail);
  }

  private open(kind: string, lastDetail: string): void {
    const timer = setTimeout(() => this.windowEnded(kind), this.windowMs);
    timer.unref();
    this.kinds.set(kind, { timer, count: 0, lastDetail });
  }

  private windowEnded(kind: string): void {
    const window = this.kinds.get(kind);
    this.kinds.delete(kind);
    if (window === undefined || window.count === 0) return;
    this.write(CACHE_FAILURES_SUMMARY(kind, window.count, this.windowMs, window.lastDetail));
    this.open(kind, window.lastDetail);
  }

  /** The event is published from inside a cache call: a logger that throws must not reach that call. */
  private write(message: string): void {
    try {
      this.logger.warn(message);
    } catch {
      // Nowhere left to report a broken logger.
    }
  }
}

/** Layer + operation + error class, e.g. `L2 get, CacheTimeoutError`; keys are left out so that an outage is one kind. */
function kindOf(event: CacheErrorEvent): string {
  const where = event.operation === 'key' ? 'key building' : `${event.layer === undefined ? '' : `${event.layer.toUpperCase()} `}${event.operation}`;
  return `${where}, ${errorClassOf(event)}`;
}

/**
 * A layer error wraps what the store threw, a key error what the key function or encoding threw: that is
 * the class that tells one failure from another.
 */
function errorClassOf(event: CacheErrorEvent): string {
  const { error } = event;
  const cause: unknown = error instanceof CacheLayerError || (event.operation === 'key' && error.cause !== undefined) ? error.cause : error;
  return cause instanceof Error ? cause.constructor.name || cause.name : typeof cause;
}

/** The error's message followed by each cause whose text it does not already contain. */
function detailOf(error: Error): string {
  let detail = error.message;
  let cause: unknown = error.cause;
  for (let depth = 0; cause !== undefined && depth < 4; depth++) {
    const text = describeCause(cause);
    if (text !== '' && !detail.includes(text)) detail += ` (cause: ${text})`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return detail.replace(/\.$/, '');
}
