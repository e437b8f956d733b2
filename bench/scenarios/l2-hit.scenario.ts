import { LRUCache } from 'lru-cache';
import { type BenchContext, rotationRounds } from '../context';
import { SAMPLE_ITEM, TTL_MS, nextTurn } from '../fixtures';
import type { Candidate } from '../harness/candidate';
import { compareRounds } from '../harness/compare';
import { measureInRotation } from '../harness/rotation';
import { type ScenarioResult, atMost, fastestOf, ratioToFloor, rowNamed } from '../harness/results';

const NODE_REDIS_FLOOR = 'node-redis GET + JSON.parse + lru.set';
const IOREDIS_FLOOR = 'ioredis GET + JSON.parse + lru.set';
/** Other entries kept in every L1 during the scenario. */
const RESIDENT_ENTRIES = 100;

/**
 * An L2 hit with L1 empty: before every call (untimed) the event loop turns, so that the previous call's
 * refill has landed, and the key is evicted from L1. Floors: each raw client's `GET`, `JSON.parse` and an
 * lru-cache `set` (the refill).
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

  const before = cache.stats();
  const sourceCallsBefore = items.sourceCalls;
  const measurement = rotationRounds(context);
  const rows = compareRounds(await measureInRotation(candidates, measurement), 'latency');
  const after = cache.stats();
  const l1Hits = after.l1.hits - before.l1.hits;
  const l2Hits = after.l2.hits - before.l2.hits;

  const fasterFloor = fastestOf(rows, [NODE_REDIS_FLOOR, IOREDIS_FLOOR], 'latency');
  return {
    id: 'l2-hit',
    title: 'L2 hit (L1 empty)',
    metric: 'latency',
    unit: 'ns/op',
    rounds: measurement.rounds,
    floors: [NODE_REDIS_FLOOR, IOREDIS_FLOOR],
    rows,
    targets: [
      atMost(`LayeredCache.get L2 hit ÷ the faster floor (${fasterFloor}), median`, ratioToFloor(rowNamed(rows, 'LayeredCache.get'), fasterFloor).p50, 1.1),
      atMost(`@Cacheable L2 hit ÷ the faster floor (${fasterFloor}), median`, ratioToFloor(rowNamed(rows, '@Cacheable method'), fasterFloor).p50, 1.1),
    ],
    notes: [
      'Calls are timed one by one in rotation (one call of each candidate in turn), so that each ratio compares calls made on the same machine state; p99 is a per-call figure.',
      `Our reads during the measurement: ${l2Hits} served by L2, ${l1Hits} by L1; the decorated method's body ran ${items.sourceCalls - sourceCallsBefore} times.`,
    ],
  };
}
