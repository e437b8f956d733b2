import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// NEST_PACKAGES_DIR points at another node_modules (e.g. one holding Nest 12) to run the suite against
// that Nest major: the peer range promises both 11 and 12.
const nestPackagesDir = process.env.NEST_PACKAGES_DIR;

/** The @nestjs packages the tests import, aliased to NEST_PACKAGES_DIR. */
const NEST_PACKAGES = ['common', 'core', 'testing', 'platform-express', 'platform-fastify', 'cache-manager', 'terminus'];

/**
 * The file `@nestjs/<name>` loads from `dir`: the `main` of its package.json. Most Nest packages keep
 * their entry at the root (`./index.js`), but @nestjs/cache-manager 12 and @nestjs/terminus ship it as
 * `./dist/index.js`; a package that is not there keeps the root `index.js`, so the import fails naming it.
 */
function nestEntry(dir: string, name: string): string {
  const manifest = join(dir, '@nestjs', name, 'package.json');
  const main = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { main?: unknown }).main : undefined;
  return join(dir, '@nestjs', name, typeof main === 'string' ? main : 'index.js');
}

export default defineConfig({
  test: {
    include: ['lib/**/*.spec.ts', 'test/**/*.spec.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
  resolve: nestPackagesDir
    ? {
        alias: [
          ...NEST_PACKAGES.map((name) => ({ find: new RegExp(`^@nestjs/${name}$`), replacement: nestEntry(nestPackagesDir, name) })),
          // Deep imports (`@nestjs/common/utils/shared.utils`) name files under the package root.
          { find: new RegExp(`^@nestjs/(${NEST_PACKAGES.join('|')})/(.+?)(\\.js)?$`), replacement: `${nestPackagesDir}/@nestjs/$1/$2.js` },
        ],
      }
    : undefined,
  // SWC emits decorator metadata, which esbuild (vitest's default transform) does not; Nest DI needs it.
  plugins: [swc.vite({ module: { type: 'es6' } })],
});
