import { type BenchContext, scaled } from '../context';
import { makeItem, sleep } from '../fixtures';
import type { Candidate } from '../harness/candidate';
import { compareRounds } from '../harness/compare';
import { measureInterleaved } from '../harness/interleave';
import { type ResultRow, type ScenarioResult, exactly } from '../harness/results';
import { SLOW_SOURCE_MS } from '../subjects/item.service';

/** Callers asking for the same missing key at once. */
export const STAMPEDE_CALLERS = 1_000;

const FLOOR = `one source call awaited by ${STAMPEDE_CALLERS} callers`;
const FACTORY_CALLS = 'most source calls per stampede';

/**
 * 1 000 concurrent read-through calls on one missing key (a new key for every sample), with a source that
 * takes 2 ms: how many times the source runs, and how long until every caller has its value.
 */
export async function runStampedeScenario(context: BenchContext): Promise<ScenarioResult> {
  const { cache, items } = context.ours;
  let sample = 0;
  let key = '';
  let sourceCalls = 0;
  const mostCalls = new Map<string, number>();
  const source = async (): Promise<unknown> => {
    sourceCalls++;
    await sleep(SLOW_SOURCE_MS);
    return makeItem(sample);
  };
  const nextKey = (): void => {
    sample++;
    key = `stampede:${sample}`;
    sourceCalls = 0;
  };
  const stampede = (name: string, call: () => Promise<unknown>, calls: () => number = () => sourceCalls) => async (): Promise<void> => {
    const before = calls();
    await Promise.all(Array.from({ length: STAMPEDE_CALLERS }, call));
    mostCalls.set(name, Math.max(mostCalls.get(name) ?? 0, calls() - before));
  };

  const candidates: Candidate[] = [
    {
      name: FLOOR,
      role: 'floor',
      prepare: nextKey,
      run: stampede(FLOOR, (() => {
        let shared: Promise<unknown> | undefined;
        let sharedKey = '';
        return () => {
          if (shared === undefined || sharedKey !== key) {
            sharedKey = key;
            shared = source();
          }
          return shared;
        };
      })()),
    },
    { name: 'LayeredCache.getOrSet', role: 'subject', operation: 'getOrSet', prepare: nextKey, run: stampede('LayeredCache.getOrSet', () => cache.getOrSet(key, source)) },
    {
      name: '@Cacheable method',
      role: 'subject',
      operation: 'getOrSet',
      prepare: nextKey,
      run: stampede('@Cacheable method', () => items.findSlowly(sample), () => items.sourceCalls),
    },
  ];
  for (const peer of context.peers) {
    const name = `${peer.name} getOrSet`;
    candidates.push({ name, role: 'peer', peer: peer.name, operation: 'getOrSet', prepare: nextKey, run: stampede(name, () => peer.getOrSet(key, source)) });
  }

  const profile = scaled(context, { budgetMs: 150, maxSamples: 40, batchSize: 0, opsPerCall: 1 });
  const measured = compareRounds(await measureInterleaved(candidates, profile, context), 'latency');
  const rows: ResultRow[] = measured.map((row) => ({ ...row, extra: { [FACTORY_CALLS]: mostCalls.get(row.name) ?? Number.NaN } }));
  const calls = (name: string): number => mostCalls.get(name) ?? Number.NaN;
  return {
    id: 'stampede',
    title: `Stampede: ${STAMPEDE_CALLERS} concurrent read-through calls on one missing key`,
    metric: 'latency',
    unit: `time until all ${STAMPEDE_CALLERS} callers have the value`,
    rounds: context.rounds,
    floors: [FLOOR],
    rows,
    targets: [exactly('LayeredCache.getOrSet: source calls per stampede (most seen)', calls('LayeredCache.getOrSet'), 1), exactly('@Cacheable: source calls per stampede (most seen)', calls('@Cacheable method'), 1)],
    notes: [`The source takes ${SLOW_SOURCE_MS} ms; every sample uses a key never seen before. "${FACTORY_CALLS}" is the largest count over all samples, warm-up included.`],
  };
}
