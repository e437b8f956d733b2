// Installs the Nest packages of one major into .build/nest<major>/node_modules, for what runs against the
// major the dev dependencies do not hold: the e2e pass of .ci/run (vitest's NEST_PACKAGES_DIR) and the
// consumer tests of the packed package. Does nothing when that set is installed already.
//
//   node scripts/install-nest.mjs 11     prints the node_modules folder
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The packages of each major: the ones vitest.config.mts aliases, and the peers they share with lib. */
export const NEST_SETS = {
  11: {
    '@nestjs/common': '^11.0.0',
    '@nestjs/core': '^11.0.0',
    '@nestjs/testing': '^11.0.0',
    '@nestjs/platform-express': '^11.0.0',
    '@nestjs/platform-fastify': '^11.0.0',
    '@nestjs/cache-manager': '^3.0.0',
    // Terminus 11 is CommonJS, as Nest 11 is; 12 (ES modules only) supports Nest 11 too.
    '@nestjs/terminus': '^11.0.0',
    'reflect-metadata': '^0.2.0',
    rxjs: '^7.8.0',
  },
  12: {
    '@nestjs/common': '^12.0.0',
    '@nestjs/core': '^12.0.0',
    '@nestjs/testing': '^12.0.0',
    '@nestjs/platform-express': '^12.0.0',
    '@nestjs/platform-fastify': '^12.0.0',
    '@nestjs/cache-manager': '^12.0.0',
    '@nestjs/terminus': '^12.0.0',
    'reflect-metadata': '^0.2.0',
    rxjs: '^7.8.0',
  },
};

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Installs the set of `major` unless it is there, and returns its node_modules folder. */
export function installNest(major) {
  const dependencies = NEST_SETS[major];
  if (dependencies === undefined) throw new Error(`No Nest set for major ${major}: scripts/install-nest.mjs knows ${Object.keys(NEST_SETS).join(', ')}.`);
  const folder = join(ROOT, '.build', `nest${major}`);
  const manifest = `${JSON.stringify({ private: true, dependencies }, null, 2)}\n`;
  const manifestPath = join(folder, 'package.json');
  const installed =
    existsSync(manifestPath) &&
    readFileSync(manifestPath, 'utf8') === manifest &&
    Object.keys(dependencies).every((name) => existsSync(join(folder, 'node_modules', name, 'package.json')));
  if (!installed) {
    mkdirSync(folder, { recursive: true });
    writeFileSync(manifestPath, manifest);
    // stdout carries the folder for callers; npm's report goes to stderr.
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: folder, stdio: ['ignore', process.stderr, 'inherit'] });
  }
  return join(folder, 'node_modules');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(installNest(process.argv[2]));
