import { LRUCache } from 'lru-cache';
import type { BenchContext } from '../context';
import { TTL_MS, makeItem } from '../fixtures';
import type { Candidate, PeerName, Role } from '../harness/candidate';
import { compareRounds } from '../harness/compare';
import type { CandidateRounds } from '../harness/interleave';
import { type ScenarioResult, atMost, ratioToFloor, rowNamed } from '../harness/results';
import { runConcurrently } from '../harness/workers';

const FLOOR = 'lru-cache, same keys and TTL';
const OURS = 'LayeredCache L1 (MemoryStore)';

/** One cache whose L1 is measured: empty it, fill it through the cache's own API, count what L1 holds. */
interface HeapSubject {
  readonly name: string;
  readonly role: Role;
  readonly peer?: PeerName;
  empty(): Promise<unknown>;
  fill(count: number): Promise<void>;
  held(count: number): Promise<number>;
}

/**
 * Heap bytes per L1 entry: the heap growth (after full garbage collections) from filling L1 with 10 000
 * fresh items through each cache's API, divided by the entries its L1 holds afterwards. Each cache has been
 * filled and emptied once before.
 */
export async function runHeapScenario(context: BenchContext): Promise<ScenarioResult> {
  const collect = globalThis.gc;
  if (collect === undefined) throw new Error('The heap scenario needs node --expose-gc (npm run bench passes it).');
  const count = context.quick ? 2_000 : 10_000;
  const { cache, l1 } = context.ours;
  const heapKey = (index: number): string => `heap:${index}`;

  let floorLru = new LRUCache<string, object>({ max: count });
  const subjects: HeapSubject[] = [
    {
      name: FLOOR,
      role: 'floor',
      empty: async () => {
        floorLru = new LRUCache<string, object>({ max: count });
      },
      fill: async (n) => {
        for (let index = 0; index < n; index++) floorLru.set(`${context.namespace}:${heapKey(index)}`, makeItem(index), { ttl: TTL_MS });
      },
      held: async () => floorLru.size,
    },
    {
      name: OURS,
      role: 'subject',
      empty: async () => l1.clear(),
      fill: (n) => runConcurrently(n, 64, (index) => cache.set(heapKey(index), makeItem(index))),
      held: async () => l1.size,
    },
    ...context.peers.map(
      (peer): HeapSubject => ({
        name: `${peer.name} L1`,
        role: 'peer',
        peer: peer.name,
        empty: () => peer.clearL1(),
        fill: (n) => runConcurrently(n, 64, (index) => peer.set(heapKey(index), makeItem(index))),
        held: (n) => peer.countL1(Array.from({ length: n }, (_, index) => heapKey(index))),
      }),
    ),
  ];

  // One untimed fill of each first: what a cache allocates once, on its first use, is not a cost per entry.
  for (const subject of subjects) {
    await subject.empty();
    await subject.fill(count);
    await subject.empty();
  }
  const rounds = subjects.map((): { p50: number; p99: number; samples: number }[] => []);
  const heldEntries = new Map<string, number>();
  for (let round = 0; round < context.rounds; round++) {
    for (let offset = 0; offset < subjects.length; offset++) {
      const index = (round + offset) % subjects.length;
      const subject = subjects[index];
      await subject.empty();
      collect();
      collect();
      const before = process.memoryUsage().heapUsed;
      await subject.fill(count);
      collect();
      collect();
      const grown = process.memoryUsage().heapUsed - before;
      const held = await subject.held(count);
      heldEntries.set(subject.name, held);
      rounds[index].push({ p50: grown / held, p99: grown / held, samples: 1 });
      await subject.empty();
    }
    context.log(`    pass ${round + 1}/${context.rounds} done`);
  }

  const measured: CandidateRounds[] = subjects.map((subject, index) => ({ candidate: asCandidate(subject), rounds: rounds[index] }));
  const rows = compareRounds(measured, 'latency').map((row) => ({ ...row, extra: { 'entries held': heldEntries.get(row.name) ?? Number.NaN } }));
  return {
    id: 'heap',
    title: 'Heap bytes per L1 entry',
    metric: 'size',
    unit: 'bytes per entry held in L1',
    rounds: context.rounds,
    floors: [FLOOR],
    rows,
    targets: [atMost('LayeredCache L1 bytes per entry ÷ raw lru-cache', ratioToFloor(rowNamed(rows, OURS), FLOOR).p50, 1.3)],
    notes: [
      `${count} items of about 120 bytes of JSON, written through each cache's own API (our cache and the peers also write them to Redis); one figure per round, median over the rounds.`,
      'The lru-cache floor stores the same item objects under the same full keys with the same TTL.',
    ],
  };
}

function asCandidate(subject: HeapSubject): Candidate {
  return { name: subject.name, role: subject.role, ...(subject.peer === undefined ? {} : { peer: subject.peer, operation: 'l1' }), ...(subject.role === 'subject' ? { operation: 'l1' } : {}), run: () => undefined };
}
