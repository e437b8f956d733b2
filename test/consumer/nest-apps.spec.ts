import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PackedPackage, packedPackage, ROOT } from '../support/packed-package';
import { connectRawRedis, deleteKeys, holdsEntry, type RawRedis, REDIS_URL, uniqueNamespace } from '../support/redis';

/*
 * The packed tarball installed into Nest applications that live outside this repository, each run as its own
 * Node process: a CommonJS app on Nest 11 that requires the package and an ES module app on Nest 12 that
 * imports it (test/consumer/app/main.ts, compiled by tsc as a user's build would). The Nest packages come
 * from the root node_modules for the major the dev dependencies hold, and from .build/nest<major> for the
 * other (scripts/install-nest.mjs installs it there when it is missing).
 */

const run = promisify(execFile);
const ROOT_MODULES = join(ROOT, 'node_modules');

interface EntryReport {
  readonly exports: string[];
  readonly requireLoads: string;
  readonly sameForImportAndRequire: boolean;
}

interface AppReport {
  readonly format: 'commonjs' | 'module';
  readonly nest: string;
  readonly results: unknown[];
  readonly methodCalls: number;
  readonly l1Calls: number;
  readonly fullKey: string;
  readonly ioredisAnswered: boolean;
  readonly testingErrorsAreLayeredCacheErrors: boolean;
  readonly entries: Record<string, EntryReport>;
}

const majorOf = (version: string) => Number(version.split('.')[0]);

/** A node_modules folder that holds the Nest packages of `major`. */
function nestModules(major: number): string {
  const rootVersion = (JSON.parse(readFileSync(join(ROOT_MODULES, '@nestjs', 'core', 'package.json'), 'utf8')) as { version: string }).version;
  if (majorOf(rootVersion) === major) return ROOT_MODULES;
  return execFileSync(process.execPath, [join(ROOT, 'scripts', 'install-nest.mjs'), String(major)], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

/**
 * An application folder with its own node_modules: the unpacked tarball, and links to the packages it and
 * the app need (Nest first from `nest`, the rest from the root). Optional peers that are installed nowhere
 * stay out; an entry that needs one then fails to load.
 */
async function createApp(packed: PackedPackage, type: 'commonjs' | 'module', nest: string): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), `layered-cache-consumer-${type}-`));
  const modules = join(folder, 'node_modules');
  mkdirSync(modules);
  await run('tar', ['-xzf', packed.tarball, '-C', folder]);
  renameSync(join(folder, 'package'), join(modules, 'nestjs-layered-cache'));

  const { dependencies = {}, peerDependencies = {} } = packed.manifest;
  const needed = new Set(['@nestjs/common', '@nestjs/core', 'reflect-metadata', 'rxjs', '@types/node', ...Object.keys(dependencies), ...Object.keys(peerDependencies)]);
  for (const name of needed) {
    const source = [nest, ROOT_MODULES].map((dir) => join(dir, name)).find((dir) => existsSync(join(dir, 'package.json')));
    if (source === undefined) continue;
    mkdirSync(dirname(join(modules, name)), { recursive: true });
    symlinkSync(source, join(modules, name), 'dir');
  }

  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: `consumer-${type}`, private: true, type }));
  writeFileSync(
    join(folder, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        skipLibCheck: true,
        types: ['node'],
        outDir: 'dist',
      },
      files: ['main.ts'],
    }),
  );
  copyFileSync(join(__dirname, 'app', 'main.ts'), join(folder, 'main.ts'));
  try {
    await run(process.execPath, [join(ROOT_MODULES, 'typescript', 'bin', 'tsc'), '-p', folder]);
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    throw new Error(`the ${type} app does not compile against the packed package:\n${stdout}${stderr}`);
  }
  return folder;
}

describe('the packed package in Nest applications', () => {
  let packed: PackedPackage;
  let redis: RawRedis;
  const apps: Record<string, string> = {};
  const namespaces: string[] = [];

  beforeAll(async () => {
    [packed, redis] = await Promise.all([packedPackage(), connectRawRedis()]);
    apps.commonjs = await createApp(packed, 'commonjs', nestModules(11));
    apps.module = await createApp(packed, 'module', nestModules(12));
  }, 300_000);

  afterAll(async () => {
    for (const namespace of namespaces) await deleteKeys(redis, namespace);
    await redis?.quit();
    for (const folder of Object.values(apps)) rmSync(folder, { recursive: true, force: true });
  });

  async function runApp(format: 'commonjs' | 'module', nodeFlags: string[] = []): Promise<{ report: AppReport; stderr: string; namespace: string }> {
    const namespace = uniqueNamespace(`consumer-${format}`);
    namespaces.push(namespace);
    const { stdout, stderr } = await run(process.execPath, [...nodeFlags, join('dist', 'main.js')], {
      cwd: apps[format],
      env: { PATH: process.env.PATH, REDIS_URL, CACHE_NAMESPACE: namespace },
      timeout: 50_000,
    });
    return { report: JSON.parse(stdout) as AppReport, stderr, namespace };
  }

  const subpaths = () => Object.keys(packed.manifest.exports).filter((subpath) => subpath !== './package.json');

  async function expectCachingApp(report: AppReport, namespace: string): Promise<void> {
    expect(report.results).toEqual([
      { sku: 'sku-1', cents: 1999 },
      { sku: 'sku-1', cents: 1999 },
    ]);
    expect(report.methodCalls).toBe(1);
    expect(report.l1Calls).toBeGreaterThan(0);
    expect(report.testingErrorsAreLayeredCacheErrors).toBe(true);
    expect(report.fullKey.startsWith(`${namespace}:`)).toBe(true);
    expect(holdsEntry(await redis.get(report.fullKey))).toBe(true);
    expect(report.ioredisAnswered).toBe(true);
    expect(Object.keys(report.entries).sort()).toEqual(subpaths().sort());
    for (const [subpath, entry] of Object.entries(report.entries)) expect(entry.exports.length, `${subpath} exports names`).toBeGreaterThan(0);
  }

  /** `import()` and `require()` both load the ES module build: one copy of every entry, one set of tokens. */
  function expectOneCopy(report: AppReport): void {
    for (const entry of Object.values(report.entries)) {
      expect(entry.requireLoads).toMatch(/^dist\/esm\//);
      expect(entry.sameForImportAndRequire).toBe(true);
    }
  }

  it.each([
    { format: 'commonjs', nest: 11, title: 'runs in a CommonJS Nest 11 app that requires it, which gets the same single copy as import()' },
    { format: 'module', nest: 12, title: 'runs in an ES module Nest 12 app that imports it, which gets the same single copy as require()' },
  ] as const)('$title', async ({ format, nest }) => {
    const { report, stderr, namespace } = await runApp(format);
    expect(report.format).toBe(format);
    expect(majorOf(report.nest)).toBe(nest);
    await expectCachingApp(report, namespace);
    expectOneCopy(report);
    expect(stderr).toBe('');
  }, 60_000);

  it('runs its CommonJS build where require() cannot load ES modules, and import() then gets a second copy', async () => {
    const { report, stderr, namespace } = await runApp('commonjs', ['--no-experimental-require-module']);
    expect(report.format).toBe('commonjs');
    expect(majorOf(report.nest)).toBe(11);
    await expectCachingApp(report, namespace);
    for (const entry of Object.values(report.entries)) {
      expect(entry.requireLoads).toMatch(/^dist\/cjs\//);
      // The dual-package hazard docs/packaging.md describes: two LayeredCache classes, two sets of tokens.
      expect(entry.sameForImportAndRequire).toBe(false);
    }
    expect(stderr).toBe('');
  }, 60_000);
});
