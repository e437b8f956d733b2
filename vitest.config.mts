import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['lib/**/*.spec.ts', 'test/**/*.spec.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
  // SWC emits decorator metadata, which esbuild (vitest's default transform) does not; Nest DI needs it.
  plugins: [swc.vite({ module: { type: 'es6' } })],
});
