import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BenchContext } from './context';
import { describeMachine, summarizeMachine, summarizePackages } from './environment/machine';
import { connectIoRedis, connectNodeRedis, createRunPrefix, deleteKeysWithPrefix, redisServerVersion } from './environment/redis';
import type { ScenarioResult } from './harness/results';
import { SCENARIO_RESULT_MARK, runScenarioInOwnProcess } from './harness/scenario-process';
import { type HttpResult, runHttpScenario } from './http/http.scenario';
import { type BenchOptions, parseOptions } from './options';
import { createPeers } from './peers';
import { httpTable, scenarioTable, targetsTable } from './report/markdown';
import { SCENARIOS } from './scenarios';
import { createOurCache } from './subjects/our-cache';

const BUILD_ROOT = resolve(__dirname, '..');
const ROOT = resolve(BUILD_ROOT, '..', '..');
const RUN_LIMIT_MS = 15 * 60_000;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const log = (line: string): void => console.log(line);
  if (options.scenarioProcess !== undefined) {
    await runScenarioProcess(options.scenarioProcess, options, log);
    return;
  }
  const watchdog = setTimeout(() => {
    console.error(`The benchmark ran longer than ${RUN_LIMIT_MS / 60_000} minutes and was stopped; its keys expire on their own within ten minutes.`);
    process.exit(2);
  }, RUN_LIMIT_MS);
  watchdog.unref();

  const startedAt = new Date();
  const context = await openContext(options, log);
  const machine = describeMachine(ROOT, await redisServerVersion(context.nodeRedis));
  log(`Machine: ${summarizeMachine(machine)}`);
  log(`Packages: ${summarizePackages(machine)}; commit ${machine.gitCommit}`);
  log(`Rounds: ${options.rounds}${options.quick ? ' (quick)' : ''}; each scenario in a process of its own`);

  const results: ScenarioResult[] = [];
  try {
    for (const scenario of SCENARIOS) {
      if (options.only.length > 0 && !options.only.includes(scenario.id)) continue;
      log(`\n== ${scenario.id}`);
      const result = await runScenarioInOwnProcess(__filename, scenario.id, options, log);
      results.push(result);
      log(`\n${scenarioTable(result)}`);
    }
    let http: HttpResult | undefined;
    if (!options.skipHttp && (options.only.length === 0 || options.only.includes('http'))) {
      log('\n== http');
      http = await runHttpScenario(context, BUILD_ROOT, ROOT);
      log(`\n${httpTable(http)}`);
    }
    log(`\n## Targets\n\n${targetsTable(results)}`);
    const file = writeResults({
      startedAt: startedAt.toISOString(),
      durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
      options,
      machine,
      configurations: { 'nestjs-layered-cache': context.ours.configuration, ...Object.fromEntries(context.peers.map((peer) => [peer.name, peer.configuration])) },
      scenarios: results,
      http,
    });
    log(`\nResults written to ${file}`);
  } finally {
    await closeContext(context);
  }
}

/** The process started for one scenario: runs it with connections of its own and hands its result to the run. */
async function runScenarioProcess(id: string, options: BenchOptions, log: (line: string) => void): Promise<void> {
  const scenario = SCENARIOS.find((candidate) => candidate.id === id);
  if (scenario === undefined) throw new Error(`Unknown scenario "${id}"; the scenarios are ${SCENARIOS.map((candidate) => candidate.id).join(', ')}`);
  const context = await openContext(options, log);
  try {
    const result = await scenario.run(context);
    log(`${SCENARIO_RESULT_MARK}${JSON.stringify(result)}`);
  } finally {
    await closeContext(context);
  }
}

/** Connections, this library and the peers, under a new key prefix. */
async function openContext(options: BenchOptions, log: (line: string) => void): Promise<BenchContext> {
  const prefix = createRunPrefix();
  const nodeRedis = await connectNodeRedis();
  const ioRedis = await connectIoRedis(false);
  const ioRedisPipelined = await connectIoRedis(true);
  const namespace = `${prefix}layered`;
  const ours = await createOurCache(namespace);
  const peers = createPeers(prefix);
  return { prefix, namespace, rounds: options.rounds, quick: options.quick, log, nodeRedis, ioRedis, ioRedisPipelined, ours, peers };
}

/** Closes what `openContext` opened and deletes the keys written under its prefix. */
async function closeContext(context: BenchContext): Promise<void> {
  await context.ours.close();
  await Promise.allSettled(context.peers.map((peer) => peer.close()));
  const deleted = await deleteKeysWithPrefix(context.nodeRedis, context.prefix);
  context.log(`Deleted ${deleted} keys under ${context.prefix}`);
  context.nodeRedis.destroy();
  context.ioRedis.disconnect();
  context.ioRedisPipelined.disconnect();
}

function writeResults(report: { readonly startedAt: string } & Record<string, unknown>): string {
  const directory = join(ROOT, 'bench', 'results');
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `${report.startedAt.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
