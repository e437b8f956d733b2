import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { BenchContext } from '../context';
import type { Candidate } from '../harness/candidate';
import { compareRounds } from '../harness/compare';
import { measureInRotation } from '../harness/rotation';
import { type ScenarioResult, atMost, exactly, ratioToFloor, rowNamed } from '../harness/results';
import { INSTANCE_FACTORY_MS, type StampedeReply, type StampedeRequest } from '../instances/stampede-protocol';

const INSTANCES = 3;
const SINGLE = `one process misses one key (local single flight, ${INSTANCE_FACTORY_MS} ms factory)`;
const SHARED = `${INSTANCES} processes miss one key at once (singleFlight: 'distributed')`;

/** An instance process and the replies it owes. */
class Instance {
  private readonly waiting: ((reply: StampedeReply) => void)[] = [];

  private constructor(readonly process: ChildProcess) {
    process.on('message', (message: StampedeReply | 'ready') => {
      if (message !== 'ready') this.waiting.shift()?.(message);
    });
  }

  static start(namespace: string): Promise<Instance> {
    const child = fork(join(__dirname, '..', 'instances', 'stampede-instance.js'), [namespace], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('message', (message) => (message === 'ready' ? resolve(new Instance(child)) : reject(new Error(`unexpected ${String(message)}`))));
    });
  }

  /** Lets the instance close, and waits until its process has exited. */
  stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.process.disconnect();
    return exited;
  }

  load(request: StampedeRequest): Promise<StampedeReply> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.process.send(request);
    });
  }
}

/**
 * The stampede across processes: three instances of an application, each a Node process with its own
 * connections, miss one key at the same moment; with `singleFlight: 'distributed'` the factory runs once in
 * all, and the time until all three have the value is held against one process missing one key alone.
 */
export async function runDistributedStampedeScenario(context: BenchContext): Promise<ScenarioResult> {
  const namespace = `${context.prefix}stampede-across`;
  const instances = await Promise.all(Array.from({ length: INSTANCES }, () => Instance.start(namespace)));
  let sample = 0;
  let key = '';
  let mostCalls = 0;
  const nextKey = (): void => {
    key = `missing:${++sample}`;
  };
  try {
    const candidates: Candidate[] = [
      { name: SINGLE, role: 'floor', prepare: nextKey, run: () => instances[0].load({ key, singleFlight: 'local' }) },
      {
        name: SHARED,
        role: 'subject',
        prepare: nextKey,
        run: async () => {
          const replies = await Promise.all(instances.map((instance) => instance.load({ key, singleFlight: 'distributed' })));
          mostCalls = Math.max(mostCalls, replies.reduce((calls, reply) => calls + reply.factoryCalls, 0));
          if (replies.some((reply) => reply.value !== replies[0].value)) throw new Error(`The instances got different values for ${key}`);
        },
      },
    ];
    const rows = compareRounds(await measureInRotation(candidates, { rounds: context.rounds, callsPerRound: context.quick ? 10 : 30, log: context.log }), 'latency');
    return {
      id: 'distributed-stampede',
      title: `Stampede across ${INSTANCES} processes on one missing key`,
      metric: 'latency',
      unit: 'time until every instance has the value',
      rounds: context.rounds,
      floors: [SINGLE],
      rows,
      targets: [
        exactly(`${SHARED}: factory calls in all (most seen)`, mostCalls, 1),
        atMost(`${SHARED} ÷ ${SINGLE} (median)`, ratioToFloor(rowNamed(rows, SHARED), SINGLE).p50, 1.2),
      ],
      notes: [
        `Each instance is a Node process with its own node-redis connections and the module's defaults (Redis tracking); a new key for every sample. One takes the lease and loads; the other two hear of the value through invalidation and read it from Redis.`,
      ],
    };
  } finally {
    await Promise.all(instances.map((instance) => instance.stop()));
  }
}
