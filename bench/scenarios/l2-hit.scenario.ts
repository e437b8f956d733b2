import { LRUCache } from 'lru-cache';
import type { LayeredCacheStats } from '../../lib';
import { type BenchContext, rotationRounds } from '../context';
import { SAMPLE_ITEM, TTL_MS, makeItem, nextTurn } from '../fixtures';
import { measureBackToBack } from '../harness/back-to-back';
import type { Candidate } from '../harness/candidate';
import { compareRounds } from '../harness/compare';
import { measureInRotation } from '../harness/rotation';
import { type ScenarioResult, type TargetResult, atMost, fastestOf, ratioToFloor, rowNamed } from '../harness/results';

const NODE_REDIS_FLOOR = 'node-redis GET + JSON.parse + lru.set';
const IOREDIS_FLOOR = 'ioredis GET + JSON.parse + lru.set';
const BACK_TO_BACK = ', back to back';
const NODE_REDIS_FLOOR_BACK_TO_BACK = `${NODE_REDIS_FLOOR}${BACK_TO_BACK}`;
const IOREDIS_FLOOR_BACK_TO_BACK = `${IOREDIS_FLOOR}${BACK_TO_BACK}`;
const GET_BACK_TO_BACK = `LayeredCache.get${BACK_TO_BACK}`;
const CACHEABLE_BACK_TO_BACK = `@Cacheable method${BACK_TO_BACK}`;
/** Other entries kept in every L1 during the scenario. */
const RESIDENT_ENTRIES = 100;
/** Timed calls in each block of calls awaited back to back. */
const BLOCK_CALLS = 30;
/** Ids of the items read back to back: as many as a block reads (its untimed first call included), all of one length. */
const BACK_TO_BACK_IDS = Array.from({ length: BLOCK_CALLS + 1 }, (_, index) => 1_000 + index);

/**
 * An L2 hit with L1 empty, timed two ways. One at a time: before every call (untimed) the event loop turns,
 * so that the previous call's refill has landed, and the key is evicted from L1. Back to back: calls awaited
 * one after the other, as a loop of reads makes them, each reading the next of distinct keys that Redis holds
 * and L1 does not, so each is an L2 hit that refills L1 like a real miss. Floors: each raw client's `GET`,
 * `JSON.parse` and an lru-cache `set` (the refill), over as many distinct keys when back to back.
 */
