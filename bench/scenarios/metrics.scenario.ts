import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { LAYERED_CACHE_METRICS, type LayeredCacheMetrics, instrumentLayeredCache } from '../../lib/telemetry';
import { type BenchContext, rotationRounds, scaled } from '../context';
import { SAMPLE_ITEM, nextTurn } from '../fixtures';
import type { Candidate } from '../harness/candidate';
import { compareRounds } from '../harness/compare';
import { measureInterleaved } from '../harness/interleave';
import { measureInRotation } from '../harness/rotation';
import { type ScenarioResult, atMost, ratioToFloor, rowNamed } from '../harness/results';
import { type OurCache, createOurCache } from '../subjects/our-cache';

const OFF = 'metrics off';
const COUNTERS = 'metrics on, durations: false';
const ON = 'metrics on';

/** A reader that collects only when asked, as a Prometheus scrape does: nothing is exported while calls are timed. */
class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** The three configurations, each an application of its own, identical but for its metrics. */
interface Subject {
  readonly label: string;
  readonly ours: OurCache;
}

/**
 * What OpenTelemetry metrics cost an L1 hit and an L2 hit: the same application three times, without metrics
 * (the baseline), with `instrumentLayeredCache(cache, { durations: false })` (counters and gauges read from
 * `stats()` when the meter collects) and with the default (calls timed into histograms too), measured in the
 * same run and reported as ratios to the baseline. The meter provider is the OpenTelemetry SDK's, with a
 * reader that collects only at the end, as a scrape every few seconds would.
 */
export async function runMetricsScenario(context: BenchContext): Promise<ScenarioResult> {
  const reader = new PullReader();
  const meteredProvider = new MeterProvider({ readers: [reader] });
  const subjects: Subject[] = [];
  const instrumented: LayeredCacheMetrics[] = [];
  try {
    // The baseline is a fresh application too, not the one the earlier scenarios filled: the three then
    // differ in their metrics alone, and the counters-only ratio, whose hits run the baseline's code, shows
    // what is left of the run's noise.
    for (const [label, suffix, durations] of [
      [OFF, 'plain', undefined],
      [COUNTERS, 'counted', false],
      [ON, 'timed', true],
    ] as const) {
      const ours = await createOurCache(`${context.namespace}-${suffix}`);
      subjects.push({ label, ours });
      if (durations !== undefined) instrumented.push(instrumentLayeredCache(ours.cache, { meter: meteredProvider.getMeter('bench'), durations }));
    }
    const key = `item:${SAMPLE_ITEM.id}`;
    for (const { ours } of subjects) await ours.cache.set(key, SAMPLE_ITEM);

    const l1Candidates: Candidate[] = subjects.flatMap(({ label, ours }): Candidate[] => [
      { name: `${label}: LayeredCache.get L1 hit`, role: label === OFF ? 'floor' : 'subject', run: () => ours.cache.get(key) },
      { name: `${label}: @Cacheable L1 hit`, role: label === OFF ? 'floor' : 'subject', run: () => ours.items.find(SAMPLE_ITEM.id) },
    ]);
    const profile = scaled(context, { budgetMs: 120, maxSamples: 5_000, batchSize: 512, opsPerCall: 1 });
    const l1Rows = compareRounds(await measureInterleaved(l1Candidates, profile, context), 'latency');

    const l2Candidates: Candidate[] = subjects.map(({ label, ours }): Candidate => {
      const fullKey = ours.cache.fullKey(key);
      return {
        name: `${label}: LayeredCache.get L2 hit`,
        role: label === OFF ? 'floor' : 'subject',
        // The refill of the previous call has landed; the key is then evicted so that the call reads L2.
        prepare: async () => {
          await nextTurn();
          await ours.l1.delete(fullKey);
        },
        run: () => ours.cache.get(key),
      };
    });
    const l2Rows = compareRounds(await measureInRotation(l2Candidates, rotationRounds(context)), 'latency');

    const { resourceMetrics } = await reader.collect();
    let recorded = 0;
    for (const metric of resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)) {
      if (metric.dataPointType !== DataPointType.HISTOGRAM || metric.descriptor.name !== LAYERED_CACHE_METRICS.operationDuration) continue;
      for (const point of metric.dataPoints) recorded += point.value.count;
    }

    const ratio = (rows: typeof l1Rows, label: string, what: string): number => ratioToFloor(rowNamed(rows, `${label}: ${what}`), `${OFF}: ${what}`).p50;
    return {
      id: 'metrics',
      title: 'Metrics: the cost of OpenTelemetry on a hit',
      metric: 'latency',
      unit: 'ns/op',
      rounds: context.rounds,
      floors: [`${OFF}: LayeredCache.get L1 hit`, `${OFF}: @Cacheable L1 hit`, `${OFF}: LayeredCache.get L2 hit`],
      rows: [...l1Rows, ...l2Rows],
      targets: [
        atMost(`${COUNTERS} ÷ ${OFF}, LayeredCache.get L1 hit (median)`, ratio(l1Rows, COUNTERS, 'LayeredCache.get L1 hit'), 1.1),
        atMost(`${COUNTERS} ÷ ${OFF}, @Cacheable L1 hit (median)`, ratio(l1Rows, COUNTERS, '@Cacheable L1 hit'), 1.1),
        atMost(`${ON} ÷ ${OFF}, LayeredCache.get L2 hit (median)`, ratio(l2Rows, ON, 'LayeredCache.get L2 hit'), 1.1),
      ],
      notes: [
        `Three fresh applications booted alike (${context.ours.configuration}); the second and third are instrumented with instrumentLayeredCache on an OpenTelemetry SDK MeterProvider whose reader collects once, at the end. "${COUNTERS}" reads stats() at collection only, so its hits run exactly the code of "${OFF}". "${ON}" replaces the cache's get/getOrSet/set/put/delete and the L2 store's get/set/delete on those objects by timed calls (and L1's and the L2 guard's get by ones that tell whether L1 answered at once): an L1 hit then costs a clock read and two flags (it is counted, not recorded), an L2 hit two histogram records.`,
        `L1 rows: mitata samples of ${profile.batchSize} calls each, the candidates interleaved. L2 rows: one call at a time in rotation, each after an untimed turn of the event loop and an L1 eviction.`,
        // No target for an L1 hit with durations on: what must cost nothing is metrics left off (or counting
        // only); the rows show what timing every call costs once a user turns it on.
        `With durations on, an L1 hit is counted but not recorded: it pays the timed wrappers and a clock read (the "${ON}" rows). The timed application recorded ${recorded} call durations over the scenario (its histograms' counts, warm-up included).`,
      ],
    };
  } finally {
    for (const metrics of instrumented) metrics.stop();
    for (const { ours } of subjects) await ours.close();
    await meteredProvider.shutdown();
  }
}
