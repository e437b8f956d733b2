import { type BenchContext, slicedRounds } from '../context';
import { SAMPLE_ITEM, TTL_MS } from '../fixtures';
import type { Candidate } from '../harness/candidate';
import { compareRounds } from '../harness/compare';
import { measureInterleaved } from '../harness/interleave';
import type { ScenarioResult } from '../harness/results';
import { runConcurrently } from '../harness/workers';
import { CONCURRENCY, KEYS_PER_CALL } from './concurrent-reads.scenario';

const NODE_REDIS = 'node-redis SET PX';
const IOREDIS = 'ioredis SET PX';
const IOREDIS_PIPELINED = 'ioredis (auto-pipelining) SET PX';

/** Throughput of awaited writes with 64 in flight, against each raw client's `SET PX` of the JSON text. */
export async function runConcurrentWriteScenario(context: BenchContext): Promise<ScenarioResult> {
  const { cache } = context.ours;
  const keys = Array.from({ length: KEYS_PER_CALL }, (_, index) => `written:${index}`);
  const rawKeys = keys.map((key) => `${context.prefix}raw:${key}`);
  const candidates: Candidate[] = [
    {
      name: NODE_REDIS,
      role: 'floor',
      run: () => runConcurrently(KEYS_PER_CALL, CONCURRENCY, (i) => context.nodeRedis.set(rawKeys[i], JSON.stringify(SAMPLE_ITEM), { expiration: { type: 'PX', value: TTL_MS } })),
    },
    { name: IOREDIS, role: 'floor', run: () => runConcurrently(KEYS_PER_CALL, CONCURRENCY, (i) => context.ioRedis.set(rawKeys[i], JSON.stringify(SAMPLE_ITEM), 'PX', TTL_MS)) },
    {
      name: IOREDIS_PIPELINED,
      role: 'floor',
      run: () => runConcurrently(KEYS_PER_CALL, CONCURRENCY, (i) => context.ioRedisPipelined.set(rawKeys[i], JSON.stringify(SAMPLE_ITEM), 'PX', TTL_MS)),
    },
    { name: 'set, OptimisticParallelWritePolicy (default)', role: 'subject', operation: 'set', run: () => runConcurrently(KEYS_PER_CALL, CONCURRENCY, (i) => cache.set(keys[i], SAMPLE_ITEM)) },
  ];
  for (const peer of context.peers) {
    candidates.push({ name: `${peer.name} set`, role: 'peer', peer: peer.name, operation: 'set', run: () => runConcurrently(KEYS_PER_CALL, CONCURRENCY, (i) => peer.set(keys[i], SAMPLE_ITEM)) });
  }
  const errorsBefore = cache.stats().errors;
  const measurement = slicedRounds(context, { budgetMs: 400, maxSamples: 60, batchSize: 0, opsPerCall: KEYS_PER_CALL }, 4);
  const rows = compareRounds(await measureInterleaved(candidates, measurement.profile, measurement), 'throughput');
  return {
    id: 'concurrent-writes',
    title: `${CONCURRENCY} concurrent writes`,
    metric: 'throughput',
    unit: 'ops/s',
    rounds: measurement.rounds,
    floors: [NODE_REDIS, IOREDIS, IOREDIS_PIPELINED],
    rows,
    targets: [],
    notes: [
      `One sample is ${KEYS_PER_CALL} awaited writes of distinct keys with ${CONCURRENCY} in flight; p99 is the throughput of the slowest 1% of samples.`,
      `Cache errors during the measurement: ${cache.stats().errors - errorsBefore}.`,
    ],
  };
}
