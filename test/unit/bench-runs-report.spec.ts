import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../bench/report/runs';
import { targetsAcrossRuns } from '../../bench/report/runs';
import { atLeast } from '../../bench/harness/results';

function runWith(description: string, measured: number): RunReport {
  return {
    startedAt: '2026-01-01T00:00:00Z',
    machine: {} as RunReport['machine'],
    scenarios: [{ id: 'concurrent-reads', title: '64 concurrent L2 hits', metric: 'throughput', unit: 'ops/s', rounds: 1, floors: [], rows: [], targets: [atLeast(description, measured, 0.8)], notes: [] }],
  };
}

describe('the benchmark summary of several runs', () => {
  it('compares a target across runs whose faster floor differs, also when a floor name has parentheses of its own', () => {
    const table = targetsAcrossRuns([
      runWith('get throughput ÷ the fastest raw client (ioredis (auto-pipelining) GET + JSON.parse), median', 1.1),
      runWith('get throughput ÷ the fastest raw client (ioredis GET + JSON.parse), median', 0.7),
    ]);
    expect(table).toContain("(run 1's floor; each run compares with its own faster floor)");
    expect(table).toMatch(/\| 1\.10× \| 0\.70× \| 0\.70× \| at least 0\.80× \| \*\*missed\*\* \|$/m);
  });

  it('refuses runs whose targets differ in more than the floor', () => {
    expect(() => targetsAcrossRuns([runWith('get throughput ÷ floor (a), median', 1), runWith('set throughput ÷ floor (a), median', 1)])).toThrow(/do not share the target/);
  });
});
