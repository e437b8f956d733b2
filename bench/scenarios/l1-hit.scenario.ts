import { LRUCache } from 'lru-cache';
import { type BenchContext, scaled } from '../context';
import { SAMPLE_ITEM, TTL_MS } from '../fixtures';
import type { Candidate } from '../harness/candidate';
import { compareRounds } from '../harness/compare';
import { measureInterleaved } from '../harness/interleave';
import { type ScenarioResult, atLeast, atMost, ratioToFloor, rowNamed } from '../harness/results';

const FLOOR = 'await async () => lru.get(key)';
const DECORATED = '@Cacheable method';
const TAGGED = 'LayeredCache.get of an entry with 2 tags';

/**
 * An L1 hit, through `LayeredCache.get` and through a `@Cacheable` method, against an `await` of an async
 * function around a raw lru-cache `get`, and against the peers' `get` and read-through calls.
 */
export async function runL1HitScenario(context: BenchContext): Promise<ScenarioResult> {
  const id = SAMPLE_ITEM.id;
  const key = `item:${id}`;
  const fullKey = context.ours.cache.fullKey(key);
  const { cache, items } = context.ours;

  await cache.set(key, SAMPLE_ITEM);
  // The same item with two tags, one of them invalidated once: its hits check both versions, which they know.
  const taggedKey = `tagged-item:${id}`;
  await cache.invalidateTags(['category:1']);
  await cache.set(taggedKey, SAMPLE_ITEM, { tags: ['items', 'category:1'] });
  await new Promise((resolve) => setTimeout(resolve, 50));
  await cache.get(taggedKey);
  await cache.get(taggedKey);
  const floorLru = new LRUCache<string, object>({ max: 10_000 });
  floorLru.set(fullKey, SAMPLE_ITEM, { ttl: TTL_MS });
  const floorGet = async (k: string): Promise<object | undefined> => floorLru.get(k);
  const loadItem = (): Promise<unknown> => Promise.resolve(SAMPLE_ITEM);

  const candidates: Candidate[] = [
    { name: FLOOR, role: 'floor', run: () => floorGet(fullKey) },
    { name: 'LayeredCache.get', role: 'subject', operation: 'get', run: () => cache.get(key) },
    { name: TAGGED, role: 'subject', operation: 'get', run: () => cache.get(taggedKey) },
    { name: DECORATED, role: 'subject', operation: 'getOrSet', run: () => items.find(id) },
    { name: 'LayeredCache.getOrSet', role: 'subject', operation: 'getOrSet', run: () => cache.getOrSet(key, loadItem) },
  ];
  for (const peer of context.peers) {
    await peer.set(key, SAMPLE_ITEM);
    candidates.push(
      { name: `${peer.name} get`, role: 'peer', peer: peer.name, operation: 'get', run: () => peer.get(key) },
      { name: `${peer.name} getOrSet`, role: 'peer', peer: peer.name, operation: 'getOrSet', run: () => peer.getOrSet(key, loadItem) },
    );
  }

  const sourceCallsBefore = items.sourceCalls;
  const profile = scaled(context, { budgetMs: 120, maxSamples: 5_000, batchSize: 512, opsPerCall: 1 });
  const rows = compareRounds(await measureInterleaved(candidates, profile, context), 'latency');
  const decorated = rowNamed(rows, DECORATED);
  const bentoSpeedup = 1 / (decorated.vsPeers.BentoCache?.p50 ?? Number.NaN);
  return {
    id: 'l1-hit',
    title: 'L1 hit',
    metric: 'latency',
    unit: 'ns/op',
    rounds: context.rounds,
    floors: [FLOOR],
    rows,
    targets: [
      atMost('decorated L1 hit ÷ its floor (median)', ratioToFloor(decorated, FLOOR).p50, 3),
      atLeast('BentoCache getOrSet ÷ decorated L1 hit (median)', bentoSpeedup, 15),
    ],
    notes: [
      `mitata samples average ${profile.batchSize} calls each, so p99 is the 99th percentile of those averages.`,
      `The decorated method's body ran ${items.sourceCalls - sourceCallsBefore} times during the measurement (every call was an L1 hit).`,
      `"${TAGGED}": what tags cost a hit, the same item under the tags items and category:1 (invalidated once before); the versions of both are known in memory, so it sends no Redis command. Tagged ÷ untagged LayeredCache.get: ${(rowNamed(rows, TAGGED).p50 / rowNamed(rows, 'LayeredCache.get').p50).toFixed(2)}× (median).`,
    ],
  };
}
