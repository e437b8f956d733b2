import type { Attributes, Histogram, Meter } from '@opentelemetry/api';
import { isPromiseLike } from '../core/promise-or-value.js';
import type { LayeredCache } from '../engine/layered-cache.js';
import { LAYERED_CACHE_METRICS as NAMES } from './metric-names.js';

/** The calls of `LayeredCache` that are timed. */
const CACHE_OPERATIONS = ['get', 'set', 'put', 'getOrSet', 'delete'] as const;
/** The calls of the L2 store that are timed. */
const L2_OPERATIONS = ['get', 'set', 'delete'] as const;

/** Seconds. From an L1 hit (about a microsecond) to the slowest L2 calls a time limit lets through. */
const OPERATION_BOUNDARIES = [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Seconds. From a Redis round trip on loopback to a command timeout. */
const L2_BOUNDARIES = [2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** L2 stores whose calls are timed already (by the metrics of another cache that shares the store). */
const timedStores = new WeakSet<object>();

type Method = (this: unknown, a: unknown, b: unknown, c: unknown) => unknown;

/** A method replaced on one object by a timed one, and how to put it back. */
interface Shadowed {
  readonly target: object;
  readonly name: string;
  readonly wrapper: Method;
  /** The object's own property of that name before, when it had one. */
  readonly before: PropertyDescriptor | undefined;
}

/**
 * Times the calls of `cache` (`get`, `set`, `put`, `getOrSet`, `delete`) and of its L2 store (`get`, `set`,
 * `delete`) into two histograms. Each method is replaced on that one object by one that calls it and records
 * how long it took, so that nothing changes for a cache that is not instrumented; a subclass's override is
 * what the replacement calls. L1 is not timed: it answers in about a microsecond, which timing would double.
 * An L2 store shared with a cache that is timed already is left as it is. Returns the function that puts
 * the methods back.
 */
export function timeCacheCalls(cache: LayeredCache, meter: Meter, attributes: Attributes): () => void {
  let live = true;
  const shadowed: Shadowed[] = [];
  const operations = meter.createHistogram(NAMES.operationDuration, {
    description: 'Duration of LayeredCache calls, until the promise they return settles.',
    unit: 's',
    advice: { explicitBucketBoundaries: OPERATION_BOUNDARIES },
  });
  for (const operation of CACHE_OPERATIONS) shadow(cache, operation, recorder(operations, attributes, operation), () => live, shadowed);
  const l2 = cache.store.l2;
  if (l2 !== null && !timedStores.has(l2)) {
    timedStores.add(l2);
    const l2Calls = meter.createHistogram(NAMES.l2Duration, {
      description: 'Duration of the calls of the L2 store, until it answers.',
      unit: 's',
      advice: { explicitBucketBoundaries: L2_BOUNDARIES },
    });
    for (const operation of L2_OPERATIONS) shadow(l2, operation, recorder(l2Calls, attributes, operation), () => live, shadowed);
  }
  return () => {
    live = false;
    if (l2 !== null && shadowed.some((entry) => entry.target === l2)) timedStores.delete(l2);
    for (const entry of shadowed.reverse()) restore(entry);
  };
}

/** Records one call of `operation` that started at `started` (`performance.now()`). */
type Recorder = (started: number, failed: boolean) => void;

function recorder(histogram: Histogram, attributes: Attributes, operation: string): Recorder {
  // Made once: a call only looks its attributes up.
  const ok = { ...attributes, 'cache.operation': operation, 'cache.outcome': 'ok' };
  const error = { ...attributes, 'cache.operation': operation, 'cache.outcome': 'error' };
  return (started, failed) => histogram.record((performance.now() - started) / 1_000, failed ? error : ok);
}

/** Replaces `target[name]` with a timed call of it, while `isLive()`; skipped when it is not a method or cannot be replaced. */
function shadow(target: object, name: string, record: Recorder, isLive: () => boolean, shadowed: Shadowed[]): void {
  const original = (target as Record<string, unknown>)[name];
  if (typeof original !== 'function') return;
  const method = original as Method;
  const wrapper: Method = function (this: unknown, a, b, c) {
    if (!isLive()) return method.call(this, a, b, c);
    const started = performance.now();
    let result: unknown;
    try {
      result = method.call(this, a, b, c);
    } catch (error) {
      record(started, true);
      throw error;
    }
    if (!isPromiseLike(result)) {
      record(started, false);
      return result;
    }
    // The caller gets the promise that settles after the record, so that a rejection it leaves unhandled is
    // still reported as unhandled, as it would be without metrics.
    return result.then(
      (value) => {
        record(started, false);
        return value;
      },
      (error: unknown) => {
        record(started, true);
        throw error;
      },
    );
  };
  const before = Object.getOwnPropertyDescriptor(target, name);
  try {
    Object.defineProperty(target, name, { value: wrapper, configurable: true, writable: true, enumerable: before?.enumerable ?? false });
  } catch {
    return; // a frozen object keeps its methods, untimed
  }
  shadowed.push({ target, name, wrapper, before });
}

/** Puts a method back, unless something replaced the timed one since (which then calls the method untimed). */
function restore({ target, name, wrapper, before }: Shadowed): void {
  if (Object.getOwnPropertyDescriptor(target, name)?.value !== wrapper) return;
  if (before === undefined) delete (target as Record<string, unknown>)[name];
  else Object.defineProperty(target, name, before);
}
