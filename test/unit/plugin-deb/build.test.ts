import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiVersion } from '@taskqueue/plugin-api';
import { afterAll, describe, expect, it } from 'vitest';
import { type ErrorCode, hasCode } from '../../../src/common/errors.js';
import { buildPluginDeb } from '../../../src/plugin-deb/build.js';

const work = mkdtempSync(join(tmpdir(), 'tq-plugin-deb-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const PLUGIN = {
  name: 'taskqueue-plugin-ocr',
  version: '1.2.0',
  type: 'module',
  author: 'A Developer <dev@example.org>',
  exports: './index.js',
  taskqueue: { api: '^1.0.0' },
};
const INDEX =
  "import { BaseWorker } from '@taskqueue/plugin-api';\nexport default class extends BaseWorker {}\n";

let made = 0;
/** An npm tarball (package/… in a gzip'd tar) holding `files`. */
function tarball(files: Record<string, string>, modes: Record<string, number> = {}): string {
  const dir = join(work, `src-${++made}`);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, 'package', name, '..'), { recursive: true });
    writeFileSync(join(dir, 'package', name), text);
    if (modes[name] !== undefined) chmodSync(join(dir, 'package', name), modes[name]);
  }
  const file = join(work, `plugin-${made}.tgz`);
  execFileSync('tar', ['-czf', file, '-C', dir, 'package']);
  return file;
}

function refusal(file: string): unknown {
  try {
    buildPluginDeb({
      tarball: file,
      outDir: join(work, 'out'),
      revision: '1',
      maintainer: undefined,
    });
  } catch (err) {
    return err;
  }
  throw new Error('built a package of a tarball that should be refused');
}

const refusedWith = (err: unknown, code: ErrorCode) => expect(hasCode(err, code)).toBe(true);

describe('taskqueue-plugin-deb refuses what the pool would not run', () => {
  it('a file that is not a gzip tar', () => {
    const file = join(work, 'not-a-tarball.tgz');
    writeFileSync(file, 'hello');
    refusedWith(refusal(file), 'TQ_ERR_PLUGIN_DEB_INPUT');
  });

  it('an npm package that is not a plugin', () => {
    const file = tarball({
      'package.json': JSON.stringify({ ...PLUGIN, name: 'left-pad' }),
      'index.js': INDEX,
    });
    const err = refusal(file);
    refusedWith(err, 'TQ_ERR_PLUGIN_DEB_INPUT');
    expect((err as Error).message).toContain('taskqueue-plugin-<type>');
  });

  it('a tarball without package.json', () => {
    refusedWith(refusal(tarball({ 'index.js': INDEX })), 'TQ_ERR_PLUGIN_DEB_INPUT');
  });

  it('a plugin that declares no API range', () => {
    const { taskqueue: _, ...manifest } = PLUGIN;
    const file = tarball({ 'package.json': JSON.stringify(manifest), 'index.js': INDEX });
    refusedWith(refusal(file), 'TQ_ERR_PLUGIN_DEB_INPUT');
  });

  it('a plugin whose entry module is not in the tarball (not built)', () => {
    const file = tarball({
      'package.json': JSON.stringify({ ...PLUGIN, exports: './dist/index.js' }),
    });
    const err = refusal(file);
    refusedWith(err, 'TQ_ERR_PLUGIN_DEB_INPUT');
    expect((err as Error).message).toContain('dist/index.js');
  });

  it('a plugin that needs another plugin API, naming both versions', () => {
    const manifest = { ...PLUGIN, version: '2.0.0', taskqueue: { api: '^2.0.0' } };
    const err = refusal(tarball({ 'package.json': JSON.stringify(manifest), 'index.js': INDEX }));
    refusedWith(err, 'TQ_ERR_PLUGIN_API');
    expect((err as Error).message).toContain(
      `taskqueue-plugin-ocr@2.0.0 needs plugin API ^2.0.0; this host provides ${apiVersion}`,
    );
  });

  it('a plugin with native code', () => {
    const file = tarball({
      'package.json': JSON.stringify(PLUGIN),
      'index.js': INDEX,
      'build/Release/addon.node': 'ELF',
    });
    refusedWith(refusal(file), 'TQ_ERR_PLUGIN_DEB_INPUT');
  });
});

describe('taskqueue-plugin-deb builds', () => {
  it('a package under the Debian plugin path, root-owned, nothing writable by others', () => {
    // The modes the tarball brings do not survive: no file is group- or world-writable.
    const file = tarball(
      { 'package.json': JSON.stringify(PLUGIN), 'index.js': INDEX, 'bin/tool.js': '#!/bin/sh\n' },
      { 'index.js': 0o666, 'bin/tool.js': 0o777 },
    );
    const out = join(work, 'built');
    const built = buildPluginDeb({
      tarball: file,
      outDir: out,
      revision: '3',
      maintainer: undefined,
    });

    expect(built.debFile).toBe(join(out, 'taskqueue-plugin-ocr_1.2.0-3_all.deb'));
    const field = (name: string) =>
      execFileSync('dpkg-deb', ['--field', built.debFile, name], { encoding: 'utf8' }).trim();
    expect(field('Depends')).toBe('taskqueue-common (>= 0.1.0), nodejs (>= 20.19)');
    expect(field('Architecture')).toBe('all');
    expect(field('Maintainer')).toBe('A Developer <dev@example.org>');
    const listing = execFileSync('dpkg-deb', ['--contents', built.debFile], { encoding: 'utf8' });
    expect(listing).toMatch(
      /^-rw-r--r-- root\/root .* \.\/usr\/lib\/taskqueue\/plugins\/node_modules\/taskqueue-plugin-ocr\/index\.js$/m,
    );
    expect(listing).toMatch(/^-rwxr-xr-x root\/root .*\/bin\/tool\.js$/m);
    // Debian policy's two files of every package.
    expect(listing).toMatch(/ \.\/usr\/share\/doc\/taskqueue-plugin-ocr\/copyright$/m);
    expect(listing).toMatch(/ \.\/usr\/share\/doc\/taskqueue-plugin-ocr\/changelog\.Debian\.gz$/m);
    for (const line of listing.trim().split('\n')) {
      expect(line).toMatch(/^[-d]rw[-x]r-[-x]r-[-x] root\/root /);
    }
  });
});
