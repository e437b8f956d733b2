import type { Attributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api';
import { l1Health } from '../engine/cache-health.js';
import type { LayeredCache, LayeredCacheStats } from '../engine/layered-cache.js';
import { LAYERED_CACHE_METRICS as NAMES } from './metric-names.js';

type LayerName = 'l1' | 'l2';
const LAYERS: readonly LayerName[] = ['l1', 'l2'];
const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;
type ReplayStats = NonNullable<NonNullable<LayeredCacheStats['resilience']>['replay']>;
type OffloadStats = NonNullable<LayeredCacheStats['offload']>;
const REPLAY_OUTCOMES: readonly (keyof ReplayStats & string)[] = ['kept', 'replayed', 'superseded', 'withdrawn', 'dropped', 'expired', 'abandoned'];
const OFFLOAD_OUTCOMES: readonly [keyof OffloadStats & string, string][] = [
  ['completed', 'completed'],
  ['failed', 'failed'],
  ['timedOut', 'timed-out'],
  ['rejected', 'rejected'],
  ['deduplicated', 'deduplicated'],
  ['abandoned', 'abandoned'],
];

/**
 * Reports the cache's counters, its L2 breaker and queues, and L1's size as observable instruments, read
 * from one `stats()` snapshot when the meter collects: nothing runs on the cache's call path. Returns the
 * function that stops reporting.
 */
export function observeCacheStats(cache: LayeredCache, meter: Meter, attributes: Attributes): () => void {
  const counter = (name: string, description: string, unit?: string) => meter.createObservableCounter(name, { description, ...(unit ? { unit } : {}) });
  const gauge = (name: string, description: string, unit?: string) => meter.createObservableGauge(name, { description, ...(unit ? { unit } : {}) });
  const hits = counter(NAMES.hits, 'Reads a layer answered with a value.');
  const misses = counter(NAMES.misses, 'Reads a layer answered without a value.');
  const writes = counter(NAMES.writes, 'Entries a layer stored.');
  const deletes = counter(NAMES.deletes, 'Keys a layer removed.');
  const errors = counter(NAMES.errors, 'Failures, by the layer that failed.');
  const refills = counter(NAMES.refills, 'L2 hits copied into L1.');
  const invalidations = counter(NAMES.invalidations, 'L1 keys and prefixes dropped because other instances changed them.');
  const breakerState = gauge(NAMES.breakerState, '1 for the state the L2 circuit breaker is in, 0 for the others.');
  const breakerOpened = counter(NAMES.breakerOpened, 'Times the L2 circuit breaker opened.');
  const l2Timeouts = counter(NAMES.l2Timeouts, 'L2 calls that gave up at a time limit.');
  const replayPending = gauge(NAMES.replayPending, 'L2 writes waiting to be replayed.');
  const replayOutcomes = counter(NAMES.replayOutcomes, 'What became of the L2 writes kept for replay.');
  const l2Unanswered = gauge(NAMES.l2Unanswered, 'L2 writes whose caller stopped waiting that L2 has not answered yet.');
  const offloadRunning = gauge(NAMES.offloadRunning, 'Background tasks running now.');
  const offloadQueued = gauge(NAMES.offloadQueued, 'Background tasks waiting for a slot.');
  const offloadOutcomes = counter(NAMES.offloadOutcomes, 'Background tasks, by outcome.');
  const l1Entries = gauge(NAMES.l1Entries, 'Entries in L1.');
  const l1Bytes = gauge(NAMES.l1Bytes, 'Size of the entries in L1.', 'By');
  const observables: Observable[] = [
    hits,
    misses,
    writes,
    deletes,
    errors,
    refills,
    invalidations,
    breakerState,
    breakerOpened,
    l2Timeouts,
    replayPending,
    replayOutcomes,
    l2Unanswered,
    offloadRunning,
    offloadQueued,
    offloadOutcomes,
    l1Entries,
    l1Bytes,
  ];
  // Attribute sets are made once: the callback runs at every collection.
  const byLayer = { l1: { ...attributes, 'cache.layer': 'l1' }, l2: { ...attributes, 'cache.layer': 'l2' } };
  const byBreakerState = BREAKER_STATES.map((state) => [state, { ...attributes, 'cache.breaker.state': state }] as const);
  const byReplayOutcome = REPLAY_OUTCOMES.map((outcome) => [outcome, { ...attributes, 'cache.replay.outcome': outcome }] as const);
  const byOffloadOutcome = OFFLOAD_OUTCOMES.map(([field, outcome]) => [field, { ...attributes, 'cache.offload.outcome': outcome }] as const);

  const collect = (result: BatchObservableResult): void => {
    const stats = cache.stats();
    let layerErrors = 0;
    for (const layer of LAYERS) {
      const counts = stats[layer];
      result.observe(hits, counts.hits, byLayer[layer]);
      result.observe(misses, counts.misses, byLayer[layer]);
      result.observe(writes, counts.writes, byLayer[layer]);
      result.observe(deletes, counts.deletes, byLayer[layer]);
      result.observe(errors, counts.errors, byLayer[layer]);
      layerErrors += counts.errors;
    }
    // Failures of no layer (a key or a value the cache refused, a refused clear), so that the sum is every failure.
    result.observe(errors, stats.errors - layerErrors, attributes);
    result.observe(refills, stats.refills, attributes);
    result.observe(invalidations, stats.invalidations, attributes);
    const resilience = stats.resilience;
    if (resilience !== undefined) {
      result.observe(l2Timeouts, resilience.timeouts, attributes);
      result.observe(l2Unanswered, resilience.unanswered, attributes);
      const breaker = resilience.breaker;
      if (breaker !== undefined) {
        for (const [state, stateAttributes] of byBreakerState) result.observe(breakerState, breaker.state === state ? 1 : 0, stateAttributes);
        result.observe(breakerOpened, breaker.opened, attributes);
      }
      const replay = resilience.replay;
      if (replay !== undefined) {
        result.observe(replayPending, replay.pending, attributes);
        for (const [outcome, outcomeAttributes] of byReplayOutcome) result.observe(replayOutcomes, replay[outcome], outcomeAttributes);
      }
    }
    const offload = stats.offload;
    if (offload !== undefined) {
      result.observe(offloadRunning, offload.running, attributes);
      result.observe(offloadQueued, offload.queued, attributes);
      for (const [field, outcomeAttributes] of byOffloadOutcome) result.observe(offloadOutcomes, offload[field], outcomeAttributes);
    }
    const l1 = l1Health(cache);
    if (l1.entries !== undefined) result.observe(l1Entries, l1.entries, attributes);
    if (l1.bytes !== undefined) result.observe(l1Bytes, l1.bytes, attributes);
  };
  meter.addBatchObservableCallback(collect, observables);
  return () => meter.removeBatchObservableCallback(collect, observables);
}
