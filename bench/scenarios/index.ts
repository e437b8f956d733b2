import type { BenchContext } from '../context';
import type { ScenarioResult } from '../harness/results';
import { runConcurrentReadScenario } from './concurrent-reads.scenario';
import { runConcurrentWriteScenario } from './concurrent-writes.scenario';
import { runDistributedStampedeScenario } from './distributed-stampede.scenario';
import { runHeapScenario } from './heap.scenario';
import { runInvalidationScenario } from './invalidation.scenario';
import { runL1HitScenario } from './l1-hit.scenario';
import { runL2HitScenario } from './l2-hit.scenario';
import { runMetricsScenario } from './metrics.scenario';
import { runStampedeScenario } from './stampede.scenario';
import { runSustainedWriteScenario } from './sustained-writes.scenario';
import { runWriteScenario } from './writes.scenario';

/** A scenario of `npm run bench`. */
export interface Scenario {
  readonly id: string;
  readonly run: (context: BenchContext) => Promise<ScenarioResult>;
}

/** Every scenario, in the order they run. */
export const SCENARIOS: readonly Scenario[] = [
  { id: 'l1-hit', run: runL1HitScenario },
  { id: 'l2-hit', run: runL2HitScenario },
  { id: 'writes', run: runWriteScenario },
  { id: 'sustained-writes', run: runSustainedWriteScenario },
  { id: 'concurrent-reads', run: runConcurrentReadScenario },
  { id: 'concurrent-writes', run: runConcurrentWriteScenario },
  { id: 'stampede', run: runStampedeScenario },
  { id: 'distributed-stampede', run: runDistributedStampedeScenario },
  { id: 'invalidation', run: runInvalidationScenario },
  { id: 'heap', run: runHeapScenario },
  { id: 'metrics', run: runMetricsScenario },
];