export async function runL2HitScenario(context: BenchContext): Promise<ScenarioResult> {
  const { cache, items, l1 } = context.ours;
  const id = SAMPLE_ITEM.id;
  const key = `item:${id}`;
  const fullKey = cache.fullKey(key);
  await cache.set(key, SAMPLE_ITEM);

  const rawKey = `${context.prefix}raw:${key}`;
  await context.nodeRedis.set(rawKey, JSON.stringify(SAMPLE_ITEM), { expiration: { type: 'PX', value: TTL_MS } });
  const floorLru = new LRUCache<string, object>({ max: 10_000 });
  // Both L1s hold other entries, as they would in an application: evicting the only entry of an lru-cache
  // clears all of its arrays, which would charge each round a cost no application pays.
  for (let index = 0; index < RESIDENT_ENTRIES; index++) {
    await cache.set(`resident:${index}`, SAMPLE_ITEM);
    floorLru.set(`${context.prefix}raw:resident:${index}`, SAMPLE_ITEM, { ttl: TTL_MS });
  }
  const evictFloor = async (): Promise<void> => {
    await nextTurn();
    floorLru.delete(rawKey);
  };
  const evictOurs = async (): Promise<void> => {
    await nextTurn();
    await l1.delete(fullKey);
  };
  const loadItem = (): Promise<unknown> => Promise.resolve(SAMPLE_ITEM);

  const candidates: Candidate[] = [
    {
      name: NODE_REDIS_FLOOR,
      role: 'floor',
      prepare: evictFloor,
      run: async () => floorLru.set(rawKey, JSON.parse((await context.nodeRedis.get(rawKey)) as string) as object, { ttl: TTL_MS }),
    },
    {
      name: IOREDIS_FLOOR,
      role: 'floor',
      prepare: evictFloor,
      run: async () => floorLru.set(rawKey, JSON.parse((await context.ioRedis.get(rawKey)) as string) as object, { ttl: TTL_MS }),
    },
    { name: 'LayeredCache.get', role: 'subject', operation: 'get', prepare: evictOurs, run: () => cache.get(key) },
    { name: '@Cacheable method', role: 'subject', operation: 'getOrSet', prepare: evictOurs, run: () => items.find(id) },
  ];
  for (const peer of context.peers) {
    await peer.set(key, SAMPLE_ITEM);
    const evictPeer = async (): Promise<void> => {
      await nextTurn();
      await peer.evictL1(key);
    };
    candidates.push(
      { name: `${peer.name} get`, role: 'peer', peer: peer.name, operation: 'get', prepare: evictPeer, run: () => peer.get(key) },
      { name: `${peer.name} getOrSet`, role: 'peer', peer: peer.name, operation: 'getOrSet', prepare: evictPeer, run: () => peer.getOrSet(key, loadItem) },
    );
  }

  const rawKeyOf = (itemId: number): string => `${context.prefix}raw:item:${itemId}`;
  const getKeyOf = (itemId: number): string => `back-to-back:item:${itemId}`;
  for (const itemId of BACK_TO_BACK_IDS) {
    await context.nodeRedis.set(rawKeyOf(itemId), JSON.stringify(makeItem(itemId)), { expiration: { type: 'PX', value: TTL_MS } });
    // Written through the cache (both layers), then evicted from L1 before each block.
    await cache.set(getKeyOf(itemId), makeItem(itemId));
    await cache.set(`item:${itemId}`, makeItem(itemId));
  }
  const evictRaw = (itemId: number): boolean => floorLru.delete(rawKeyOf(itemId));
  const backToBack: Candidate[] = [
    readingEachIdOnce({ name: NODE_REDIS_FLOOR_BACK_TO_BACK, role: 'floor' }, evictRaw, async (itemId) => {
      const rawItemKey = rawKeyOf(itemId);
      return floorLru.set(rawItemKey, JSON.parse((await context.nodeRedis.get(rawItemKey)) as string) as object, { ttl: TTL_MS });
    }),
    readingEachIdOnce({ name: IOREDIS_FLOOR_BACK_TO_BACK, role: 'floor' }, evictRaw, async (itemId) => {
      const rawItemKey = rawKeyOf(itemId);
      return floorLru.set(rawItemKey, JSON.parse((await context.ioRedis.get(rawItemKey)) as string) as object, { ttl: TTL_MS });
    }),
    readingEachIdOnce(
      { name: GET_BACK_TO_BACK, role: 'subject', operation: 'get' },
      (itemId) => l1.delete(cache.fullKey(getKeyOf(itemId))),
      (itemId) => cache.get(getKeyOf(itemId)),
    ),
    readingEachIdOnce(
      { name: CACHEABLE_BACK_TO_BACK, role: 'subject', operation: 'getOrSet' },
      (itemId) => l1.delete(cache.fullKey(`item:${itemId}`)),
      (itemId) => items.find(itemId),
    ),
  ];

  const measurement = rotationRounds(context);
  const before = cache.stats();
  const sourceCallsBefore = items.sourceCalls;
  const rows = compareRounds(await measureInRotation(candidates, measurement), 'latency');
  const between = cache.stats();
  const sourceCallsBetween = items.sourceCalls;
  const backToBackRows = compareRounds(
    await measureBackToBack(backToBack, { rounds: measurement.rounds, callsPerRound: measurement.callsPerRound, callsPerBlock: BLOCK_CALLS, log: context.log }),
    'latency',
  );
  const after = cache.stats();

  const fasterFloor = fastestOf(rows, [NODE_REDIS_FLOOR, IOREDIS_FLOOR], 'latency');
  const fasterFloorBackToBack = fastestOf(backToBackRows, [NODE_REDIS_FLOOR_BACK_TO_BACK, IOREDIS_FLOOR_BACK_TO_BACK], 'latency');
  const backToBackTarget = (name: string): TargetResult =>
    atMost(`${name} L2 hit ÷ the faster floor back to back (${fasterFloorBackToBack}), median`, ratioToFloor(rowNamed(backToBackRows, name), fasterFloorBackToBack).p50, 1.1);
  return {
    id: 'l2-hit',
    title: 'L2 hit (L1 empty)',
    metric: 'latency',
    unit: 'ns/op',
    rounds: measurement.rounds,
    floors: [NODE_REDIS_FLOOR, IOREDIS_FLOOR, NODE_REDIS_FLOOR_BACK_TO_BACK, IOREDIS_FLOOR_BACK_TO_BACK],
    rows: [...rows, ...backToBackRows],
    targets: [
      atMost(`LayeredCache.get L2 hit ÷ the faster floor (${fasterFloor}), median`, ratioToFloor(rowNamed(rows, 'LayeredCache.get'), fasterFloor).p50, 1.1),
      atMost(`@Cacheable L2 hit ÷ the faster floor (${fasterFloor}), median`, ratioToFloor(rowNamed(rows, '@Cacheable method'), fasterFloor).p50, 1.1),
      backToBackTarget(GET_BACK_TO_BACK),
      backToBackTarget(CACHEABLE_BACK_TO_BACK),
    ],
    notes: [
      'Rows without "back to back": calls are timed one by one in rotation (one call of each candidate in turn), each after an untimed turn of the event loop and an L1 eviction, so that each ratio compares calls made on the same machine state; p99 is a per-call figure.',
      `Rows "back to back": blocks of ${BLOCK_CALLS} calls of one candidate awaited one after the other, each call timed from the end of the one before it (nothing untimed in between) and reading the next of ${BACK_TO_BACK_IDS.length} distinct keys that Redis holds and L1 does not, so that each call is an L2 hit whose refill, and whatever else it leaves behind, the next call pays for. A block starts with one untimed call, after the untimed eviction of its keys from L1; blocks rotate between the candidates in a new random order each time. Their ratios are to the back-to-back floors only; the peers are measured one at a time only.`,
      `Our reads: one at a time ${describeReads(before, between, sourceCallsBetween - sourceCallsBefore)}; back to back ${describeReads(between, after, items.sourceCalls - sourceCallsBetween)}.`,
    ],
  };
}

