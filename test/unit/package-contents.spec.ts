import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * What `npm pack` ships: the build's JavaScript with source maps that resolve (each map is shipped and
 * carries its sources, which the package does not), the declarations, the README and the LICENSE.
 */

const ROOT = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[]; sideEffects?: unknown; license?: string };

function filesUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(directory, entry.name)) : [join(directory, entry.name)],
  );
}

describe('the published package', () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'layered-cache-build-'));
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out], { cwd: ROOT });
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('ships every source map its JavaScript points to, each with the sources it maps', () => {
    const scripts = filesUnder(out).filter((file) => file.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(20);
    for (const script of scripts) {
      const reference = /\/\/# sourceMappingURL=(.+)$/m.exec(readFileSync(script, 'utf8'))?.[1];
      if (reference === undefined) continue;
      const map = join(script, '..', reference);
      expect(existsSync(map), `${relative(out, script)} points to a map that is not built`).toBe(true);
      const parsed = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      expect(parsed.sourcesContent?.length, `${relative(out, map)} carries its sources`).toBe(parsed.sources.length);
      expect(parsed.sourcesContent?.every((content) => typeof content === 'string' && content.length > 0)).toBe(true);
    }
    expect(manifest.files).toContain('dist/**/*.js.map');
  });

  it('ships its LICENSE and declares no side effects', () => {
    expect(manifest.files).toContain('LICENSE');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(manifest.license).toBe('MIT');
    expect(manifest.sideEffects).toBe(false);
  });
});
