import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { BenchOptions } from '../options';
import type { ScenarioResult } from './results';

/** Prefix of the line on which a scenario process hands its result to the run. */
export const SCENARIO_RESULT_MARK = 'scenario-result ';

/**
 * Runs one scenario in a Node process of its own (`run.js --scenario-process <id>`), as JMH forks a JVM per
 * benchmark: what one scenario leaves in the process (compiled code shaped by its calls, a heap holding its
 * data) cannot then speed up or slow down the floors or the candidates of the next. Its log lines are passed on.
 */
export function runScenarioInOwnProcess(script: string, id: string, options: BenchOptions, log: (line: string) => void): Promise<ScenarioResult> {
  const args = ['--expose-gc', script, '--scenario-process', id, '--rounds', String(options.rounds), ...(options.quick ? ['--quick'] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let result: ScenarioResult | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith(SCENARIO_RESULT_MARK)) result = JSON.parse(line.slice(SCENARIO_RESULT_MARK.length)) as ScenarioResult;
      else log(line);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 && result !== undefined) resolve(result);
      else reject(new Error(`The ${id} scenario stopped without a result (exit code ${code}); run it alone with --only ${id} to see why`));
    });
  });
}
