import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// NEST_PACKAGES_DIR points at another node_modules to run the suite against that Nest major: the dev
// dependencies hold Nest 12, and .ci/run runs the e2e suite again on the Nest 11 set that
// `node scripts/install-nest.mjs 11` installs into .build/nest11/node_modules. The peer range promises both.
const nestPackagesDir = process.env.NEST_PACKAGES_DIR ? resolve(process.env.NEST_PACKAGES_DIR) : undefined;
const NEST_PACKAGES = ['common', 'core', 'testing', 'platform-express', 'platform-fastify', 'cache-manager', 'terminus'];

/** Sends every import of a Nest package to its copy in `dir`, entry points resolved as Node resolves them. */
function nestAliases(dir: string) {
  const resolveFrom = createRequire(join(dir, '..', 'package.json'));
  const entry = (name: string) => {
    try {
      return resolveFrom.resolve(`@nestjs/${name}`);
    } catch {
      throw new Error(`NEST_PACKAGES_DIR=${dir} holds no @nestjs/${name}: install the whole set (node scripts/install-nest.mjs <major>), or the suite would mix two Nest majors.`);
    }
  };
  return [
    // One rxjs for the tests, lib and that Nest, as an application has one: with two copies, an @Sse route
    // behind an interceptor sends events without their data on Nest 11.
    { find: /^rxjs$/, replacement: resolveFrom.resolve('rxjs') },
    { find: /^rxjs\/operators$/, replacement: resolveFrom.resolve('rxjs/operators') },
    ...NEST_PACKAGES.map((name) => ({ find: new RegExp(`^@nestjs/${name}$`), replacement: entry(name) })),
    { find: new RegExp(`^@nestjs/(${NEST_PACKAGES.join('|')})/(.+\\.json)$`), replacement: `${dir}/@nestjs/$1/$2` },
    { find: new RegExp(`^@nestjs/(${NEST_PACKAGES.join('|')})/(.+?)(\\.js)?$`), replacement: `${dir}/@nestjs/$1/$2.js` },
  ];
}

export default defineConfig({
  test: {
    include: ['lib/**/*.spec.ts', 'test/**/*.spec.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
  resolve: nestPackagesDir ? { alias: nestAliases(nestPackagesDir) } : undefined,
  // SWC emits decorator metadata, which esbuild (vitest's default transform) does not; Nest DI needs it.
  // unplugin-swc reads only .ts/.mts as TypeScript by default; lib/ also has .cts files (CommonJS in both builds).
  plugins: [swc.vite({ include: /\.[cm]?tsx?$/, jsc: { parser: { syntax: 'typescript' } }, module: { type: 'es6' } })],
});
