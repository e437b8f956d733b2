import { CacheSerializationError, LayeredCacheError, describeCause } from '../core/errors.js';
import { MAX_TIMER_MS, withTimeout } from '../core/with-timeout.js';
import type { LayeredCache } from './layered-cache.js';
import type { CircuitState } from '../resilience/circuit-breaker.js';
import type { PromiseOrValue } from '../core/promise-or-value.js';
import {
  HEALTH_BREAKER_OPEN,
  HEALTH_INVALID_THRESHOLD,
  HEALTH_INVALID_TIMEOUT,
  HEALTH_L2_NOT_ANSWERING,
  HEALTH_OFFLOAD_BACKLOG,
  HEALTH_PING_TIMED_OUT,
  HEALTH_REPLAY_BACKLOG,
} from '../core/messages.js';

/** Default time limit of the health check's ping of L2, in milliseconds. */
export const DEFAULT_HEALTH_PING_TIMEOUT_MS = 1_000;

/** The key a store without `ping()` is read at for the health check's round trip (under the cache's namespace). */
const PROBE_KEY = 'nestjs-layered-cache:health-probe';

/** What the health check looks at and when it calls the cache unhealthy. Every field is optional. */
export interface CacheHealthThresholds {
  /** Longest wait for L2's answer to the ping, in milliseconds. Default 1 000; the store's own command timeout applies too. */
  timeoutMs?: number;
  /** Unhealthy when more L2 writes than this wait to be replayed (`stats().resilience.replay.pending`). Default: no limit. */
  maxReplayBacklog?: number;
  /** Unhealthy when more background tasks than this are running or queued (`stats().offload`). Default: no limit. */
  maxOffloadBacklog?: number;
}

/** L1's size, as far as the store tells it. */
export interface L1Health {
  /** Entries held now; absent when the store does not count them. */
  readonly entries?: number;
  /** Their size in bytes; absent when the store has no bound in bytes (a `MemoryStore` without `maxBytes`). */
  readonly bytes?: number;
}

/** The answer of L2 to the health check's ping. */
export type L2Health =
  | { readonly status: 'none' }
  | { readonly status: 'up'; readonly responseTimeMs: number }
  | { readonly status: 'down'; readonly error: string };

/** What the health check found; `problems` is empty when the cache is healthy. */
export interface CacheHealthReport {
  readonly l1: L1Health;
  readonly l2: L2Health;
  /** The L2 circuit breaker's state; absent without L2, with resilience off, or with the breaker off. */
  readonly breaker?: CircuitState;
  /** L2 writes waiting to be replayed. */
  readonly replayBacklog: number;
  /** Background tasks running or queued. */
  readonly offloadBacklog: number;
  /** Why the cache is unhealthy, one sentence each, L2's own problems first. */
  readonly problems: readonly string[];
  /** True when every problem is L2 not answering or its breaker being open (the cache still serves from L1). */
  readonly onlyL2: boolean;
}

/**
 * Looks at a cache as a health check does: L1's size, one bounded round trip to L2 (its `ping()`, else a
 * read of one key), past the circuit breaker so that it tells whether L2 answers now, the breaker's state and
 * the replay and offload backlogs. Rejects only for invalid thresholds (`LayeredCacheError`), never for the
 * cache's own failures. `LayeredCacheHealthIndicator` (the `nestjs-layered-cache/terminus` entry) reports it to
 * Terminus; call it yourself for a health endpoint of your own.
 *
 * @example
 * const report = await inspectCacheHealth(cache, { timeoutMs: 500, maxReplayBacklog: 1_000 });
 * if (report.problems.length > 0) logger.warn(report.problems.join(' '));
 */
export async function inspectCacheHealth(cache: LayeredCache, thresholds: CacheHealthThresholds = {}): Promise<CacheHealthReport> {
  const timeoutMs = validPingTimeout(thresholds.timeoutMs);
  const maxReplayBacklog = validThreshold('maxReplayBacklog', thresholds.maxReplayBacklog);
  const maxOffloadBacklog = validThreshold('maxOffloadBacklog', thresholds.maxOffloadBacklog);
  const l2 = await pingL2(cache, timeoutMs);
  const stats = cache.stats();
  const breaker = stats.resilience?.breaker;
  const replayBacklog = stats.resilience?.replay?.pending ?? 0;
  const offloadBacklog = (stats.offload?.running ?? 0) + (stats.offload?.queued ?? 0);
  const l2Problems: string[] = [];
  if (l2.status === 'down') l2Problems.push(HEALTH_L2_NOT_ANSWERING(l2.error));
  if (breaker?.state === 'open') l2Problems.push(HEALTH_BREAKER_OPEN(breaker.retryAt === undefined ? undefined : Math.max(0, breaker.retryAt - Date.now())));
  const backlogProblems: string[] = [];
  if (maxReplayBacklog !== undefined && replayBacklog > maxReplayBacklog) backlogProblems.push(HEALTH_REPLAY_BACKLOG(replayBacklog, maxReplayBacklog));
  if (maxOffloadBacklog !== undefined && offloadBacklog > maxOffloadBacklog) backlogProblems.push(HEALTH_OFFLOAD_BACKLOG(offloadBacklog, maxOffloadBacklog));
  return {
    l1: l1Health(cache),
    l2,
    ...(breaker === undefined ? {} : { breaker: breaker.state }),
    replayBacklog,
    offloadBacklog,
    problems: [...l2Problems, ...backlogProblems],
    onlyL2: backlogProblems.length === 0,
  };
}

/** One round trip to the L2 store itself (not through the breaker), bounded by `timeoutMs`. */
async function pingL2(cache: LayeredCache, timeoutMs: number): Promise<L2Health> {
  const store = cache.store.l2;
  if (store === null) return { status: 'none' };
  const started = performance.now();
  const roundTrip = (): PromiseOrValue<unknown> => (store.ping === undefined ? store.get(cache.fullKey(PROBE_KEY)) : store.ping());
  try {
    await withTimeout(roundTrip, timeoutMs, () => new Error(HEALTH_PING_TIMED_OUT(timeoutMs)));
  } catch (error) {
    // An entry it could not decode was still an answer.
    if (!(error instanceof CacheSerializationError)) return { status: 'down', error: describeCause(error) };
  }
  return { status: 'up', responseTimeMs: Math.round((performance.now() - started) * 100) / 100 };
}

/** What the L1 store says of its size (a `MemoryStore` has `size` and, with a bound in bytes, `bytes`). */
export function l1Health(cache: LayeredCache): L1Health {
  const l1 = cache.store.l1 as { readonly size?: unknown; readonly bytes?: unknown };
  return {
    ...(typeof l1.size === 'number' ? { entries: l1.size } : {}),
    ...(typeof l1.bytes === 'number' ? { bytes: l1.bytes } : {}),
  };
}

function validPingTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_HEALTH_PING_TIMEOUT_MS;
  if (typeof value !== 'number' || !(value > 0) || value > MAX_TIMER_MS) throw new LayeredCacheError(HEALTH_INVALID_TIMEOUT(value));
  return value;
}

function validThreshold(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new LayeredCacheError(HEALTH_INVALID_THRESHOLD(option, value));
  return value;
}
