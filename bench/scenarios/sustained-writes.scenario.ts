import { LRUCache } from 'lru-cache';
import { RaceLoser, RaceWritePolicy } from '../../lib';
import { type BenchContext, slicedRounds } from '../context';
import { SAMPLE_ITEM, TTL_MS } from '../fixtures';
import type { Candidate } from '../harness/candidate';
import { compareRounds } from '../harness/compare';
import { measureInterleaved } from '../harness/interleave';
import { type ScenarioResult, type TargetResult, atLeast, fastestOf, ratioToFloor, rowNamed } from '../harness/results';
import { describeOffload } from './offload-counts';

/** Writes per measured call, each returning to the caller before the next starts. */
export const WRITES_PER_CALL = 256;

const NODE_REDIS_FLOOR = 'lru.set + node-redis SET PX, not awaited';
const IOREDIS_FLOOR = 'lru.set + ioredis SET PX, not awaited';
const RACE_OFFLOAD = 'set, RaceWritePolicy(offload)';
const RACE_DROP = 'set, RaceWritePolicy(drop)';
const OFFLOADED = 'put, background (offloaded)';

/**
 * Sustained rate of writes the caller does not wait for: one call issues 256 writes back to back, then
 * waits until every one of them has reached Redis (the background drain is part of the time).
 */
export async function runSustainedWriteScenario(context: BenchContext): Promise<ScenarioResult> {
  const { cache, drainBackground } = context.ours;
  let answeredL2Writes = cache.stats().l2.writes + cache.stats().l2.errors;
  // Our calls wait for the offload service, then (for losers left unobserved, which it does not track) for
  // the last L2 answer, turn by turn; every write must have been answered by Redis (written or failed) within
  // the call, which is checked after each call so that no write can finish outside the timed window.
  const drainAndCheck = async (): Promise<void> => {
    const before = answeredL2Writes;
    await drainBackground();
    const answered = (): number => cache.stats().l2.writes + cache.stats().l2.errors - before;
    const deadline = Date.now() + 5_000;
    while (answered() < WRITES_PER_CALL && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    const after = cache.stats();
    answeredL2Writes = after.l2.writes + after.l2.errors;
    if (answeredL2Writes - before !== WRITES_PER_CALL) {
      throw new Error(`Only ${answeredL2Writes - before} of ${WRITES_PER_CALL} L2 writes were answered within 5 s of the offload service draining`);
    }
  };
  const floorLru = new LRUCache<string, object>({ max: 10_000 });
  const keys = Array.from({ length: WRITES_PER_CALL }, (_, index) => `sustained:${index}`);
  const rawKeys = keys.map((key) => `${context.prefix}raw:${key}`);
  const racing: ReadonlyArray<readonly [string, RaceWritePolicy]> = [
    [RACE_OFFLOAD, new RaceWritePolicy(RaceLoser.Offload)],
    [RACE_DROP, new RaceWritePolicy(RaceLoser.Drop)],
  ];

  const candidates: Candidate[] = [
    {
      name: NODE_REDIS_FLOOR,
      role: 'floor',
      run: async () => {
        for (const key of rawKeys) {
          floorLru.set(key, SAMPLE_ITEM, { ttl: TTL_MS });
          context.nodeRedis.set(key, JSON.stringify(SAMPLE_ITEM), { expiration: { type: 'PX', value: TTL_MS } }).catch(ignore);
        }
        await context.nodeRedis.ping();
      },
    },
    {
      name: IOREDIS_FLOOR,
      role: 'floor',
      run: async () => {
        for (const key of rawKeys) {
          floorLru.set(key, SAMPLE_ITEM, { ttl: TTL_MS });
          context.ioRedis.set(key, JSON.stringify(SAMPLE_ITEM), 'PX', TTL_MS).catch(ignore);
        }
        await context.ioRedis.ping();
      },
    },
    ...racing.map(
      ([name, writePolicy]): Candidate => ({
        name,
        role: 'subject',
        operation: 'set',
        run: async () => {
          for (const key of keys) await cache.set(key, SAMPLE_ITEM, { writePolicy });
          await drainAndCheck();
        },
      }),
    ),
    {
      name: OFFLOADED,
      role: 'subject',
      operation: 'set',
      run: async () => {
        for (const key of keys) await cache.put(key, SAMPLE_ITEM, { background: true });
        await drainAndCheck();
      },
    },
  ];
  for (const peer of context.peers) {
    candidates.push({
      name: `${peer.name} set, not awaited`,
      role: 'peer',
      peer: peer.name,
      operation: 'set',
      run: () => Promise.all(keys.map((key) => peer.set(key, SAMPLE_ITEM))),
    });
  }

  const errorsBefore = cache.stats().errors;
  const offloadBefore = cache.stats().offload;
  const measurement = slicedRounds(context, { budgetMs: 300, maxSamples: 200, batchSize: 0, opsPerCall: WRITES_PER_CALL }, 3);
  const rows = compareRounds(await measureInterleaved(candidates, measurement.profile, measurement), 'throughput');
  const floor = fastestOf(rows, [NODE_REDIS_FLOOR, IOREDIS_FLOOR], 'throughput');
  const sustained = (name: string): TargetResult =>
    atLeast(`${name}: sustained rate ÷ fire-and-forget floor (${floor}), median`, ratioToFloor(rowNamed(rows, name), floor).p50, 0.8);
  return {
    id: 'sustained-writes',
    title: 'Writes the caller does not wait for, sustained rate including the background drain',
    metric: 'throughput',
    unit: 'ops/s',
    rounds: measurement.rounds,
    floors: [floor],
    rows: rows.filter((row) => row.role !== 'floor' || row.name === floor),
    targets: [sustained(RACE_OFFLOAD), sustained(RACE_DROP), sustained(OFFLOADED)],
    notes: [
      `One sample is ${WRITES_PER_CALL} writes issued one after the other (each awaited by the caller as far as the call returns), then a wait until all of them are in Redis: for the floors, a PING on the same connection; for ours, the offload service's drain and then, for losers left unobserved (RaceLoser.Drop), the turns until Redis has answered all ${WRITES_PER_CALL} L2 writes, which every sample checks.`,
      `Cache errors during the measurement: ${cache.stats().errors - errorsBefore}; ${describeOffload(offloadBefore, cache.stats().offload)}.`,
    ],
  };
}

function ignore(): void {}
