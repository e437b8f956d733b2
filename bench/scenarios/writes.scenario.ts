import { LRUCache } from 'lru-cache';
import { OptimisticParallelWritePolicy, RaceLoser, RaceWritePolicy, SequentialWritePolicy, type WritePolicy } from '../../lib';
import { type BenchContext, rotationRounds, slicedRounds } from '../context';
import { SAMPLE_ITEM, TTL_MS, nextTurn } from '../fixtures';
import type { Candidate } from '../harness/candidate';
import { compareRounds } from '../harness/compare';
import { measureInterleaved } from '../harness/interleave';
import { measureInRotation } from '../harness/rotation';
import { type ResultRow, type ScenarioResult, type TargetResult, atMost, fastestOf, ratioToFloor, rowNamed } from '../harness/results';
import { redisMicrosPerCall } from '../harness/command-stats';
import { NEWER_WRITE_SCRIPT, NEWER_WRITE_SHA } from '../../lib/stores/redis/newer-write.script';
import { describeOffload } from './offload-counts';

const LRU_FLOOR = 'lru.set';
const NODE_REDIS_SET = 'node-redis SET PX';
const IOREDIS_SET = 'ioredis SET PX';
const NODE_REDIS_FIRE_AND_FORGET = 'lru.set + node-redis SET PX, not awaited';
const IOREDIS_FIRE_AND_FORGET = 'lru.set + ioredis SET PX, not awaited';
const NODE_REDIS_AWAITED = 'lru.set + await node-redis SET PX';
const IOREDIS_AWAITED = 'lru.set + await ioredis SET PX';
const ENCODED_SET = 'ioredis SET PX of the same encoded entry';
const SCRIPT_FLOOR = 'ioredis EVALSHA of our versioned-write script, same encoded entry';
const DEFAULT_SET = 'LayeredCache.set, module defaults';

const BLOCKING: Readonly<Record<string, WritePolicy>> = {
  'set, SequentialWritePolicy': new SequentialWritePolicy(),
  'set, OptimisticParallelWritePolicy (default)': new OptimisticParallelWritePolicy(),
};
const RACING: Readonly<Record<string, WritePolicy>> = {
  'set, RaceWritePolicy(offload)': new RaceWritePolicy(RaceLoser.Offload),
  'set, RaceWritePolicy(drop)': new RaceWritePolicy(RaceLoser.Drop),
};
const OFFLOADED = 'put, background (offloaded)';
/** Calls of the plain SET and of our versioned write whose time Redis itself spent is read from INFO commandstats. */
const SERVER_TIMED_CALLS = 2_000;

/**
 * What a write costs the caller, through each write policy and as an offloaded write, against raw
 * lru-cache and raw client floors. The event loop turns before every call (untimed), so background work
 * of earlier calls runs between calls as it would in a server, outside the measured time.
 *
 * What the ordering mechanism costs a blocking write is its own row: `LayeredCache.set` as an application
 * calls it (the module's policies, no options) against a plain `SET` of the text our store writes, sent by the
 * same client library as our L2 store.
 */