/**
 * A candidate timed back to back that reads the item of the next of {@link BACK_TO_BACK_IDS} on each call.
 * Before each block (untimed) the event loop turns, so that the last call's refill has landed, and every id
 * is evicted from the candidate's L1: each call of the block is then an L2 hit.
 */
function readingEachIdOnce(base: Pick<Candidate, 'name' | 'role' | 'operation'>, evict: (itemId: number) => unknown, read: (itemId: number) => Promise<unknown>): Candidate {
  let next = 0;
  return {
    ...base,
    prepare: async () => {
      await nextTurn();
      for (const itemId of BACK_TO_BACK_IDS) await evict(itemId);
      next = 0;
    },
    run: () => {
      // Reading an id twice in a block would time an L1 hit as an L2 hit.
      if (next === BACK_TO_BACK_IDS.length) throw new Error(`${base.name} read all ${BACK_TO_BACK_IDS.length} ids of its block`);
      return read(BACK_TO_BACK_IDS[next++]);
    },
  };
}

/** Which layer served our reads between two snapshots of the counters, and how often the decorated method's body ran. */
function describeReads(before: LayeredCacheStats, after: LayeredCacheStats, sourceCalls: number): string {
  return `${after.l2.hits - before.l2.hits} served by L2, ${after.l1.hits - before.l1.hits} by L1, the decorated method's body ran ${sourceCalls} times`;
}
