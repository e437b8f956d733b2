import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type PackedPackage, packedPackage } from '../support/packed-package';

/*
 * What `npm pack` ships: a CommonJS build in dist/cjs and an ES module build in dist/esm, each marked with its
 * module type, with declarations and source maps that resolve (each map is shipped and carries its sources,
 * which the package does not), the README and the LICENSE.
 */

/** Every file path an exports map names, conditions and nesting unfolded. */
function targetsOf(entry: unknown): string[] {
  if (typeof entry === 'string') return [entry];
  if (entry === null || typeof entry !== 'object') return [];
  return Object.values(entry).flatMap(targetsOf);
}

describe('the published package', () => {
  let packed: PackedPackage;
  const read = (path: string) => readFileSync(join(packed.folder, path), 'utf8');
  beforeAll(async () => {
    packed = await packedPackage();
  }, 180_000);

  it('ships a CommonJS and an ES module build, each folder marked with its module type', () => {
    expect(JSON.parse(read('dist/cjs/package.json'))).toEqual({ type: 'commonjs' });
    expect(JSON.parse(read('dist/esm/package.json'))).toEqual({ type: 'module' });
    expect(read('dist/cjs/index.js')).toMatch(/require\("\.\/nest\/layered-cache\.module\.js"\)/);
    expect(read('dist/esm/index.js')).toMatch(/from '\.\/nest\/layered-cache\.module\.js'/);
  });

  it('ships every file its exports map names', () => {
    const targets = targetsOf(packed.manifest.exports).map((target) => target.replace(/^\.\//, ''));
    expect(targets.length).toBeGreaterThan(0);
    expect(targets.filter((target) => !packed.files.includes(target))).toEqual([]);
  });

  it('ships only the builds, their declarations and maps, the README and the LICENSE', () => {
    const unexpected = packed.files.filter(
      (path) => !/^dist\/(cjs|esm)\/.+\.(js|cjs|js\.map|cjs\.map|d\.ts|d\.cts)$/.test(path) && !/^dist\/(cjs|esm)\/package\.json$/.test(path) && !['package.json', 'README.md', 'LICENSE'].includes(path),
    );
    expect(unexpected).toEqual([]);
    expect(packed.files.some((path) => path.endsWith('.spec.js'))).toBe(false);
  });

  it('ships every source map its JavaScript points to, each with the sources it maps', () => {
    const scripts = packed.files.filter((path) => /\.c?js$/.test(path));
    expect(scripts.length).toBeGreaterThan(40);
    for (const script of scripts) {
      const reference = /\/\/# sourceMappingURL=(.+)$/m.exec(read(script))?.[1];
      expect(reference, `${script} names its source map`).toBeDefined();
      const map = join(script, '..', reference ?? '');
      expect(packed.files, `${script} points to a map that is shipped`).toContain(map);
      const parsed = JSON.parse(read(map)) as { sources: string[]; sourcesContent?: (string | null)[] };
      expect(parsed.sourcesContent?.length, `${map} carries its sources`).toBe(parsed.sources.length);
      expect(parsed.sourcesContent?.every((content) => typeof content === 'string' && content.length > 0)).toBe(true);
    }
  });

  it('ships its LICENSE and declares no side effects', () => {
    expect(packed.files).toContain('LICENSE');
    expect(read('LICENSE')).toMatch(/^MIT License/);
    expect(packed.manifest.license).toBe('MIT');
    expect(packed.manifest.sideEffects).toBe(false);
  });
});