export async function runWriteScenario(context: BenchContext): Promise<ScenarioResult> {
  const { cache } = context.ours;
  const floorLru = new LRUCache<string, object>({ max: 10_000 });
  const rawKey = `${context.prefix}raw:write`;
  const setNodeRedis = (): Promise<unknown> => context.nodeRedis.set(rawKey, JSON.stringify(SAMPLE_ITEM), { expiration: { type: 'PX', value: TTL_MS } });
  const setIoRedis = (): Promise<unknown> => context.ioRedis.set(rawKey, JSON.stringify(SAMPLE_ITEM), 'PX', TTL_MS);
  // The envelope our store writes for the sample item; its header (format version and times) is reused by the
  // floor, so that the floor sends the same number of bytes as our store and serializes the item as it does.
  await cache.set('write', SAMPLE_ITEM);
  const stored = await context.ioRedis.get(cache.fullKey('write'));
  const payload = JSON.stringify(SAMPLE_ITEM);
  if (typeof stored !== 'string' || !stored.endsWith(payload)) throw new Error(`Our store wrote ${JSON.stringify(stored)} for the sample item, which does not end with its JSON`);
  const envelopeHeader = stored.slice(0, stored.length - payload.length);
  // As long as our full key (`<prefix>layered:write`).
  const encodedKey = `${context.prefix}encoded:write`;
  const setEncoded = (): Promise<unknown> => context.ioRedis.set(encodedKey, envelopeHeader + JSON.stringify(SAMPLE_ITEM), 'PX', TTL_MS);
  // The ordering mechanism alone, without the library: the script our store runs for a versioned write, sent by
  // the same client with the same text and TTL, each call with a newer version, to a key of the same length.
  const storedVersion = /^2\|(\d{23})\|/.exec(stored)?.[1];
  if (storedVersion === undefined) throw new Error(`Our store wrote ${JSON.stringify(stored)} for the sample item, which does not start with a version`);
  const headerAfterVersion = envelopeHeader.slice(`2|${storedVersion}`.length);
  const scriptKey = `${context.prefix}scripts:write`;
  await context.ioRedis.script('LOAD', NEWER_WRITE_SCRIPT);
  let scriptWrites = 0;
  const runScript = (): Promise<unknown> => {
    const head = `2|${storedVersion.slice(0, 13)}${String(++scriptWrites).padStart(10, '0')}`;
    return context.ioRedis.evalsha(NEWER_WRITE_SHA, 1, scriptKey, head, head + headerAfterVersion + JSON.stringify(SAMPLE_ITEM), String(TTL_MS), '0');
  };
  const settleRaw = async (): Promise<void> => {
    await Promise.all([context.nodeRedis.ping(), context.ioRedis.ping()]);
  };

  const candidates: Candidate[] = [
    { name: LRU_FLOOR, role: 'floor', prepare: nextTurn, run: () => floorLru.set(rawKey, SAMPLE_ITEM, { ttl: TTL_MS }) },
    { name: NODE_REDIS_SET, role: 'floor', prepare: nextTurn, run: setNodeRedis },
    { name: IOREDIS_SET, role: 'floor', prepare: nextTurn, run: setIoRedis },
    { name: ENCODED_SET, role: 'floor', prepare: nextTurn, run: setEncoded },
    { name: SCRIPT_FLOOR, role: 'floor', prepare: nextTurn, run: runScript },
    {
      name: NODE_REDIS_FIRE_AND_FORGET,
      role: 'floor',
      prepare: nextTurn,
      run: () => {
        floorLru.set(rawKey, SAMPLE_ITEM, { ttl: TTL_MS });
        setNodeRedis().catch(ignore);
      },
      settle: settleRaw,
    },
    {
      name: IOREDIS_FIRE_AND_FORGET,
      role: 'floor',
      prepare: nextTurn,
      run: () => {
        floorLru.set(rawKey, SAMPLE_ITEM, { ttl: TTL_MS });
        setIoRedis().catch(ignore);
      },
      settle: settleRaw,
    },
    {
      name: NODE_REDIS_AWAITED,
      role: 'floor',
      prepare: nextTurn,
      run: async () => {
        floorLru.set(rawKey, SAMPLE_ITEM, { ttl: TTL_MS });
        await setNodeRedis();
      },
    },
    {
      name: IOREDIS_AWAITED,
      role: 'floor',
      prepare: nextTurn,
      run: async () => {
        floorLru.set(rawKey, SAMPLE_ITEM, { ttl: TTL_MS });
        await setIoRedis();
      },
    },
  ];
  for (const [name, writePolicy] of Object.entries({ ...BLOCKING, ...RACING })) {
    candidates.push({ name, role: 'subject', operation: 'set', prepare: nextTurn, run: () => cache.set('write', SAMPLE_ITEM, { writePolicy }), settle: context.ours.drain });
  }
  candidates.push({ name: DEFAULT_SET, role: 'subject', operation: 'set', prepare: nextTurn, run: () => cache.set('write', SAMPLE_ITEM), settle: context.ours.drain });
  candidates.push({ name: OFFLOADED, role: 'subject', operation: 'set', prepare: nextTurn, run: () => cache.put('write', SAMPLE_ITEM, { background: true }), settle: context.ours.drain });
  for (const peer of context.peers) {
    candidates.push({ name: `${peer.name} set`, role: 'peer', peer: peer.name, operation: 'set', prepare: nextTurn, run: () => peer.set('write', SAMPLE_ITEM) });
  }

  const errorsBefore = cache.stats().errors;
  const offloadBefore = cache.stats().offload;
  // Calls that return before Redis answers take microseconds: mitata times them in blocks, which is steadier
  // at that scale. Calls that wait for a round trip are timed in rotation (see measureInRotation).
  const returnsBeforeRedis = new Set([LRU_FLOOR, NODE_REDIS_FIRE_AND_FORGET, IOREDIS_FIRE_AND_FORGET, ...Object.keys(RACING), OFFLOADED]);
  const quick = candidates.filter((candidate) => returnsBeforeRedis.has(candidate.name));
  const waiting = candidates.filter((candidate) => !returnsBeforeRedis.has(candidate.name));
  const blocks = slicedRounds(context, { budgetMs: 100, maxSamples: 4_000, batchSize: 0, opsPerCall: 1 }, 4);
  const measurement = rotationRounds(context);
  const measured = [
    ...(await measureInterleaved(quick, blocks.profile, blocks)),
    ...(await measureInRotation(waiting, measurement)),
  ].sort((a, b) => candidates.indexOf(a.candidate) - candidates.indexOf(b.candidate));
  const errors = cache.stats().errors - errorsBefore;
  const offload = describeOffload(offloadBefore, cache.stats().offload);
  // What the version check costs Redis, apart from the round trip: its own time per call, plain SET against
  // our versioned write (one EVALSHA per awaited set), each sent alone.
  const serverSet = await redisMicrosPerCall(context.ioRedis, 'set', setEncoded, SERVER_TIMED_CALLS);
  const serverVersioned = await redisMicrosPerCall(context.ioRedis, 'evalsha', () => cache.set('write', SAMPLE_ITEM), SERVER_TIMED_CALLS);
  const rows = compareRounds(measured, 'latency');
  const fireAndForget = fastestOf(rows, [NODE_REDIS_FIRE_AND_FORGET, IOREDIS_FIRE_AND_FORGET], 'latency');
  const awaited = fastestOf(rows, [NODE_REDIS_AWAITED, IOREDIS_AWAITED], 'latency');
  const callerCost = (name: string): TargetResult =>
    atMost(`${name}: caller's cost ÷ fire-and-forget floor (${fireAndForget}), median`, ratioToFloor(rowNamed(rows, name), fireAndForget).p50, 1.2);
  const blocking = (name: string): TargetResult => atMost(`${name} ÷ awaited floor (${awaited}), median`, ratioToFloor(rowNamed(rows, name), awaited).p50, 1.1);
  return {
    id: 'writes',
    title: 'Write, cost to the caller',
    metric: 'latency',
    unit: 'ns/op',
    rounds: measurement.rounds,
    floors: [LRU_FLOOR, fastestOf(rows, [NODE_REDIS_SET, IOREDIS_SET], 'latency'), fireAndForget, awaited, ENCODED_SET, SCRIPT_FLOOR],
    rows: rows.filter((row) => keepRow(row, rows)),
    targets: [
      ...Object.keys(RACING).map(callerCost),
      callerCost(OFFLOADED),
      ...Object.keys(BLOCKING).map(blocking),
      atMost(
        `What the ordering mechanism costs a blocking write: ${DEFAULT_SET} ÷ ${ENCODED_SET} (the floor), median`,
        ratioToFloor(rowNamed(rows, DEFAULT_SET), ENCODED_SET).p50,
        1.15,
      ),
    ],
    notes: [
      'Every call is timed on its own, so p99 is a per-call figure. Calls that return before Redis answers (the lru floor, the fire-and-forget floors, race and background writes) are timed by mitata in interleaved blocks; calls that wait for Redis are timed in rotation, one call of each candidate in turn. Ratios between the two groups compare rounds measured at different moments. Only the faster client of each raw floor is shown.',
      `The ordering mechanism: each write carries a version, and our store writes it with a one-key Lua script (EVALSHA) that stores it only over an older one, in the same step; the engine also keeps each key's issue order per layer (a map look-up per call). Its target compares "${DEFAULT_SET}" (awaited; optimistic parallel writes to the MemoryStore L1 and the Redis L2, behind the L2 guard, with pub/sub invalidation announcing the write) with "${ENCODED_SET}": the text our store writes for the item (envelope header + JSON.stringify, serialized on every call), sent with a plain SET by the client library our store uses here, to a key of the same length. The ratio bounds everything the engine adds to that one SET, the L1 write and the envelope included, so it is an upper bound on what the ordering costs.`,
      `The script alone: "${SCRIPT_FLOOR}" ÷ "${ENCODED_SET}" ${ratioToFloor(rowNamed(rows, SCRIPT_FLOOR), ENCODED_SET).p50.toFixed(2)}× (median), so no write that keeps the check gets below that ratio; what the library adds to the script: "${DEFAULT_SET}" ÷ "${SCRIPT_FLOOR}" ${ratioToFloor(rowNamed(rows, DEFAULT_SET), SCRIPT_FLOOR).p50.toFixed(2)}× (median).`,
      `Redis's own time per call (INFO commandstats over ${SERVER_TIMED_CALLS} awaited calls each, after the measurement): "${ENCODED_SET}" ${serverSet.toFixed(2)} µs; "${DEFAULT_SET}" (its EVALSHA, the commands the script calls included) ${serverVersioned.toFixed(2)} µs, ${(serverVersioned / serverSet).toFixed(1)} times as long.`,
      `Cache errors during the measurement: ${errors}; ${offload}.`,
    ],
  };
}

/** Drops the slower client's raw floors: the table compares with the faster one. */
function keepRow(row: ResultRow, rows: readonly ResultRow[]): boolean {
  const pairs = [
    [NODE_REDIS_SET, IOREDIS_SET],
    [NODE_REDIS_FIRE_AND_FORGET, IOREDIS_FIRE_AND_FORGET],
    [NODE_REDIS_AWAITED, IOREDIS_AWAITED],
  ];
  const pair = pairs.find((names) => names.includes(row.name));
  return pair === undefined || fastestOf(rows, pair, 'latency') === row.name;
}

function ignore(): void {}
