import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const LIB = join(__dirname, '..', '..', 'lib');
/** Peer dependencies the root entry must load without: each is needed only by a subpath entry. */
const OPTIONAL_PEERS = ['@nestjs/terminus', '@opentelemetry/'];

function importsOf(file: string): string[] {
  // Type-only imports leave nothing behind in the JavaScript.
  return [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)(?!\s+type\b)[^;]*?from\s*'([^']+)'/gm)].map((match) => match[1]);
}

/** Every package the JavaScript of `entry` loads, following its relative imports. */
function packagesLoadedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) {
        packages.add(spec);
        continue;
      }
      const target = resolve(dirname(file), spec);
      // `./x.js` is x.ts, `./x.cjs` is x.cts (CommonJS in both builds), `./folder/index.js` a folder's index.
      const source = target.endsWith('.cjs') ? target.replace(/\.cjs$/, '.cts') : target.replace(/\.js$/, '.ts');
      visit(existsSync(source) ? source : join(target, 'index.ts'));
    }
  };
  visit(entry);
  return packages;
}

describe('optional peer dependencies', () => {
  it('keeps @nestjs/terminus and @opentelemetry out of what the root entry loads', () => {
    const loaded = [...packagesLoadedBy(join(LIB, 'index.ts'))];
    expect(loaded.filter((name) => OPTIONAL_PEERS.some((peer) => name.startsWith(peer)))).toEqual([]);
    expect(loaded).toContain('@nestjs/common');
  });

  it('loads each optional peer from its own subpath entry only', () => {
    expect([...packagesLoadedBy(join(LIB, 'nest', 'health', 'index.ts'))]).toContain('@nestjs/terminus');
    expect([...packagesLoadedBy(join(LIB, 'telemetry', 'index.ts'))]).toContain('@opentelemetry/api');
  });
});
