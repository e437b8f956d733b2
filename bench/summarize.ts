import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { summarizeMachine, summarizePackages } from './environment/machine';
import { httpTable, scenarioTable } from './report/markdown';
import { type RunReport, targetsAcrossRuns, targetsMetInAll } from './report/runs';

/**
 * The README's "One run" section from full runs of one commit: `node .build/bench/bench/summarize.js
 * bench/results/A.json bench/results/B.json bench/results/C.json`. The targets table gives every run and the
 * worst; the detailed tables are those of the middle run.
 */
function main(): void {
  const files = process.argv.slice(2);
  if (files.length === 0) throw new Error('Give the result files of the runs to summarize, e.g. bench/results/*.json of one commit');
  const runs = files.map((file) => JSON.parse(readFileSync(file, 'utf8')) as RunReport);
  const commits = new Set(runs.map((run) => run.machine.gitCommit));
  if (commits.size > 1) throw new Error(`The runs are of different commits (${[...commits].join(', ')}): compare runs of one commit`);
  const middle = runs[Math.floor((runs.length - 1) / 2)];
  const { met, total } = targetsMetInAll(runs);
  const lines = [
    '### One run',
    '',
    `${runs.length === 1 ? 'One full run' : `${runs.length} full runs`} of commit ${middle.machine.gitCommit}, one after the other on one machine. ${summarizeMachine(middle.machine)}.`,
    `Packages: ${summarizePackages(middle.machine)}. Results: ${files.map((file) => `\`bench/results/${basename(file)}\``).join(', ')}. The targets table gives`,
    `each run and the worst of them; the detailed tables are those of run ${runs.indexOf(middle) + 1}. ${met} of the ${total} targets are met in every run.`,
    '',
    targetsAcrossRuns(runs),
    '',
    ...middle.scenarios.flatMap((scenario) => [scenarioTable(scenario).replace(/^### /, '#### '), '']),
    ...(middle.http === undefined ? [] : [httpTable(middle.http).replace(/^### /, '#### '), '']),
  ];
  console.log(lines.join('\n'));
}

main();
