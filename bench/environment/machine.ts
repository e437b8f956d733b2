import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';

/** The machine and software a run measured on, recorded next to its figures. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly freeMemoryGiB: number;
  readonly loadAverage: readonly number[];
  readonly os: string;
  readonly node: string;
  readonly v8: string;
  readonly redisServer: string;
  readonly gitCommit: string;
  readonly packages: Readonly<Record<string, string>>;
}

const MEASURED_PACKAGES = [
  'lru-cache',
  'redis',
  'ioredis',
  'bentocache',
  'cache-manager',
  'cacheable',
  'keyv',
  '@keyv/redis',
  '@nestjs/core',
  'mitata',
  'autocannon',
  'typescript',
] as const;

/** Collects the machine description; `redisServer` is passed in because it needs a connection. */
export function describeMachine(root: string, redisServer: string): MachineInfo {
  const processors = cpus();
  return {
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    memoryGiB: round(totalmem() / 2 ** 30),
    freeMemoryGiB: round(freemem() / 2 ** 30),
    loadAverage: loadavg().map(round),
    os: `${platform()} ${release()}`,
    node: process.version,
    v8: process.versions.v8,
    redisServer,
    gitCommit: gitCommit(root),
    packages: Object.fromEntries(MEASURED_PACKAGES.map((name) => [name, installedVersion(root, name)])),
  };
}

/** One line for the console and the README. */
export function summarizeMachine(machine: MachineInfo): string {
  return `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM, ${machine.os}, Node ${machine.node}, Redis ${machine.redisServer}, load average ${machine.loadAverage.join(' ')}`;
}

/** The measured packages and their versions, on one line. */
export function summarizePackages(machine: MachineInfo): string {
  return Object.entries(machine.packages)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
}

function installedVersion(root: string, name: string): string {
  try {
    const manifest = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string };
    return manifest.version ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

function gitCommit(root: string): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim();
    return dirty === '' ? commit : `${commit} (modified)`;
  } catch {
    return 'unknown';
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
