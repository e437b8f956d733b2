import { join } from 'node:path';
import type { BenchContext } from '../context';
import { REDIS_URL } from '../environment/redis';
import { median } from '../harness/statistics';
import { type Finished, runNode, startNode, stop } from './processes';

/** One endpoint's figures: medians over the rounds of autocannon's averages and percentiles. */
export interface HttpEndpointResult {
  readonly label: string;
  readonly path: string;
  readonly requestsPerSecond: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly errors: number;
  readonly non2xx: number;
}

/** The HTTP figure: autocannon against the sample app, cached versus uncached endpoint. */
export interface HttpResult {
  readonly connections: number;
  readonly durationSeconds: number;
  readonly rounds: number;
  readonly endpoints: readonly HttpEndpointResult[];
  /** Requests per second of the cached endpoint ÷ those of the uncached one, median over rounds. */
  readonly cachedOverUncached: number;
}

interface AutocannonJson {
  readonly requests: { readonly average: number };
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly errors: number;
  readonly non2xx: number;
}

const ENDPOINTS = [
  { label: 'cached: GET /products/1 (@Cacheable service method, L1 hit)', path: '/products/1' },
  { label: 'uncached: GET /products/1/uncached (repository, about 50 ms)', path: '/products/1/uncached' },
  { label: 'no cache, no I/O: GET /cache/stats', path: '/cache/stats' },
] as const;
const CONNECTIONS = 32;

/**
 * Starts the sample app (L1 + Redis, namespace under the run prefix) in its own process and runs
 * autocannon in another against each endpoint, interleaved over the rounds.
 */
export async function runHttpScenario(context: BenchContext, buildRoot: string, root: string): Promise<HttpResult> {
  const durationSeconds = context.quick ? 2 : 5;
  const rounds = context.quick ? 1 : 2;
  const server = join(buildRoot, 'bench', 'http', 'sample-app-server.js');
  const autocannon = join(root, 'node_modules', 'autocannon', 'autocannon.js');
  const { child, firstLine } = await startNode(server, { BENCH_NAMESPACE: `${context.prefix}sample-app`, REDIS_URL }, 30_000);
  try {
    const { port } = JSON.parse(firstLine) as { port: number };
    const base = `http://127.0.0.1:${port}`;
    const load = (path: string, seconds: number): Promise<Finished> =>
      runNode(autocannon, ['--json', '-c', String(CONNECTIONS), '-d', String(seconds), `${base}${path}`], (seconds + 30) * 1000);
    // Warm-up, not recorded: fills the cache and lets the JIT compile both paths.
    for (const endpoint of ENDPOINTS) await load(endpoint.path, 1);
    const runs = ENDPOINTS.map((): AutocannonJson[] => []);
    for (let round = 0; round < rounds; round++) {
      for (let offset = 0; offset < ENDPOINTS.length; offset++) {
        const index = (round + offset) % ENDPOINTS.length;
        const finished = await load(ENDPOINTS[index].path, durationSeconds);
        if (finished.code !== 0) throw new Error(`autocannon failed: ${finished.stderr}`);
        runs[index].push(JSON.parse(finished.stdout) as AutocannonJson);
      }
      context.log(`    pass ${round + 1}/${rounds} done`);
    }
    const endpoints = ENDPOINTS.map((endpoint, index): HttpEndpointResult => ({
      ...endpoint,
      requestsPerSecond: median(runs[index].map((run) => run.requests.average)),
      latencyP50Ms: median(runs[index].map((run) => run.latency.p50)),
      latencyP99Ms: median(runs[index].map((run) => run.latency.p99)),
      errors: runs[index].reduce((sum, run) => sum + run.errors, 0),
      non2xx: runs[index].reduce((sum, run) => sum + run.non2xx, 0),
    }));
    const cachedOverUncached = median(runs[0].map((run, round) => run.requests.average / runs[1][round].requests.average));
    return { connections: CONNECTIONS, durationSeconds, rounds, endpoints, cachedOverUncached };
  } finally {
    await stop(child, 10_000);
  }
}
