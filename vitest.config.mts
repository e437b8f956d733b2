import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// NEST_PACKAGES_DIR points at another node_modules (e.g. one holding Nest 12) to run the suite against
// that Nest major: the peer range promises both 11 and 12.
const nestPackagesDir = process.env.NEST_PACKAGES_DIR;

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
          { find: /^@nestjs\/(common|core|testing|platform-express|platform-fastify|cache-manager|terminus)$/, replacement: `${nestPackagesDir}/@nestjs/$1/index.js` },
          { find: /^@nestjs\/(common|core|testing|platform-express|platform-fastify|cache-manager|terminus)\/(.+?)(\.js)?$/, replacement: `${nestPackagesDir}/@nestjs/$1/$2.js` },
        ],
      }
    : undefined,
  // SWC emits decorator metadata, which esbuild (vitest's default transform) does not; Nest DI needs it.
  // unplugin-swc reads only .ts/.mts as TypeScript by default; lib/ also has .cts files (CommonJS in both builds).
  plugins: [swc.vite({ include: /\.[cm]?tsx?$/, jsc: { parser: { syntax: 'typescript' } }, module: { type: 'es6' } })],
});
