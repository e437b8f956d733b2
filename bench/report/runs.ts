import type { HttpResult } from '../http/http.scenario';
import type { MachineInfo } from '../environment/machine';
import type { ScenarioResult, TargetResult } from '../harness/results';
import { formatRatio } from './format';

/** What one `npm run bench` wrote to `bench/results/`. */
export interface RunReport {
  readonly startedAt: string;
  readonly machine: MachineInfo;
  readonly scenarios: readonly ScenarioResult[];
  readonly http?: HttpResult;
}

/**
 * Every target of several full runs side by side, with the worst of them: a target counts as met only when
 * it holds in each run. Targets are matched by scenario and position, which every run of one commit shares.
 */
export function targetsAcrossRuns(runs: readonly RunReport[]): string {
  const first = runs[0];
  const header = ['scenario', 'target', ...runs.map((_, index) => `run ${index + 1}`), 'worst', 'limit', `result in all ${runs.length}`];
  const lines = [row(header), row(header.map(() => '---'))];
  for (const [scenarioIndex, scenario] of first.scenarios.entries()) {
    for (const [targetIndex, target] of scenario.targets.entries()) {
      const measured = runs.map((run) => run.scenarios[scenarioIndex]?.targets[targetIndex]);
      // A description names the faster of two floors, which may differ from run to run; the rest must match.
      if (measured.some((each) => each === undefined || withoutFloorNames(each.description) !== withoutFloorNames(target.description))) {
        throw new Error(`The runs do not share the target "${target.description}": compare runs of one commit`);
      }
      const all = measured as TargetResult[];
      const floorsDiffer = all.some((each) => each.description !== target.description);
      const worst = worstOf(all);
      const met = all.every((each) => each.met);
      const description = floorsDiffer ? `${target.description} (run 1's floor; each run compares with its own faster floor)` : target.description;
      lines.push(row([scenario.title, description, ...all.map(formatMeasured), formatMeasured(worst), `${target.comparison} ${formatMeasured({ ...target, measured: target.limit })}`, met ? 'met' : '**missed**']));
    }
  }
  return lines.join('\n');
}

/** How many targets hold in every run, of how many. */
export function targetsMetInAll(runs: readonly RunReport[]): { met: number; total: number } {
  const first = runs[0];
  let met = 0;
  let total = 0;
  for (const [scenarioIndex, scenario] of first.scenarios.entries()) {
    for (const targetIndex of scenario.targets.keys()) {
      total++;
      if (runs.every((run) => run.scenarios[scenarioIndex]?.targets[targetIndex]?.met === true)) met++;
    }
  }
  return { met, total };
}

/** The run's figure furthest on the wrong side of the limit (for "exactly", the first one that differs). */
function worstOf(targets: readonly TargetResult[]): TargetResult {
  const comparison = targets[0].comparison;
  if (comparison === 'exactly') return targets.find((target) => !target.met) ?? targets[0];
  const sign = comparison === 'at most' ? 1 : -1;
  return targets.reduce((worst, target) => (sign * target.measured > sign * worst.measured ? target : worst));
}

function withoutFloorNames(description: string): string {
  // A floor's name may hold parentheses of its own (`ioredis (auto-pipelining) GET`): strip from the innermost out.
  let stripped = description;
  for (let before = ''; stripped !== before; ) {
    before = stripped;
    stripped = stripped.replace(/\([^()]*\)/g, '');
  }
  return stripped;
}

function formatMeasured(target: TargetResult): string {
  if (target.unit !== undefined) return `${target.measured.toFixed(2)} ${target.unit}`;
  return target.comparison === 'exactly' ? String(target.measured) : formatRatio(target.measured);
}

function row(cells: readonly string[]): string {
  return `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
}
