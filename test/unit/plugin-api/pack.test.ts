import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiVersion } from '@taskqueue/plugin-api';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../support/programs.js';

interface PackEntry {
  name: string;
  version: string;
  files: Array<{ path: string }>;
}

type ExportTarget = string | { types?: string; default?: string };

/**
 * `npm pack` of the API package as a plugin author would get it, from a copy of its sources with
 * no dist/ (the checkout's may be stale or absent): prepack must build it.
 */
describe('npm pack of @taskqueue/plugin-api', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'tq-pack-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const dir = join(scratch, 'src/plugin-api');
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'src/plugin-api'), dir, {
    recursive: true,
    filter: (source) => !source.includes('/dist') && !source.includes('/node_modules'),
  });
  cpSync(join(ROOT, 'tsconfig.base.json'), join(scratch, 'tsconfig.base.json'));
  // Where a checkout has them: typescript for the prepack build, @types/node for its types.
  symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'));

  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts=false'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ) as PackEntry[];
  const files = new Set(packed!.files.map((f) => f.path));
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    version: string;
    exports: Record<string, ExportTarget>;
  };

  it('is version 1.1.0 with a README and package.json', () => {
    expect(packed!.name).toBe('@taskqueue/plugin-api');
    expect(packed!.version).toBe('1.1.0');
    // The host checks plugins' ranges against apiVersion: it must be the version published.
    expect(apiVersion).toBe(packed!.version);
    expect(files).toContain('README.md');
    expect(files).toContain('package.json');
  });

  it('exports ., ./testing and ./engine, each with its JS and .d.ts in the tarball', () => {
    expect(Object.keys(manifest.exports)).toEqual(
      expect.arrayContaining(['.', './testing', './engine']),
    );
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      const targets = typeof target === 'string' ? [target] : [target.types, target.default];
      for (const path of targets) {
        expect(path, `${subpath}`).toBeDefined();
        expect(files, `${subpath} → ${path}`).toContain(path!.replace(/^\.\//, ''));
      }
      if (typeof target !== 'string') expect(target.types).toMatch(/\.d\.ts$/);
    }
  });

  it('ships ESM JavaScript with a declaration beside every module, and no sources or build state', () => {
    const js = [...files].filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThanOrEqual(3);
    for (const file of js) expect(files).toContain(file.replace(/\.js$/, '.d.ts'));
    for (const file of files) {
      expect(file).not.toMatch(/\.ts$(?<!\.d\.ts)|tsbuildinfo|tsconfig|\.map$/);
    }
    const index = readFileSync(join(dir, 'dist/index.js'), 'utf8');
    expect(index).toMatch(/^export (const|class|function) /m);
  });
});
