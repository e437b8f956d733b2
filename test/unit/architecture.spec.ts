import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const LIB = join(__dirname, '..', '..', 'lib');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'([^']+)'/g)].map((m) => m[1]);
}

describe('architecture', () => {
  it('keeps the core (stores, policies, engine, offload, serialization, resilience, chaos kit) free of Nest', () => {
    const core = ['core', 'stores', 'policies', 'offload', 'resilience', 'testing'].flatMap((dir) => filesUnder(join(LIB, dir)));
    const offenders = core.filter((file) => importsOf(file).some((spec) => spec.startsWith('@nestjs/')));
    expect(offenders).toEqual([]);
  });

  it('keeps policies and stores apart: neither imports the other', () => {
    const policies = filesUnder(join(LIB, 'policies')).filter((f) => importsOf(f).some((s) => s.includes('/stores/')));
    const stores = filesUnder(join(LIB, 'stores')).filter((f) => importsOf(f).some((s) => s.includes('/policies/')));
    expect([...policies, ...stores]).toEqual([]);
  });
});
