import { PEER_NAMES } from '../harness/candidate';
import type { HttpResult } from '../http/http.scenario';
import type { Ratio, ResultRow, ScenarioResult, TargetResult } from '../harness/results';
import { formatRatio, formatValue } from './format';

const ORIENTATION: Record<ScenarioResult['metric'], string> = {
  latency: 'ratios are time ÷ reference, lower is better',
  throughput: 'ratios are throughput ÷ reference, higher is better',
  size: 'ratios are bytes ÷ reference, lower is better',
};

/** One scenario as a Markdown table: median and p99 of every row, each as a ratio to every floor and peer. */
export function scenarioTable(result: ScenarioResult): string {
  const peers = PEER_NAMES.filter((peer) => result.rows.some((row) => row.vsPeers[peer] !== undefined));
  const extras = [...new Set(result.rows.flatMap((row) => Object.keys(row.extra ?? {})))];
  // A size is one figure per round: there is no distribution to take a p99 of.
  const withP99 = result.metric !== 'size';
  const header = ['', 'median', ...(withP99 ? ['p99'] : []), ...extras, ...result.floors.map((floor) => `vs ${floor}`), ...peers.map((peer) => `vs ${peer}`)];
  const cell = (ratio: Ratio | undefined): string => (ratio === undefined ? '' : withP99 ? `${formatRatio(ratio.p50)} / ${formatRatio(ratio.p99)}` : formatRatio(ratio.p50));
  const lines = [
    `### ${result.title} (${result.unit}; ${ORIENTATION[result.metric]}${withP99 ? '; each ratio cell is median / p99' : ''})`,
    '',
    row(header),
    row(header.map(() => '---')),
    ...result.rows.map((entry) =>
      row([
        label(entry),
        formatValue(entry.p50, result.metric),
        ...(withP99 ? [formatValue(entry.p99, result.metric)] : []),
        ...extras.map((name) => String(entry.extra?.[name] ?? '')),
        ...result.floors.map((floor) => cell(entry.vsFloors[floor])),
        ...peers.map((peer) => cell(entry.vsPeers[peer])),
      ]),
    ),
  ];
  if (result.notes.length > 0) lines.push('', ...result.notes.map((note) => `- ${note}`));
  return lines.join('\n');
}

/** Every target of the run with its measured value and whether it was met. */
export function targetsTable(results: readonly ScenarioResult[]): string {
  const targets = results.flatMap((result) => result.targets.map((target) => ({ scenario: result.title, target })));
  return [
    row(['scenario', 'target', 'measured', 'limit', 'result']),
    row(['---', '---', '---', '---', '---']),
    ...targets.map(({ scenario, target }) => row([scenario, target.description, formatMeasured(target), `${target.comparison} ${formatMeasured({ ...target, measured: target.limit })}`, target.met ? 'met' : '**missed**'])),
  ].join('\n');
}

function formatMeasured(target: TargetResult): string {
  if (target.unit !== undefined) return `${target.measured.toFixed(2)} ${target.unit}`;
  return target.comparison === 'exactly' ? String(target.measured) : formatRatio(target.measured);
}

function label(entry: ResultRow): string {
  return entry.role === 'floor' ? `floor: ${entry.name}` : entry.role === 'subject' ? `**${entry.name}**` : entry.name;
}

function row(cells: readonly string[]): string {
  return `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
}

/** The HTTP figure as a Markdown table. */
export function httpTable(result: HttpResult): string {
  return [
    `### HTTP: autocannon, ${result.connections} connections, ${result.durationSeconds} s per run, ${result.rounds} interleaved round(s)`,
    '',
    row(['endpoint', 'requests/s', 'latency p50', 'latency p99', 'errors / non-2xx']),
    row(['---', '---', '---', '---', '---']),
    ...result.endpoints.map((endpoint) =>
      row([endpoint.label, String(Math.round(endpoint.requestsPerSecond)), `${endpoint.latencyP50Ms} ms`, `${endpoint.latencyP99Ms} ms`, `${endpoint.errors} / ${endpoint.non2xx}`]),
    ),
    '',
    `Cached ÷ uncached requests per second: ${formatRatio(result.cachedOverUncached)}.`,
  ].join('\n');
}
