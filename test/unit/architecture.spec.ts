import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const LIB = join(__dirname, '..', '..', 'lib');

/**
 * The folders of lib/ and what each may import (DESIGN section 1). The inner ring points one way:
 * primitives (core) ← stores, policies, offload ← resilience (which guards a store) and the test kit ←
 * engine ← adapters (other libraries' interfaces over the engine, such as Keyv's) and telemetry (metrics read
 * from the engine); the Nest ring (nest) wires all of it into DI and is the only folder that imports `@nestjs/*`.
 * index.ts, the public entry, may import anything.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  core: [],
  stores: ['core'],
  policies: ['core'],
  offload: ['core'],
  resilience: ['core', 'stores'],
  testing: ['core', 'stores'],
  engine: ['core', 'stores', 'policies', 'offload', 'resilience'],
  adapters: ['core', 'engine'],
  // OpenTelemetry metrics of a cache (the ./opentelemetry subpath), read from the engine's stats.
  telemetry: ['core', 'engine'],
  nest: ['core', 'stores', 'policies', 'offload', 'resilience', 'engine'],
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/(?:from|import\(|require\()\s*'([^']+)'/g)].map((m) => m[1]);
}

/** The top folder of lib/ a file is in (`index` for lib/index.ts). */
function folderOf(file: string): string {
  const [first, second] = relative(LIB, file).split('/');
  return second === undefined ? first.replace(/\.ts$/, '') : first;
}

describe('architecture', () => {
  const files = filesUnder(LIB);

  it('puts every file of lib/ in a folder of the layout', () => {
    const stray = files.map(folderOf).filter((folder) => folder !== 'index' && MAY_IMPORT[folder] === undefined);
    expect(stray).toEqual([]);
  });

  it('imports between folders only in the direction of the layout', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const from = folderOf(file);
      if (from === 'index') continue;
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) continue;
        const to = folderOf(resolve(dirname(file), spec));
        if (to !== from && !MAY_IMPORT[from].includes(to)) wrong.push(`${relative(LIB, file)} imports ${spec} (${from} → ${to})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('keeps @nestjs out of the inner ring', () => {
    const offenders = files.filter((file) => folderOf(file) !== 'nest' && folderOf(file) !== 'index' && importsOf(file).some((spec) => spec.startsWith('@nestjs/')));
    expect(offenders.map((file) => relative(LIB, file))).toEqual([]);
  });
});
