/**
 * The names of the metrics `instrumentLayeredCache` reports (OpenTelemetry names; a Prometheus exporter
 * writes `layered_cache_hits_total`, `layered_cache_operation_duration_bucket` and so on). Every
 * measurement carries `cache.namespace` and the `attributes` given to `instrumentLayeredCache`.
 */
export const LAYERED_CACHE_METRICS = {
  /** Counter: reads a layer answered with a value; attribute `cache.layer` (`l1`, `l2`). */
  hits: 'layered_cache.hits',
  /** Counter: reads a layer answered without a value; attribute `cache.layer`. */
  misses: 'layered_cache.misses',
  /** Counter: entries a layer stored; attribute `cache.layer`. */
  writes: 'layered_cache.writes',
  /** Counter: keys a layer removed; attribute `cache.layer`. */
  deletes: 'layered_cache.deletes',
  /** Counter: failures; attribute `cache.layer` when a layer failed (none for a key or option the cache refused). */
  errors: 'layered_cache.errors',
  /** Counter: L2 hits copied into L1. */
  refills: 'layered_cache.refills',
  /** Counter: L1 keys dropped, and L1 prefixes cleared, because of changes made by other instances. */
  invalidations: 'layered_cache.invalidations',
  /**
   * Histogram, seconds: calls of the cache, except a `get` or `getOrSet` that L1 answered at once (counted in
   * `hits`); attribute `cache.operation` (`get`, `getOrSet`, `set`, `put`, `delete`), and `error.type` (the
   * error's class) on a call that rejected.
   */
  operationDuration: 'layered_cache.operation.duration',
  /** Histogram, seconds: calls of the L2 store itself; attribute `cache.operation` (`get`, `set`, `delete`), and `error.type` on a failed call. */
  l2Duration: 'layered_cache.l2.duration',
  /** Gauge: 1 for the L2 circuit breaker's state, 0 for the others; attribute `cache.breaker.state` (`closed`, `open`, `half-open`). */
  breakerState: 'layered_cache.l2.breaker.state',
  /** Counter: times the L2 circuit breaker opened. */
  breakerOpened: 'layered_cache.l2.breaker.opened',
  /** Counter: L2 calls that gave up at a time limit. */
  l2Timeouts: 'layered_cache.l2.timeouts',
  /** Gauge: L2 writes waiting to be replayed (the replay queue). */
  replayPending: 'layered_cache.l2.replay.pending',
  /** Counter: what became of the L2 writes kept for replay; attribute `cache.replay.outcome` (`kept`, `replayed`, `superseded`, `withdrawn`, `dropped`, `expired`, `abandoned`). */
  replayOutcomes: 'layered_cache.l2.replay.outcomes',
  /** Gauge: L2 writes sent whose caller stopped waiting and that L2 has not answered yet. */
  l2Unanswered: 'layered_cache.l2.unanswered',
  /** Gauge: background tasks holding a slot of the offload service now. */
  offloadRunning: 'layered_cache.offload.running',
  /** Gauge: background tasks waiting for a slot. */
  offloadQueued: 'layered_cache.offload.queued',
  /** Counter: background tasks by outcome; attribute `cache.offload.outcome` (`completed`, `failed`, `timed-out`, `rejected`, `deduplicated`, `abandoned`). */
  offloadOutcomes: 'layered_cache.offload.outcomes',
  /** Gauge: entries in L1, when the L1 store counts them (`MemoryStore` does). */
  l1Entries: 'layered_cache.l1.entries',
  /** Gauge, bytes: size of the entries in L1, when the store measures it (`MemoryStore` with `maxBytes`). */
  l1Bytes: 'layered_cache.l1.bytes',
} as const;
