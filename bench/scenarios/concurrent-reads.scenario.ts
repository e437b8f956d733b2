import { type BenchContext, slicedRounds } from '../context';
import { TTL_MS, makeItem, nextTurn } from '../fixtures';
import type { Candidate } from '../harness/candidate';
import { compareRounds } from '../harness/compare';
import { measureInterleaved } from '../harness/interleave';
import { type ScenarioResult, atLeast, fastestOf, ratioToFloor, rowNamed } from '../harness/results';
import { runConcurrently } from '../harness/workers';

/** Requests in flight at once. */
export const CONCURRENCY = 64;
/** Operations per measured call: every key once, so that each read misses L1. */
export const KEYS_PER_CALL = 2_048;

const NODE_REDIS = 'node-redis GET + JSON.parse';
const IOREDIS = 'ioredis GET + JSON.parse';
const IOREDIS_PIPELINED = 'ioredis (auto-pipelining) GET + JSON.parse';

/**
 * Throughput of L2 hits with 64 reads in flight. Each call reads 2 048 distinct keys, after L1 was emptied
 * (untimed), so every read is served by L2, refill included.
 */
export async function runConcurrentReadScenario(context: BenchContext): Promise<ScenarioResult> {
  const { cache, items, l1 } = context.ours;
  const ids = Array.from({ length: KEYS_PER_CALL }, (_, index) => index);
  const rawKeys = ids.map((id) => `${context.prefix}raw:item:${id}`);
  const keys = ids.map((id) => `item:${id}`);
  await runConcurrently(KEYS_PER_CALL, CONCURRENCY, async (index) => {
    await context.nodeRedis.set(rawKeys[index], JSON.stringify(makeItem(index)), { expiration: { type: 'PX', value: TTL_MS } });
    await cache.set(keys[index], makeItem(index));
  });
  // The decorated method's own entries, so that its calls below are L2 hits from the first.
  await runConcurrently(KEYS_PER_CALL, CONCURRENCY, (index) => items.find(index));
  const emptyOurL1 = async (): Promise<void> => {
    await nextTurn();
    await l1.clear();
  };

  const candidates: Candidate[] = [
    { name: NODE_REDIS, role: 'floor', run: () => runConcurrently(KEYS_PER_CALL, CONCURRENCY, async (i) => JSON.parse((await context.nodeRedis.get(rawKeys[i])) as string)) },
    { name: IOREDIS, role: 'floor', run: () => runConcurrently(KEYS_PER_CALL, CONCURRENCY, async (i) => JSON.parse((await context.ioRedis.get(rawKeys[i])) as string)) },
    {
      name: IOREDIS_PIPELINED,
      role: 'floor',
      run: () => runConcurrently(KEYS_PER_CALL, CONCURRENCY, async (i) => JSON.parse((await context.ioRedisPipelined.get(rawKeys[i])) as string)),
    },
    { name: 'LayeredCache.get', role: 'subject', operation: 'get', prepare: emptyOurL1, run: () => runConcurrently(KEYS_PER_CALL, CONCURRENCY, (i) => cache.get(keys[i])) },
    { name: '@Cacheable method', role: 'subject', operation: 'getOrSet', prepare: emptyOurL1, run: () => runConcurrently(KEYS_PER_CALL, CONCURRENCY, (i) => items.find(i)) },
  ];
  for (const peer of context.peers) {
    await runConcurrently(KEYS_PER_CALL, CONCURRENCY, (index) => peer.set(keys[index], makeItem(index)));
    candidates.push({
      name: `${peer.name} get`,
      role: 'peer',
      peer: peer.name,
      operation: 'get',
      prepare: async () => {
        await nextTurn();
        await peer.clearL1();
      },
      run: () => runConcurrently(KEYS_PER_CALL, CONCURRENCY, (i) => peer.get(keys[i])),
    });
  }

  const before = cache.stats();
  const sourceCallsBefore = items.sourceCalls;
  const measurement = slicedRounds(context, { budgetMs: 400, maxSamples: 60, batchSize: 0, opsPerCall: KEYS_PER_CALL }, 4);
  const rows = compareRounds(await measureInterleaved(candidates, measurement.profile, measurement), 'throughput');
  const after = cache.stats();
  const fastestRaw = fastestOf(rows, [NODE_REDIS, IOREDIS, IOREDIS_PIPELINED], 'throughput');
  return {
    id: 'concurrent-reads',
    title: `${CONCURRENCY} concurrent L2 hits`,
    metric: 'throughput',
    unit: 'ops/s',
    rounds: measurement.rounds,
    floors: [NODE_REDIS, IOREDIS, IOREDIS_PIPELINED],
    rows,
    targets: [
      atLeast(`LayeredCache.get throughput ÷ the fastest raw client (${fastestRaw}), median`, ratioToFloor(rowNamed(rows, 'LayeredCache.get'), fastestRaw).p50, 0.8),
      atLeast(`@Cacheable throughput ÷ the fastest raw client (${fastestRaw}), median`, ratioToFloor(rowNamed(rows, '@Cacheable method'), fastestRaw).p50, 0.8),
    ],
    notes: [
      `One sample is ${KEYS_PER_CALL} reads of distinct keys with ${CONCURRENCY} in flight; p99 is the throughput of the slowest 1% of samples.`,
      `Our reads during the measurement: ${after.l2.hits - before.l2.hits} served by L2, ${after.l1.hits - before.l1.hits} by L1; the decorated method's body ran ${items.sourceCalls - sourceCallsBefore} times; cache errors: ${after.errors - before.errors}, L2 timeouts: ${(after.resilience?.timeouts ?? 0) - (before.resilience?.timeouts ?? 0)}.`,
    ],
  };
}
