import type { Attributes, Histogram, Meter } from '@opentelemetry/api';
import { isPromiseLike } from '../core/promise-or-value.js';
import type { LayeredCache } from '../engine/layered-cache.js';
import { LAYERED_CACHE_METRICS as NAMES } from './metric-names.js';

/** The calls of `LayeredCache` that read L1 first: those that L1 answers at once are counted, not timed. */
const READ_OPERATIONS = ['get', 'getOrSet'] as const;
/** The other calls of `LayeredCache` that are timed. */
const WRITE_OPERATIONS = ['set', 'put', 'delete'] as const;
/** The calls of the L2 store that are timed. */
const L2_OPERATIONS = ['get', 'set', 'delete'] as const;

/** Seconds. From an L1 hit (about a microsecond) to the slowest L2 calls a time limit lets through. */
const OPERATION_BOUNDARIES = [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Seconds. From a Redis round trip on loopback to a command timeout. */
const L2_BOUNDARIES = [2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** L2 stores whose calls are timed already (by the metrics of another cache that shares the store). */
const timedStores = new WeakSet<object>();

// Rest parameters, so that a store or cache method with more parameters than today's gets every argument.
type Method = (this: unknown, ...args: unknown[]) => unknown;

/** A method replaced on one object by a timed one, and how to put it back. */
interface Shadowed {
  readonly target: object;
  readonly name: string;
  readonly wrapper: Method;
  /** The object's own property of that name before, when it had one. */
  readonly before: PropertyDescriptor | undefined;
}

/**
 * Times the calls of `cache` (`get`, `getOrSet`, `set`, `put`, `delete`) and of its L2 store (`get`, `set`,
 * `delete`) into two histograms. Each method is replaced on that one object by one that calls it and records
 * how long it took, so that nothing changes for a cache that is not instrumented; a subclass's override is
 * what the replacement calls. A `get` or `getOrSet` that L1 answers at once (without asking L2) is not
 * recorded: it takes well under a microsecond, less than the OpenTelemetry SDK takes to record it, and
 * `layered_cache.hits` counts it; L1's get and L2's guard are replaced too, to tell. An L2 store shared with a
 * cache that is timed already is left as it is. Returns the function that puts the methods back.
 */
export function timeCacheCalls(cache: LayeredCache, meter: Meter, attributes: Attributes): () => void {
  let live = true;
  const isLive = (): boolean => live;
  const shadowed: Shadowed[] = [];
  const operations = meter.createHistogram(NAMES.operationDuration, {
    description: 'Duration of LayeredCache calls that L1 did not answer at once, until the promise they return settles.',
    unit: 's',
    advice: { explicitBucketBoundaries: OPERATION_BOUNDARIES },
  });
  // During a get or getOrSet: whether L1's get answered with an entry at once, and whether L2 was asked
  // (a parallel read waits for it even after an L1 hit; a tagged hit may read its tags' versions from it).
  let l1Answered = false;
  let l2Asked = false;
  const answeredByL1 = (): boolean => l1Answered && !l2Asked;
  shadowMethod(cache.store.l1, 'get', isLive, shadowed, (method) =>
    function (this: unknown, ...args) {
      const entry = method.apply(this, args);
      if (entry !== undefined && !isPromiseLike(entry)) l1Answered = true;
      return entry;
    },
  );
  // The object the cache reads L2 through: its guard, or the store itself with resilience off.
  const l2Reads = cache.store.l2Resilience ?? cache.store.l2;
  if (l2Reads !== null) {
    shadowMethod(l2Reads, 'get', isLive, shadowed, (method) =>
      function (this: unknown, ...args) {
        l2Asked = true;
        return method.apply(this, args);
      },
    );
  }
  for (const operation of READ_OPERATIONS) {
    const record = recorder(operations, attributes, operation);
    shadowMethod(cache, operation, isLive, shadowed, (method) =>
      function (this: unknown, ...args) {
        l1Answered = false;
        l2Asked = false;
        const started = performance.now();
        const result = callTimed(this, method, args, record, started, answeredByL1);
        l1Answered = false;
        l2Asked = false;
        return result;
      },
    );
  }
  for (const operation of WRITE_OPERATIONS) {
    const record = recorder(operations, attributes, operation);
    shadowMethod(cache, operation, isLive, shadowed, (method) =>
      function (this: unknown, ...args) {
        return callTimed(this, method, args, record, performance.now(), untimedNever);
      },
    );
  }
  const l2 = cache.store.l2;
  if (l2 !== null && !timedStores.has(l2)) {
    timedStores.add(l2);
    const l2Calls = meter.createHistogram(NAMES.l2Duration, {
      description: 'Duration of the calls of the L2 store, until it answers.',
      unit: 's',
      advice: { explicitBucketBoundaries: L2_BOUNDARIES },
    });
    for (const operation of L2_OPERATIONS) {
      const record = recorder(l2Calls, attributes, operation);
      shadowMethod(l2, operation, isLive, shadowed, (method) =>
        function (this: unknown, ...args) {
          return callTimed(this, method, args, record, performance.now(), untimedNever);
        },
      );
    }
  }
  return () => {
    live = false;
    if (l2 !== null && shadowed.some((entry) => entry.target === l2)) timedStores.delete(l2);
    for (const entry of shadowed.reverse()) restore(entry);
  };
}

const untimedNever = (): boolean => false;

/** Records one call that started at `started` (`performance.now()`), with the error it failed with. */
type Recorder = (started: number, failed: boolean, error?: unknown) => void;

function recorder(histogram: Histogram, attributes: Attributes, operation: string): Recorder {
  // Made once (per kind of error): a call only looks its attributes up. Fewer attributes also make the SDK's record cheaper.
  const ok = { ...attributes, 'cache.operation': operation };
  const byErrorType = new Map<string, Attributes>();
  return (started, failed, error) => {
    const seconds = (performance.now() - started) / 1_000;
    if (!failed) {
      histogram.record(seconds, ok);
      return;
    }
    const type = errorType(error);
    let withError = byErrorType.get(type);
    if (withError === undefined) byErrorType.set(type, (withError = { ...ok, 'error.type': type }));
    histogram.record(seconds, withError);
  };
}

/** The class name of an error (`CacheTimeoutError`), as OpenTelemetry's `error.type` wants it; `_OTHER` for a rejection that is no object. */
function errorType(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '_OTHER';
  const name = (error as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name : '_OTHER';
}

/**
 * Calls `method` and records how long it took, until the promise it returns settles; not recorded when
 * `untimed()` says so right after the call returned (L1 answered it).
 */
function callTimed(self: unknown, method: Method, args: unknown[], record: Recorder, started: number, untimed: () => boolean): unknown {
  let result: unknown;
  try {
    result = method.apply(self, args);
  } catch (error) {
    record(started, true, error);
    throw error;
  }
  if (untimed()) return result;
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
      record(started, true, error);
      throw error;
    },
  );
}

/**
 * Replaces `target[name]` by what `wrap` makes of it while `isLive()`, and by a plain call of it after; skipped
 * when it is not a method or cannot be replaced (a frozen object keeps its methods, untimed).
 */
function shadowMethod(target: object, name: string, isLive: () => boolean, shadowed: Shadowed[], wrap: (method: Method) => Method): void {
  const original = (target as Record<string, unknown>)[name];
  if (typeof original !== 'function') return;
  const method = original as Method;
  const timed = wrap(method);
  const wrapper: Method = function (this: unknown, ...args) {
    return isLive() ? timed.apply(this, args) : method.apply(this, args);
  };
  const before = Object.getOwnPropertyDescriptor(target, name);
  try {
    Object.defineProperty(target, name, { value: wrapper, configurable: true, writable: true, enumerable: before?.enumerable ?? false });
  } catch {
    return;
  }
  shadowed.push({ target, name, wrapper, before });
}

/** Puts a method back, unless something replaced the timed one since (which then calls the method untimed). */
function restore({ target, name, wrapper, before }: Shadowed): void {
  if (Object.getOwnPropertyDescriptor(target, name)?.value !== wrapper) return;
  if (before === undefined) delete (target as Record<string, unknown>)[name];
  else Object.defineProperty(target, name, before);
}
