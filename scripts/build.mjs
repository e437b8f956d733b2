// Builds the package: tsc compiles lib/ twice, to CommonJS in dist/cjs and to ES modules in dist/esm, each
// folder carrying a package.json that names its module type, and package.json's exports map is written from
// ENTRIES below. See docs/packaging.md.
//
//   node scripts/build.mjs              build into dist/ and update package.json (what `npm run build` runs)
//   node scripts/build.mjs --out DIR    build a publishable copy into DIR (dist/, package.json, README, LICENSE),
//                                       refusing if package.json is not what the build would write
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The package's entry points: the subpath users import, and its source under lib/ without the extension.
 * Adding an entry is one line here; the build writes its exports (and typesVersions) entry into package.json.
 */
export const ENTRIES = {
  '.': 'index',
  './testing': 'testing/index',
  './terminus': 'nest/health/index',
  './opentelemetry': 'telemetry/index',
};

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FORMATS = [
  { folder: 'cjs', type: 'commonjs', tsconfig: 'tsconfig.build.json' },
  { folder: 'esm', type: 'module', tsconfig: 'tsconfig.build.esm.json' },
];

/** Where a built file of one format lives, as package.json spells it. */
const built = (folder, source, extension) => `./dist/${folder}/${source}${extension}`;
const target = (folder, source) => ({ types: built(folder, source, '.d.ts'), default: built(folder, source, '.js') });

/**
 * One exports entry. Node >= 20.19 matches `module-sync` for `import` and `require()` alike, so an application
 * loads one copy of the package (the ES build, through require(esm) from CommonJS) and has one LayeredCache
 * class and one set of DI tokens. `import` and `require` serve tools that do not know `module-sync`
 * (bundlers, Jest, TypeScript's type resolution), each with its own declarations.
 */
const exportEntry = (source) => ({
  'module-sync': target('esm', source),
  import: target('esm', source),
  require: target('cjs', source),
});

/** package.json with the exports, main/types (for tools that predate exports) and typesVersions of ENTRIES. */
export function manifestFor(manifest) {
  const unknown = Object.keys(manifest.exports ?? {}).filter((subpath) => subpath !== './package.json' && !(subpath in ENTRIES));
  if (unknown.length > 0) {
    throw new Error(
      `package.json exports ${unknown.join(', ')}, which scripts/build.mjs does not build. Add each to ENTRIES there ` +
        `(for example '${unknown[0]}': 'folder/index') and run npm run build, which writes the exports map.`,
    );
  }
  const exports = Object.fromEntries(Object.entries(ENTRIES).map(([subpath, source]) => [subpath, exportEntry(source)]));
  exports['./package.json'] = './package.json';
  // TypeScript's node10 resolution (`"module": "commonjs"` without moduleResolution) ignores exports.
  const subpaths = Object.entries(ENTRIES).filter(([subpath]) => subpath !== '.');
  const typesVersions = { '*': Object.fromEntries(subpaths.map(([subpath, source]) => [subpath.slice(2), [built('cjs', source, '.d.ts')]])) };
  return { ...manifest, main: built('cjs', ENTRIES['.'], '.js'), types: built('cjs', ENTRIES['.'], '.d.ts'), exports, typesVersions };
}

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const writeJson = (path, value) => writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);

async function build(outRoot) {
  const manifestPath = join(ROOT, 'package.json');
  const current = readJson(manifestPath);
  const manifest = manifestFor(current);
  const inSync = JSON.stringify(manifest) === JSON.stringify(current);
  if (outRoot !== ROOT && !inSync) {
    throw new Error('package.json does not hold the exports map of scripts/build.mjs ENTRIES: run npm run build and commit package.json.');
  }

  const dist = join(outRoot, 'dist');
  rmSync(dist, { recursive: true, force: true });
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const run = promisify(execFile);
  await Promise.all(
    FORMATS.map(async ({ folder, tsconfig }) => {
      try {
        await run(process.execPath, [tsc, '-p', join(ROOT, tsconfig), '--outDir', join(dist, folder)], { cwd: ROOT });
      } catch (error) {
        throw new Error(`tsc -p ${tsconfig} failed:\n${error.stdout}${error.stderr}`);
      }
    }),
  );
  // The nearest package.json decides how Node and TypeScript read each .js and .d.ts file.
  for (const { folder, type } of FORMATS) writeJson(join(dist, folder, 'package.json'), { type });

  if (outRoot === ROOT) {
    if (!inSync) {
      writeJson(manifestPath, manifest);
      console.log('package.json: exports map updated from scripts/build.mjs ENTRIES; commit it.');
    }
    return;
  }
  writeJson(join(outRoot, 'package.json'), manifest);
  for (const file of ['README.md', 'LICENSE']) copyFileSync(join(ROOT, file), join(outRoot, file));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const outRoot = at === -1 ? ROOT : resolve(process.argv[at + 1]);
  mkdirSync(outRoot, { recursive: true });
  build(outRoot).catch((error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
