import { type InvalidationMode, LayeredCache, MemoryStore, OffloadService, RedisStore } from '../../lib';
import type { BenchContext } from '../context';
import { connectNodeRedis, type NodeRedisClient } from '../environment/redis';
import type { Candidate } from '../harness/candidate';
import { compareRounds } from '../harness/compare';
import { measureInRotation } from '../harness/rotation';
import { type ScenarioResult, type TargetResult, atMost, exactly, rowNamed } from '../harness/results';
import { parseCommandStats } from '../harness/command-stats';

const MODES: readonly Exclude<InvalidationMode, 'auto'>[] = ['tracking', 'pubsub'];
const FLOOR = 'a PUBLISH, from its reply until a subscriber on another connection has it';
/** Writes counted for the commands-per-write figures, in bursts of this many issued together. */
const COUNTED_WRITES = 400;
const BURST = 50;

/** Two instances of one cache (each its own connections) on the shared Redis: A writes, B reads. */
interface Pair {
  readonly mode: Exclude<InvalidationMode, 'auto'>;
  readonly a: LayeredCache;
  readonly b: LayeredCache;
  close(): Promise<void>;
}

async function openPair(context: BenchContext, mode: Pair['mode']): Promise<Pair> {
  const namespace = `${context.prefix}propagation-${mode}`;
  const open = async (): Promise<{ cache: LayeredCache; client: NodeRedisClient }> => {
    const client = await connectNodeRedis();
    const cache = new LayeredCache({ l1: new MemoryStore(), l2: new RedisStore({ client }), offload: new OffloadService(), namespace, invalidation: mode });
    await cache.invalidationStarted;
    return { cache, client };
  };
  const [a, b] = await Promise.all([open(), open()]);
  await a.cache.set('item', 0);
  return {
    mode,
    a: a.cache,
    b: b.cache,
    close: async () => {
      await Promise.all([a.cache.store.close(), b.cache.store.close()]);
      a.client.destroy();
      b.client.destroy();
    },
  };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * How soon after a write on instance A was acknowledged instance B stops serving the older value from its
 * L1, with Redis tracking and with pub/sub; and how many Redis commands a write costs beyond itself.
 */
export async function runInvalidationScenario(context: BenchContext): Promise<ScenarioResult> {
  const pairs = await Promise.all(MODES.map((mode) => openPair(context, mode)));
  const subscriber = context.nodeRedis.duplicate();
  await subscriber.connect();
  const channel = `${context.prefix}propagation-floor`;
  let delivered: (() => void) | undefined;
  let floorArrival: Promise<void> = Promise.resolve();
  await subscriber.subscribe(channel, () => delivered?.());
  try {
    const candidates: Candidate[] = [
      {
        name: FLOOR,
        role: 'floor',
        prepare: async () => {
          const arrived = new Promise<void>((resolve) => (delivered = resolve));
          await context.nodeRedis.publish(channel, 'x');
          // Timed from the reply: the wait for the message that has not arrived yet.
          floorArrival = arrived;
        },
        run: () => floorArrival,
      },
      ...pairs.map((pair): Candidate => {
        let version = 0;
        return {
          name: `${pair.mode}: from A's acknowledged set until B serves the new value`,
          role: 'subject',
          prepare: async () => {
            // B holds the current value in its L1, as an instance that served it recently does.
            const before = pair.b.stats().l1.hits;
            while ((await pair.b.get('item')) !== version || pair.b.stats().l1.hits === before) await nextTurn();
            await pair.a.set('item', ++version);
          },
          run: async () => {
            while ((await pair.b.get('item')) !== version) await nextTurn();
          },
        };
      }),
    ];
    const rows = compareRounds(await measureInRotation(candidates, { rounds: context.rounds, callsPerRound: context.quick ? 40 : 150, log: context.log }), 'latency');

    // What invalidation adds to writes: the commands Redis ran for the same writes without it, subtracted.
    const baseline = new LayeredCache({ l1: new MemoryStore(), l2: new RedisStore({ client: context.nodeRedis }), offload: new OffloadService(), namespace: `${context.prefix}propagation-none`, invalidation: false });
    const without = await commandsOfWrites(context.nodeRedis, baseline);
    const commands: { mode: string; extra: number; publishes: number; bursts: number }[] = [];
    for (const pair of pairs) {
      const counted = await commandsOfWrites(context.nodeRedis, pair.a);
      commands.push({ mode: pair.mode, extra: (counted.total - without.total) / COUNTED_WRITES, publishes: counted.publishes, bursts: counted.bursts });
    }
    const tracking = commands.find((count) => count.mode === 'tracking');
    const pubsub = commands.find((count) => count.mode === 'pubsub');
    const p99Ms = (mode: string): number => rowNamed(rows, `${mode}: from A's acknowledged set until B serves the new value`).p99 / 1e6;
    const targets: TargetResult[] = [
      atMost('tracking: p99 of the time from an acknowledged write on A until B serves the new value (loopback)', p99Ms('tracking'), 5, 'ms'),
      exactly('tracking: Redis commands per write that invalidation adds', tracking?.extra ?? Number.NaN, 0),
      atMost(`pubsub: PUBLISH commands per burst of ${BURST} writes issued together`, pubsub === undefined ? Number.NaN : pubsub.publishes / pubsub.bursts, 1),
    ];
    return {
      id: 'invalidation',
      title: 'Invalidation between instances: an acknowledged write on A, then reads on B',
      metric: 'latency',
      unit: 'ns from the acknowledgement',
      rounds: context.rounds,
      floors: [FLOOR],
      rows,
      targets,
      notes: [
        'Two instances of one cache, each with its own node-redis connections, on the same Redis. Before each sample B holds the current value in its L1; the time runs from the moment A\'s awaited set resolves until a get on B (repeated every turn of the event loop) returns the new value.',
        ...commands.map(
          (count) =>
            `${count.mode}: ${COUNTED_WRITES} writes in bursts of ${BURST} made Redis run ${count.extra} more commands per write than the same writes without invalidation (${count.publishes} PUBLISH in ${count.bursts} bursts).`,
        ),
      ],
    };
  } finally {
    delivered = undefined;
    await subscriber.unsubscribe(channel);
    subscriber.destroy();
    for (const pair of pairs) await pair.close();
  }
}

/** Counts the commands Redis ran (script internals included) while `cache` made writes in bursts, and the PUBLISHes among them. */
async function commandsOfWrites(client: NodeRedisClient, cache: LayeredCache): Promise<{ total: number; publishes: number; bursts: number }> {
  const stats = async (): Promise<{ total: number; publishes: number }> => {
    const commands = parseCommandStats(String(await client.sendCommand(['INFO', 'commandstats'])));
    const total = [...commands.values()].reduce((sum, command) => sum + command.calls, 0);
    return { total, publishes: commands.get('publish')?.calls ?? 0 };
  };
  await new Promise((resolve) => setTimeout(resolve, 50));
  const before = await stats();
  let bursts = 0;
  for (let written = 0; written < COUNTED_WRITES; written += BURST) {
    await Promise.all(Array.from({ length: BURST }, (_, index) => cache.set(`counted:${written + index}`, written + index)));
    bursts++;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  const after = await stats();
  return { total: after.total - before.total, publishes: after.publishes - before.publishes, bursts };
}
