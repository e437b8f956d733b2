import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository's root folder. */
export const ROOT = join(__dirname, '..', '..');

/** What goes into the tarball: a change to any of these is a new package. */
const INPUTS = ['lib', 'scripts/build.mjs', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.build.esm.json', 'README.md', 'LICENSE', 'node_modules/typescript/package.json'];

/** The package.json fields the package specs read. */
export interface PackedManifest {
  readonly name: string;
  readonly license?: string;
  readonly sideEffects?: unknown;
  readonly exports: Record<string, unknown>;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

/** The package as `npm pack` makes it from the current sources. */
export interface PackedPackage {
  /** The .tgz file. */
  readonly tarball: string;
  /** The folder that was packed: what the tarball holds, unpacked. */
  readonly folder: string;
  /** The paths inside the tarball, as npm lists them. */
  readonly files: readonly string[];
  readonly manifest: PackedManifest;
}

function filesUnder(path: string): string[] {
  return statSync(path).isDirectory() ? readdirSync(path).sort().flatMap((name) => filesUnder(join(path, name))) : [path];
}

function inputsHash(): string {
  const hash = createHash('sha256');
  for (const file of INPUTS.flatMap((input) => filesUnder(join(ROOT, input)))) hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/** Drops builds of earlier sources (a day old or more), so that .build/packed does not grow with every change. */
function removeOldBuilds(cache: string): void {
  const dayAgo = Date.now() - 24 * 60 * 60 * 1000;
  for (const name of readdirSync(cache)) {
    const path = join(cache, name);
    if (statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
  }
}

function load(folder: string): PackedPackage {
  const [packed] = JSON.parse(readFileSync(join(folder, 'pack.json'), 'utf8')) as { filename: string; files: { path: string }[] }[];
  return {
    tarball: join(folder, packed.filename),
    folder: join(folder, 'package'),
    files: packed.files.map((file) => file.path),
    manifest: JSON.parse(readFileSync(join(folder, 'package', 'package.json'), 'utf8')) as PackedManifest,
  };
}

/**
 * Builds the package with `scripts/build.mjs --out` (the repository's dist/ is left alone) and packs it, once
 * per content of its sources: the result is kept under .build/packed, so the specs that inspect or install
 * the package share one build (a spec that finds another one building waits for it), and a run after a
 * change of lib/ builds afresh.
 */
export async function packedPackage(): Promise<PackedPackage> {
  const cache = join(ROOT, '.build', 'packed');
  const folder = join(cache, inputsHash());
  const lock = `${folder}.building`;
  mkdirSync(cache, { recursive: true });
  for (;;) {
    if (existsSync(join(folder, 'pack.json'))) return load(folder);
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another spec is building these sources; a lock older than a build can take was left by a killed run.
      const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
      if (since !== undefined && Date.now() - since > 300_000) rmSync(lock, { recursive: true, force: true });
      await sleep(500);
    }
  }
  try {
    removeOldBuilds(cache);
    const scratch = join(lock, 'out');
    await run(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--out', join(scratch, 'package')], { cwd: ROOT });
    const { stdout } = await run('npm', ['pack', join(scratch, 'package'), '--pack-destination', scratch, '--json', '--ignore-scripts', '--offline'], { cwd: scratch });
    writeFileSync(join(scratch, 'pack.json'), stdout);
    renameSync(scratch, folder);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return load(folder);
}
